"""``make run`` as root runs the console as an unprivileged user (devtools/run.py)."""

from __future__ import annotations

import os
import pwd
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest

from devtools import run

NOBODY = pwd.getpwnam("nobody")


def _nobody() -> run.RunAs:
    return run.RunAs("nobody", NOBODY.pw_uid, NOBODY.pw_gid)


def _status(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return dict(line.split(":\t", 1) for line in lines if ":\t" in line)


def test_a_caller_who_is_not_root_runs_the_console_as_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)

    assert run.console_user({"CONDORWEB_RUN_AS": "nobody"}) is None


def test_root_runs_the_console_as_the_configured_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)

    assert run.console_user({"CONDORWEB_RUN_AS": "nobody"}) == _nobody()


def test_root_runs_the_console_as_condorweb_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)

    user = run.console_user({})

    assert user is not None and user.name == "condorweb" and user.uid != 0


def test_a_missing_user_stops_the_run_and_says_how_to_create_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)

    with pytest.raises(SystemExit, match="make system-deps"):
        run.console_user({"CONDORWEB_RUN_AS": "no-such-user-here"})


def test_root_is_not_accepted_as_the_user_to_run_as(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)

    with pytest.raises(SystemExit, match="is root"):
        run.console_user({"CONDORWEB_RUN_AS": "root"})


@pytest.mark.skipif(os.geteuid() != 0, reason="changing users needs root")
def test_a_spawned_process_has_the_users_ids_and_none_of_roots_groups() -> None:
    process = run.spawn(["sleep", "30"], _nobody())
    try:
        deadline = time.monotonic() + 5
        while _status(process.pid).get("Name") != "sleep" and time.monotonic() < deadline:
            time.sleep(0.01)
        status = _status(process.pid)
    finally:
        process.kill()
        process.wait()

    assert status["Uid"].split() == [str(NOBODY.pw_uid)] * 4
    assert status["Gid"].split() == [str(NOBODY.pw_gid)] * 4
    assert status["Groups"].split() == []


@pytest.mark.skipif(os.geteuid() != 0, reason="changing owners needs root")
def test_the_data_directory_and_everything_in_it_are_handed_to_the_user(tmp_path: Path) -> None:
    data = tmp_path / "var"
    (data / "logs").mkdir(parents=True)
    (data / "db.sqlite3-wal").write_text("")
    (data / "logs" / "htcondor-client.log").write_text("")
    (data / "link").symlink_to("/etc/hostname")

    run.hand_over(data, _nobody())

    owned = [data, data / "logs", data / "db.sqlite3-wal", data / "logs" / "htcondor-client.log"]
    assert {path.lstat().st_uid for path in [*owned, data / "link"]} == {NOBODY.pw_uid}
    assert Path("/etc/hostname").stat().st_uid == 0, "a symlink's target is not the user's to take"


@pytest.mark.skipif(os.geteuid() != 0, reason="changing users needs root")
def test_an_interpreter_the_user_cannot_reach_is_named_with_the_way_out(tmp_path: Path) -> None:
    hidden = tmp_path / "private"
    hidden.mkdir(mode=0o700)
    (hidden / "python").symlink_to("/bin/true")

    with pytest.raises(SystemExit, match="Rebuild the virtualenv"):
        run.spawn([str(hidden / "python")], _nobody())


def test_the_run_target_is_the_runner() -> None:
    makefile = (run.BASE_DIR / "Makefile").read_text()

    assert "\t$(PY) -m devtools.run --host $(HOST) --port $(PORT)\n" in makefile
    assert "runserver" not in makefile


def _sleeper(seconds: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", f"import time; time.sleep({seconds})"])


def test_the_server_and_the_worker_stop_together_when_one_of_them_stops() -> None:
    lasting, ending = _sleeper(60), subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    assert run.run_together([lasting, ending], poll=0.05) == 3
    assert lasting.returncode is not None


def test_ctrl_c_stops_both_and_waits_for_them(monkeypatch: pytest.MonkeyPatch) -> None:
    processes = [_sleeper(60), _sleeper(60)]

    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    # The runner's own clock only: Popen.wait sleeps through the time module too.
    monkeypatch.setattr(run, "time", types.SimpleNamespace(sleep=interrupted))
    run.run_together(processes)
    assert all(process.returncode is not None for process in processes)


def test_make_run_starts_the_worker_beside_the_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CONDORWEB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CONDORWEB_LOCAL_CONDOR_CONFIG", raising=False)
    monkeypatch.delenv("CONDOR_CONFIG", raising=False)
    started: list[list[str]] = []
    configs: set[str] = set()

    def spawn(argv: list[str], user: object, *, environ: dict[str, str]) -> list[str]:
        started.append([Path(argv[1]).name, *argv[2:]])
        configs.add(environ["CONDORWEB_LOCAL_CONDOR_CONFIG"])
        return argv

    monkeypatch.setattr(run, "console_user", lambda: None)
    monkeypatch.setattr(run, "_check", lambda argv, user: None)
    monkeypatch.setattr(run.subprocess, "call", lambda argv, cwd: 0)
    monkeypatch.setattr(run, "spawn", spawn)
    monkeypatch.setattr(run, "run_together", lambda processes: len(processes))
    assert run.main(["--port", "8123"]) == 2
    assert started == [["manage.py", "worker"], ["manage.py", "runserver", "127.0.0.1:8123", "--noreload"]]
    assert configs == {str(tmp_path / "console-host.condor_config")}


def test_make_run_brings_the_dev_pool_up_with_a_fleet_of_four_execute_nodes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CONDORWEB_DATA_DIR", str(tmp_path))
    called: list[list[str]] = []
    monkeypatch.setattr(run, "console_user", lambda: None)
    monkeypatch.setattr(run, "_check", lambda argv, user: None)
    monkeypatch.setattr(run.subprocess, "call", lambda argv, cwd: called.append(argv[2:]) or 0)
    monkeypatch.setattr(run, "spawn", lambda argv, user, environ: argv)
    monkeypatch.setattr(run, "run_together", lambda processes: 0)

    run.main([])

    assert called == [["devpool", "up", "--execute-nodes", "4"]]


def test_a_process_that_ignores_sigint_is_stopped_with_sigterm(monkeypatch: pytest.MonkeyPatch) -> None:
    deaf = subprocess.Popen(
        [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(60)"]
    )
    time.sleep(0.5)  # its handler in place
    monkeypatch.setattr(run, "STOP_GRACE", 0.5)
    ending = subprocess.Popen([sys.executable, "-c", "pass"])
    assert run.run_together([deaf, ending], poll=0.05) == 0
    assert deaf.returncode == -signal.SIGTERM


def test_make_run_gives_the_console_host_the_tutorials_prefixed_pair(tmp_path: Path) -> None:
    environ = run.console_host_config(tmp_path, {"PATH": "/usr/bin"})
    written = Path(environ["CONDORWEB_LOCAL_CONDOR_CONFIG"]).read_text()
    assert "TEST_FOO = foo" in written and "SCHEDD.TEST_FOO = bar" in written


def test_a_site_that_names_its_own_console_host_configuration_keeps_it(tmp_path: Path) -> None:
    mine = {"CONDORWEB_LOCAL_CONDOR_CONFIG": "/etc/condor/condor_config"}
    assert run.console_host_config(tmp_path, mine) == mine
    assert not (tmp_path / "console-host.condor_config").exists()
