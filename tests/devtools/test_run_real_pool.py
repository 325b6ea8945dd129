"""Under ``make run`` nothing the browser reaches runs as root: the server and the pool's tools run as the console's user."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools import devpool, run

pytestmark = [pytest.mark.integration, pytest.mark.skipif(os.geteuid() != 0, reason="changing users needs root")]


@pytest.fixture
def console_user() -> run.RunAs:
    user = run.console_user({})
    assert user is not None, "the tests run as root, so the console has a user of its own"
    return user


@pytest.fixture
def pool_owned_by(real_pool: devpool.DevPool, console_user: run.RunAs) -> Iterator[devpool.DevPool]:
    """The test pool with its token handed to the console's user, as ``make run`` does for the dev pool."""
    root = os.stat(real_pool.token_file)
    yield devpool.up(real_pool.name, real_pool.port, token_owner=(console_user.uid, console_user.gid))
    devpool.up(real_pool.name, real_pool.port, token_owner=(root.st_uid, root.st_gid))


@pytest.fixture
def data_dir(console_user: run.RunAs) -> Iterator[Path]:
    # Not pytest's tmp_path: it lies under a directory only root may enter.
    path = Path(tempfile.mkdtemp(prefix="condorweb-run-"))
    run.hand_over(path, console_user)
    yield path
    shutil.rmtree(path)


def _master_address(pool: devpool.DevPool) -> str:
    return (Path(pool.host_root + pool.log_dir) / ".master_address").read_text().splitlines()[0]


def _as(user: run.RunAs, argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, user=user.uid, group=user.gid, extra_groups=[], env={}, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("tool", "arguments", "expected"),
    [
        ("condor_config_val", ["-dump", "-verbose"], "# Configuration from master"),
        ("condor_fetchlog", ["MASTER"], "** condor_master"),
    ],
)
def test_the_pools_tools_answer_the_console_running_as_its_own_user(
    pool_owned_by: devpool.DevPool, console_user: run.RunAs, tool: str, arguments: list[str], expected: str
) -> None:
    command = str(Path(pool_owned_by.config_val[0]).with_name(tool))
    address = _master_address(pool_owned_by)
    argv = [command, "-address", address, *arguments] if tool == "condor_config_val" else [command, address, *arguments]

    done = _as(console_user, argv)

    assert done.returncode == 0, done.stderr
    assert expected in done.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_server_runs_as_the_console_user_and_serves_the_login_page(console_user: run.RunAs, data_dir: Path) -> None:
    environ = {**os.environ, "CONDORWEB_DATA_DIR": str(data_dir)}
    assert run.spawn([*run.MANAGE, "migrate", "--noinput", "-v0"], console_user, environ=environ).wait(120) == 0
    port = _free_port()
    server = run.spawn([*run.MANAGE, "runserver", f"127.0.0.1:{port}", "--noreload"], console_user, environ=environ)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5) as response:
                    status = response.status
                break
            except OSError:
                assert server.poll() is None, "the server exited"
                assert time.monotonic() < deadline, "the server did not answer within 60 s"
                time.sleep(0.2)
        uid = os.stat(f"/proc/{server.pid}").st_uid
    finally:
        server.terminate()
        server.wait(30)

    assert status == 200
    assert uid == console_user.uid
    assert {path.stat().st_uid for path in data_dir.iterdir()} == {console_user.uid}
