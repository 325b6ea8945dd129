"""``python -m devtools.run``: what ``make run`` does, with the console never running as root.

Root is needed for one thing only, the dev pool's chroot (``manage.py devpool
up``). Everything the browser can reach runs as an unprivileged user, so a flaw
in the console is not a root shell: as root, this hands the data directory and
the dev pool's token to ``CONDORWEB_RUN_AS`` (default ``condorweb``, created by
``make system-deps``) and starts the migrations, the first administrator, the
server and its task queue's worker as that user. As anyone else it runs them
as itself.

Ctrl-C stops the server and the worker and waits for both; if either stops
by itself, the other is stopped too, so no half-console is left running.
"""

from __future__ import annotations

import argparse
import os
import pwd
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
MANAGE = [sys.executable, str(BASE_DIR / "manage.py")]
DEFAULT_USER = "condorweb"
# A small fleet for the slots and drain pages: about 1 s more than none to start (6.4 s against 5.5 s here).
DEV_EXECUTE_NODES = 4


@dataclass(frozen=True)
class RunAs:
    """The unprivileged user the console's processes run as."""

    name: str
    uid: int
    gid: int


def console_user(environ: os._Environ[str] | dict[str, str] = os.environ) -> RunAs | None:
    """Who the console runs as: None (the caller itself) unless the caller is root."""
    if os.geteuid() != 0:
        return None
    name = environ.get("CONDORWEB_RUN_AS", DEFAULT_USER)
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise SystemExit(
            f"condorweb does not run as root, and the user {name!r} it runs as does not exist: "
            f"run `make system-deps` (it creates {DEFAULT_USER!r}) or set CONDORWEB_RUN_AS to an existing user."
        ) from None
    if entry.pw_uid == 0:
        raise SystemExit(f"CONDORWEB_RUN_AS={name} is root; give an unprivileged user.")
    return RunAs(name, entry.pw_uid, entry.pw_gid)


def data_dir(environ: os._Environ[str] | dict[str, str] = os.environ) -> Path:
    """The console's data directory (as condorweb/settings.py reads it, without loading Django as root)."""
    return Path(environ.get("CONDORWEB_DATA_DIR") or BASE_DIR / "var")


# The tutorial's pair (param["SCHEDD.TEST_FOO"], then set_subsystem("SCHEDD")): the console host's page,
# seen as SCHEDD, shows TEST_FOO = bar from SCHEDD.TEST_FOO over TEST_FOO = foo.
CONSOLE_HOST_CONFIG = """\
# Written by condorweb's make run: the console host's own HTCondor configuration (CONDORWEB_LOCAL_CONDOR_CONFIG).
TEST_FOO = foo
SCHEDD.TEST_FOO = bar
"""


def console_host_config(directory: Path, environ: dict[str, str]) -> dict[str, str]:
    """``environ`` with the console host's configuration for make run: the site's own if it names one, else
    a file in ``directory`` with the tutorial's pair."""
    if environ.get("CONDORWEB_LOCAL_CONDOR_CONFIG") or environ.get("CONDOR_CONFIG"):
        return environ
    path = directory / "console-host.condor_config"
    directory.mkdir(parents=True, exist_ok=True)
    path.write_text(CONSOLE_HOST_CONFIG)
    return {**environ, "CONDORWEB_LOCAL_CONDOR_CONFIG": str(path)}


def hand_over(directory: Path, user: RunAs) -> None:
    """Make ``directory`` and everything in it the user's (SQLite's -wal/-shm files appear as their writer's)."""
    directory.mkdir(parents=True, exist_ok=True)
    os.chown(directory, user.uid, user.gid)
    for parent, dirs, files in os.walk(directory):
        for entry in (*dirs, *files):
            os.lchown(os.path.join(parent, entry), user.uid, user.gid)


def spawn(argv: Sequence[str], user: RunAs | None, *, environ: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start ``argv`` as ``user`` (no supplementary groups, HOME in the data directory) or as the caller."""
    env = dict(os.environ if environ is None else environ)
    if user is None:
        return subprocess.Popen(argv, env=env, cwd=BASE_DIR)
    env.update(HOME=str(data_dir(env)), USER=user.name, LOGNAME=user.name)
    try:
        return subprocess.Popen(argv, env=env, cwd=BASE_DIR, user=user.uid, group=user.gid, extra_groups=[])
    except PermissionError as exc:
        raise SystemExit(
            f"{user.name} cannot run {exc.filename}: it lies where only root may look (an interpreter in root's "
            "home, such as pyenv's, or a checkout in it). Rebuild the virtualenv from Debian's python3.11 "
            "(`make clean run` does) in a directory others can read."
        ) from None


def _check(argv: Sequence[str], user: RunAs | None) -> None:
    if spawn(argv, user).wait() != 0:
        raise SystemExit(f"{' '.join(argv[1:])} failed.")


def main(args: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="8000")
    options = parser.parse_args(args)

    user = console_user()
    environ = console_host_config(data_dir(), dict(os.environ))
    if user is not None:
        hand_over(data_dir(), user)
    _check([*MANAGE, "migrate", "--noinput"], user)
    _check([*MANAGE, "ensure_admin"], user)
    # The pool's chroot needs root: run as the caller. A pool that cannot start leaves a console without it.
    owner = ["--token-owner", user.name] if user is not None else []
    nodes = ["--execute-nodes", str(DEV_EXECUTE_NODES)]
    if subprocess.call([*MANAGE, "devpool", "up", *nodes, *owner], cwd=BASE_DIR) != 0:
        print("condorweb: the dev pool did not start; the console runs without it.", file=sys.stderr)
    if user is not None:
        hand_over(data_dir(), user)  # the pool's registration wrote to the database as root

    return run_together(
        [
            spawn([*MANAGE, "worker"], user, environ=environ),
            spawn([*MANAGE, "runserver", f"{options.host}:{options.port}", "--noreload"], user, environ=environ),
        ]
    )


# Seconds a process has to stop after SIGINT (a worker finishes its running jobs) before SIGTERM.
STOP_GRACE = 30.0


def run_together(processes: Sequence[subprocess.Popen[bytes]], *, poll: float = 0.2) -> int:
    """Wait until one of ``processes`` stops, or Ctrl-C; then SIGINT the others and wait for all.

    Returns the exit status of the one that stopped by itself; 0 after Ctrl-C.
    """
    stopped = None
    try:
        while (stopped := next((p for p in processes if p.poll() is not None), None)) is None:
            time.sleep(poll)
    except KeyboardInterrupt:
        pass
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    for process in processes:
        try:
            process.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            # A process started with SIGINT ignored (a background job of a
            # non-interactive shell) never hears it: SIGTERM stops it too.
            process.terminate()
            process.wait()
    return stopped.returncode if stopped is not None else 0


if __name__ == "__main__":
    sys.exit(main())
