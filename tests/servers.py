"""Real PostgreSQL and Redis servers on loopback, for tests.

``python -m tests.servers run -- CMD ...`` starts one PostgreSQL and one
Redis from Debian's packages in a private temporary directory, on free
loopback ports, runs CMD with ``DATABASE_URL`` and ``REDIS_URL`` pointing at
them, and stops both whatever CMD does (``make test`` runs the database and
channel-layer tests this way). No system service is used or changed. As root,
PostgreSQL runs as the ``postgres`` user that Debian's package creates, since
it refuses to run as root.

Tests marked ``services`` get the servers from the ``real_services`` fixture,
and ``Console`` runs condorweb itself in a daphne process as production does.
Stdlib, psycopg and redis only: nothing here imports Django.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import http.cookiejar
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Self

BASE_DIR = Path(__file__).resolve().parent.parent
POSTGRES_USER = "condorweb"
START_TIMEOUT = 30.0


class ServerUnavailable(RuntimeError):
    """A server could not start here; the message says what to install or fix."""


def child_processes(parent: int) -> dict[int, str]:
    """Live child processes of ``parent``: pid to program name."""
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            ppid = (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
            program = Path((entry / "cmdline").read_bytes().split(b"\0")[0].decode()).name
        except (OSError, IndexError, UnicodeDecodeError):
            continue
        if ppid == str(parent):
            found[int(entry.name)] = program
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class _Server:
    """A server process of ours on a loopback port, its output in a log file."""

    what = "server"
    stop_signal = signal.SIGTERM

    def __init__(self, log: Path) -> None:
        self.log = log
        self.port = 0
        self.process: subprocess.Popen | None = None

    def start(self) -> Self:
        for _ in range(3):
            # A restart keeps the port, so clients configured with the URL find it again.
            self.port = self.port or free_port()
            self._launch()
            if self._wait_ready():
                return self
            self.port = 0  # another process took the port between our probe and the bind
        raise ServerUnavailable(f"{self.what} did not start; its log ends with:\n{_tail(self.log)}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, self.stop_signal)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def _launch(self) -> None:
        raise NotImplementedError

    def _answers(self) -> bool:
        raise NotImplementedError

    def _popen(self, argv: Sequence[str], **options: Any) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True, **options
            )

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                self.process = None
                return False
            if self._answers():
                return True
            time.sleep(0.05)
        self.stop()
        raise ServerUnavailable(f"{self.what} did not answer within {START_TIMEOUT:g} s:\n{_tail(self.log)}")


class Postgres(_Server):
    """One PostgreSQL cluster in ``directory``; ``start`` again after ``stop`` keeps its data."""

    what = "PostgreSQL"
    # PostgreSQL's "fast" shutdown: clients are cut, data is flushed.
    stop_signal = signal.SIGINT

    def __init__(self, directory: Path) -> None:
        super().__init__(directory / "postgres.log")
        self.directory = directory
        self.data = directory / "data"
        self.password = secrets.token_urlsafe(24)
        self._bindir = _postgres_bindir()
        # PostgreSQL will not run as root; Debian's package creates this user.
        self._user = _postgres_run_as()

    def url(self, database: str = "condorweb") -> str:
        return f"postgres://{POSTGRES_USER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def start(self) -> Postgres:
        if not self.data.exists():
            self._initdb()
        return super().start()

    def _initdb(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        password_file = self.directory / "password"
        password_file.write_text(self.password + "\n")
        if self._user:
            shutil.chown(self.directory, self._user, self._user)
            shutil.chown(password_file, self._user, self._user)
        argv = [
            str(self._bindir / "initdb"),
            "--pgdata",
            str(self.data),
            "--username",
            POSTGRES_USER,
            "--pwfile",
            str(password_file),
            "--auth",
            "scram-sha-256",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
            "--no-instructions",
        ]
        result = subprocess.run(
            argv, capture_output=True, text=True, cwd=self.directory, check=False, **self._as_user()
        )
        password_file.unlink()
        if result.returncode != 0:
            hint = (
                f" (the {self._user} user must reach {self.directory}: see CONDORWEB_SERVICES_DIR)"
                if self._user
                else ""
            )
            raise ServerUnavailable(f"initdb failed{hint}: {(result.stderr or result.stdout).strip()}")

    def _launch(self) -> None:
        self._popen(
            [
                str(self._bindir / "postgres"),
                "-D",
                str(self.data),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                # No Unix socket: loopback TCP with a password is the only way in.
                "-c",
                "unix_socket_directories=",
                # Throw-away test data: durability is not worth the fsyncs.
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200",
            ],
            cwd=self.directory,
            **self._as_user(),
        )

    def _answers(self) -> bool:
        import psycopg

        try:
            psycopg.connect(self.url("postgres"), connect_timeout=2).close()
        except psycopg.OperationalError:
            return False
        return True

    def _as_user(self) -> dict[str, Any]:
        if not self._user:
            return {}
        return {"user": self._user, "group": pwd.getpwnam(self._user).pw_gid, "extra_groups": []}


def _postgres_bindir() -> Path:
    """The newest PostgreSQL server binaries: on PATH, else Debian's versioned directories."""
    on_path = shutil.which("postgres")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/postgres"),
        key=lambda p: [int(n) for n in re.findall(r"\d+", p)],
    )
    if not candidates:
        raise ServerUnavailable(
            "PostgreSQL's server is not installed (apt-get install postgresql; scripts/system-deps.sh does it as root)."
        )
    return Path(candidates[-1]).parent


def _postgres_run_as() -> str:
    if os.geteuid() != 0:
        return ""
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise ServerUnavailable(
            "PostgreSQL refuses to run as root and there is no 'postgres' user (Debian's postgresql package creates it)."
        ) from None
    return "postgres"


class Redis(_Server):
    """One Redis server in ``directory``, password-protected, without persistence."""

    what = "Redis"

    def __init__(self, directory: Path) -> None:
        super().__init__(directory / "redis.log")
        self.directory = directory
        self.password = secrets.token_urlsafe(24)
        self._binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not os.access(self._binary, os.X_OK):
            raise ServerUnavailable(
                "redis-server is not installed (apt-get install redis-server; scripts/system-deps.sh does it as root)."
            )

    def url(self, db: int = 0) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/{db}"

    def _launch(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        config = self.directory / "redis.conf"
        # The password goes in a file, not on a command line others can read.
        config.write_text(
            f'bind 127.0.0.1\nport {self.port}\nrequirepass {self.password}\nsave ""\nappendonly no\n'
            f"dir {self.directory}\ndaemonize no\n"
        )
        config.chmod(0o600)
        self._popen([self._binary, str(config)], cwd=self.directory)

    def _answers(self) -> bool:
        import redis

        try:
            with redis.Redis.from_url(self.url(), socket_connect_timeout=1) as client:
                client.ping()
        except redis.exceptions.ConnectionError:
            return False
        return True


class Servers:
    """PostgreSQL and Redis together, in one temporary directory removed on exit."""

    def __init__(self) -> None:
        base = os.environ.get("CONDORWEB_SERVICES_DIR") or None
        self.root = Path(tempfile.mkdtemp(prefix="condorweb-services-", dir=base))
        # The postgres user must be able to reach its own directory inside.
        self.root.chmod(0o711)
        self.postgres: Postgres | None = None
        self.redis: Redis | None = None

    def start(self) -> Servers:
        try:
            self.postgres = Postgres(self.root / "postgres").start()
            create_database(self.postgres.url(), "condorweb")
            self.redis = Redis(self.root / "redis").start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for server in (self.redis, self.postgres):
            if server is not None:
                server.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def endpoints(self) -> Endpoints:
        assert self.postgres and self.redis
        return Endpoints(database_url=self.postgres.url(), redis_url=self.redis.url())

    def __enter__(self) -> Servers:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


@dataclass(frozen=True)
class Endpoints:
    """Where tests find the servers: a PostgreSQL role that may create databases, and Redis."""

    database_url: str
    redis_url: str

    def new_database(self, name: str) -> str:
        """Create an empty database on the same server and return its URL."""
        return create_database(self.database_url, name)

    def drop_database(self, name: str) -> None:
        _admin_execute(self.database_url, "DROP DATABASE IF EXISTS {} WITH (FORCE)", name)

    def redis_db(self, db: int) -> str:
        """The same Redis server, database number ``db``."""
        return _with_path(self.redis_url, str(db))


def _with_path(url: str, name: str) -> str:
    return urllib.parse.urlsplit(url)._replace(path=f"/{name}").geturl()


def create_database(url: str, name: str) -> str:
    """Create database ``name`` on the server of ``url`` and return its URL."""
    _admin_execute(url, "CREATE DATABASE {}", name)
    return _with_path(url, name)


def _admin_execute(url: str, statement: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(_with_path(url, "postgres"), autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL(statement).format(sql.Identifier(name)))


def given_endpoints(environ: Mapping[str, str] = os.environ) -> Endpoints | None:
    """The servers ``run`` started for this process (or any the environment names), if any."""
    database_url = environ.get("DATABASE_URL", "")
    redis_url = environ.get("REDIS_URL", "")
    if database_url.startswith(("postgres://", "postgresql://")) and redis_url:
        return Endpoints(database_url=database_url, redis_url=redis_url)
    return None


# --------------------------------------------------------------------------
# condorweb itself, as production runs it
# --------------------------------------------------------------------------


def production_environment(
    directory: Path, *, database_url: str, redis_url: str, admin_password: str, secret_key: str
) -> dict[str, str]:
    """What a site sets for each console process (docs/deployment.md); processes share all of it."""
    return {
        "DJANGO_SETTINGS_MODULE": "condorweb.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CONDORWEB_SECRET_KEY": secret_key,
        "CONDORWEB_DEBUG": "0",
        "CONDORWEB_ALLOWED_HOSTS": "127.0.0.1",
        "CONDORWEB_DATA_DIR": str(directory / "data"),
        "CONDORWEB_STATIC_ROOT": str(directory / "static"),
        "CONDORWEB_ADMIN_PASSWORD": admin_password,
        "CONDORWEB_LOG_LEVEL": "WARNING",
    }


class Console(_Server):
    """condorweb in its own daphne process, configured only through the environment."""

    what = "daphne"

    def __init__(self, environment: Mapping[str, str], *, log: Path) -> None:
        super().__init__(log)
        self.environment = dict(environment)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def prepare(self) -> Console:
        """What an installation or upgrade does before starting processes."""
        self.manage("migrate", "--noinput")
        self.manage("collectstatic", "--noinput")
        self.manage("ensure_admin")
        return self

    def manage(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``manage.py`` as another process of this site would."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            env={**os.environ, **self.environment},
            cwd=BASE_DIR,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result

    def _launch(self) -> None:
        self._popen(
            # As docs/deployment.md's unit runs it, behind a proxy that sets X-Forwarded-For.
            [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                "--proxy-headers",
                "condorweb.asgi:application",
            ],
            env={**os.environ, **self.environment},
            cwd=BASE_DIR,
        )

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/login/", timeout=2):
                return True
        except (urllib.error.URLError, ConnectionError):
            return False


class Worker(_Server):
    """condorweb's task queue worker (``manage.py worker``), configured only through the environment."""

    what = "worker"

    def __init__(self, environment: Mapping[str, str], *, log: Path) -> None:
        super().__init__(log)
        self.environment = {**environment, "PYTHONUNBUFFERED": "1"}
        self._log_from = 0

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would: nothing of it runs after."""
        process, self.process = self.process, None
        if process is not None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)

    def output(self) -> str:
        return self.log.read_bytes()[self._log_from :].decode(errors="replace")

    def _launch(self) -> None:
        self._log_from = self.log.stat().st_size if self.log.exists() else 0
        self._popen([sys.executable, "manage.py", "worker"], env={**os.environ, **self.environment}, cwd=BASE_DIR)

    def _answers(self) -> bool:
        return "Worker " in self.output()


@dataclass
class Response:
    status: int
    text: str
    headers: Mapping[str, str]


class Browser:
    """A cookie-keeping HTTP client that fills in Django's CSRF token, as a browser would."""

    def __init__(self, base_url: str, *, client_address: str = "") -> None:
        self.base_url = base_url
        # What the reverse proxy would tell daphne about the browser's address.
        self.headers = {"X-Forwarded-For": client_address} if client_address else {}
        self.cookies = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def get(self, path: str) -> Response:
        return self._open(urllib.request.Request(self.base_url + path, headers=self.headers))

    def post(self, path: str, fields: Mapping[str, str]) -> Response:
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": self._cookie("csrftoken"), **fields}).encode()
        return self._open(urllib.request.Request(self.base_url + path, data=data, headers=self.headers, method="POST"))

    def try_log_in(self, username: str, password: str) -> Response:
        self.get("/login/")
        return self.post("/login/", {"username": username, "password": password})

    def log_in(self, username: str, password: str) -> Response:
        response = self.try_log_in(username, password)
        if not self._cookie("sessionid"):
            raise AssertionError(f"log-in as {username!r} at {self.base_url} failed ({response.status})")
        return response

    def websocket(self, path: str, *, at: str = "", **options: Any) -> Any:
        """A websocket to ``path`` with this browser's session, on its own server or ``at`` another process.

        Await it, or use it with ``async with``, as ``websockets.connect``.
        """
        import websockets

        base = at or self.base_url
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.cookies)
        return websockets.connect(
            base.replace("http://", "ws://", 1) + path, origin=base, additional_headers={"Cookie": cookie}, **options
        )

    def at(self, base_url: str) -> Browser:
        """The same browser, its requests sent to another process (as a load balancer would)."""
        other = Browser(base_url)
        other.headers = self.headers
        other.cookies = self.cookies
        other._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        return other

    def _cookie(self, name: str) -> str:
        return next((c.value or "" for c in self.cookies if c.name == name), "")

    def _open(self, request: urllib.request.Request) -> Response:
        try:
            with self._opener.open(request, timeout=30) as reply:
                return Response(reply.status, reply.read().decode(errors="replace"), dict(reply.headers))
        except urllib.error.HTTPError as error:
            return Response(error.code, error.read().decode(errors="replace"), dict(error.headers))


# --------------------------------------------------------------------------
# python -m tests.servers run -- CMD ...
# --------------------------------------------------------------------------


def run(command: Sequence[str]) -> int:
    started = time.monotonic()
    with Servers() as servers:
        assert servers.postgres and servers.redis
        print(
            f"tests.servers: PostgreSQL on 127.0.0.1:{servers.postgres.port} and Redis on "
            f"127.0.0.1:{servers.redis.port}, up in {time.monotonic() - started:.1f} s",
            file=sys.stderr,
            flush=True,
        )
        endpoints = servers.endpoints()
        child = subprocess.Popen(
            command, env={**os.environ, "DATABASE_URL": endpoints.database_url, "REDIS_URL": endpoints.redis_url}
        )

        def forward(signum: int, frame: FrameType | None) -> None:
            child.send_signal(signum)

        # The terminal sends Ctrl-C to the child too; we stay to stop the servers after it.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, forward)
        try:
            code = child.wait()
            # As a shell reports it: 128 + the signal that ended the command.
            return 128 - code if code < 0 else code
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.servers", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    run_parser = sub.add_parser(
        "run", help="start PostgreSQL and Redis, run a command with DATABASE_URL and REDIS_URL, stop them"
    )
    run_parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("run needs a command, e.g. run -- python -m pytest")
    try:
        return run(command)
    except ServerUnavailable as exc:
        print(f"tests.servers: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
