"""The one place in condorweb that talks to HTCondor.

Nothing else imports ``htcondor2`` or ``classad2``. Callers get plain typed
values and the exceptions defined here.

Every binding call runs in a child process, never in the web process:

* the bindings hold the GIL for most of a call, which starved an asyncio loop
  in the same process (see ``shared/htcondor/real-pool.md``), and
* the IDTOKEN directory is process-wide configuration, so each set of pool
  credentials gets processes of its own and two pools can never race on it.

A call that outlives its deadline kills its worker, so a black-holed address
costs one bounded wait instead of a stuck thread.
"""

from __future__ import annotations

import enum
import logging
import multiprocessing
import multiprocessing.connection
import os
import queue
import re
import selectors
import shutil
import socket
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------
# Errors: each says what happened and what an operator can do about it.
# --------------------------------------------------------------------------


class ProtocolError(Exception):
    """Base of every error this module raises."""

    outcome = "error"

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_error, (type(self).__name__, self.message, self.hint))

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class InvalidInput(ProtocolError):
    """Rejected before anything was sent."""

    outcome = "invalid"


class DaemonUnreachable(ProtocolError):
    outcome = "unreachable"


class NotAuthorized(ProtocolError):
    outcome = "unauthorized"


class Refused(ProtocolError):
    """The daemon understood and said no (e.g. runtime config is disabled)."""

    outcome = "refused"


class ProtocolTimeout(ProtocolError):
    outcome = "timeout"


class ToolsUnavailable(ProtocolError):
    """Something needs HTCondor's command-line tools and they are not there."""

    outcome = "error"


class OutputTooLarge(ProtocolError):
    """A tool printed more than the console reads of it (TOOL_OUTPUT_LIMIT)."""

    outcome = "error"


def _rebuild_error(name: str, message: str, hint: str) -> ProtocolError:
    cls = {c.__name__: c for c in _ERROR_CLASSES}[name]
    return cls(message, hint=hint)


_ERROR_CLASSES = (
    ProtocolError, InvalidInput, DaemonUnreachable, NotAuthorized, Refused, ProtocolTimeout, ToolsUnavailable,
    OutputTooLarge,
)

RUNTIME_CONFIG_HINT = (
    "The daemon refuses runtime configuration unless ENABLE_RUNTIME_CONFIG = True, "
    "the console's identity is in ALLOW_CONFIG, and the knob is listed in SETTABLE_ATTRS_CONFIG "
    "(then restart the daemon: ENABLE_RUNTIME_CONFIG is read once per process)."
)
ADMINISTRATOR_HINT = (
    "Add the console's identity to ALLOW_ADMINISTRATOR on the daemon's host and give the console "
    "a valid IDTOKEN for that pool."
)
READ_HINT = "Add the console's identity to ALLOW_READ and give the console a valid IDTOKEN for that pool."


# --------------------------------------------------------------------------
# Validation: nothing leaves the console unless it passes these.
# --------------------------------------------------------------------------

_KNOB_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
_SUBSYSTEM_RE = re.compile(r"[A-Z][A-Z0-9_]*\Z")
_SINFUL_RE = re.compile(r"<[^<>\s]+>\Z")
_HOSTPORT_RE = re.compile(r"[A-Za-z0-9.\-]+(:\d{1,5})?\Z|\[[0-9A-Fa-f:.]+\](:\d{1,5})?\Z")
_MAX_KNOB = 256
_MAX_VALUE = 16_384

# Subsystems a condor_master may run; anything else is a typo or an attack.
KNOWN_SUBSYSTEMS = frozenset(
    {
        "MASTER", "SCHEDD", "STARTD", "COLLECTOR", "NEGOTIATOR", "SHARED_PORT", "CREDD", "KBDD",
        "HAD", "REPLICATION", "DEFRAG", "GRIDMANAGER", "ROOSTER", "JOB_ROUTER", "VIEW_SERVER",
        "CONDOR_VIEW", "ANNEX", "PLACEMENTD", "LEASEMANAGER", "GANGLIAD", "TRANSFERD", "STARTER",
        "SHADOW", "HDFS", "CKPT_SERVER",
    }
)


def validate_knob(name: str) -> str:
    if not isinstance(name, str) or not name:
        raise InvalidInput("A knob name is required.")
    if len(name) > _MAX_KNOB or not _KNOB_RE.match(name):
        raise InvalidInput(
            f"{name[:80]!r} is not an HTCondor knob name.",
            hint="Use letters, digits and underscores, optionally with a SUBSYSTEM. or LOCALNAME. prefix.",
        )
    return name


def validate_value(value: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput("A knob value must be text.")
    if any(ch in value for ch in "\r\n\x00"):
        raise InvalidInput("A knob value must be a single line.", hint="Remove line breaks from the value.")
    if len(value) > _MAX_VALUE:
        raise InvalidInput(f"A knob value may be at most {_MAX_VALUE} characters.")
    return value


def validate_subsystem(name: str) -> str:
    if not isinstance(name, str) or not _SUBSYSTEM_RE.match(name) or name not in KNOWN_SUBSYSTEMS:
        raise InvalidInput(
            f"{str(name)[:40]!r} is not an HTCondor subsystem.",
            hint="Choose one of the daemons the master runs, e.g. SCHEDD or STARTD.",
        )
    return name


def validate_address(address: str) -> str:
    if not isinstance(address, str) or len(address) > 2048 or not _SINFUL_RE.match(address):
        raise InvalidInput(f"{str(address)[:80]!r} is not a daemon address (expected <host:port?...>).")
    return address


def validate_collector(collector: str) -> str:
    """A collector is one ``host[:port]`` (HA pools list several, comma-separated)."""
    parts = [p.strip() for p in str(collector).split(",")]
    if not collector or len(collector) > 1024 or not all(p and _HOSTPORT_RE.match(p) for p in parts):
        raise InvalidInput(
            f"{str(collector)[:80]!r} is not a collector address.",
            hint="Use host or host:port, for example cm.example.org:9618; separate several with commas.",
        )
    for part in parts:
        port = part.rsplit(":", 1)[1] if ":" in part and not part.endswith("]") else None
        if port is not None and not 0 < int(port) < 65536:
            raise InvalidInput(f"{part!r} has a port outside 1-65535.")
    return ",".join(parts)


# Kernel views and devices: never a file the console should hand to HTCondor
# (/proc/self/environ would give away the console's own environment).
_SYSTEM_TREES = ("/proc", "/sys", "/dev")


def _outside_system_trees(path: str) -> str:
    """``path`` resolved through every symlink; InvalidInput if it or its target is under /proc, /sys or /dev."""
    real = os.path.realpath(path)
    for candidate in (os.path.normpath(path), real):
        for tree in _SYSTEM_TREES:
            if candidate == tree or candidate.startswith(tree + "/"):
                raise InvalidInput(
                    f"{path[:200]} is under {tree}.", hint="Give a file of its own; /proc, /sys and /dev are refused."
                )
    return real


def validate_token_file(path: str) -> str:
    """A pool's IDTOKEN file: absolute, a regular file, owned by the console's user, mode 600 (or stricter).

    The console hands the file to HTCondor, which sends what it reads to the
    pool's daemons: a path to another file would send that file (e.g.
    /etc/shadow) to whoever runs the collector.
    """
    if not os.path.isabs(path):
        raise InvalidInput(f"{path!r} is not an absolute path.", hint="Give the token file's absolute path on the console host.")
    _outside_system_trees(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InvalidInput(f"There is no file at {path}.") from None
    except OSError as exc:
        raise InvalidInput(f"The console cannot look at {path}: {exc.strerror}.") from None
    if not stat.S_ISREG(st.st_mode):
        raise InvalidInput(f"{path} is not a regular file.", hint="A token file is a plain file written by condor_token_fetch or condor_token_create.")
    if st.st_uid != os.geteuid():
        raise InvalidInput(
            f"{path} is owned by uid {st.st_uid}, not by the console's user (uid {os.geteuid()}).",
            hint="A token file belongs to the user the console runs as: chown it to that user.",
        )
    if st.st_mode & 0o077:
        raise InvalidInput(
            f"{path} has mode {st.st_mode & 0o777:o}: group or others may read it.", hint=f"Run chmod 600 {path}."
        )
    if not os.access(path, os.R_OK):
        raise InvalidInput(f"The console cannot read {path}.", hint="Make it readable by its owner (chmod 600).")
    return path


def validate_tool_command(path: str) -> str:
    """A pool's condor_config_val: the absolute path of one executable, which the console runs without a shell.

    Arguments are not accepted: a command line such as ``/bin/sh -c '...'``
    would let whoever edits a pool run anything as the console.
    """
    if not os.path.isabs(path):
        raise InvalidInput(
            f"{path[:200]!r} is not an absolute path.",
            hint="Give the absolute path of condor_config_val (or of a script that runs it); no arguments, no shell.",
        )
    real = _outside_system_trees(path)
    if not os.path.isfile(real) or not os.access(real, os.X_OK):
        raise InvalidInput(
            f"{path[:200]} is not an executable file.",
            hint="Give the absolute path of condor_config_val (or of a script that runs it); no arguments, no shell.",
        )
    return path


# --------------------------------------------------------------------------
# The command table. Two members of htcondor2.DaemonCommands carry wrong ids
# in 25.14.1, so condorweb keeps the numbers itself.
# --------------------------------------------------------------------------


class Command(enum.Enum):
    Reconfig = (60004, False, False, "Tells the daemon (and a master's children) to reread its configuration.")
    Restart = (453, False, True, "Restarts the master and every daemon it runs; running jobs are killed.")
    RestartPeaceful = (485, False, True, "Restarts the master and its daemons once running jobs have finished.")
    DaemonOn = (469, True, False, "Asks the master to start the chosen daemon again.")
    DaemonOff = (467, True, True, "Asks the master to shut the chosen daemon down gracefully.")
    DaemonOffFast = (468, True, True, "Asks the master to shut the chosen daemon down at once; its jobs are killed.")
    DaemonOffPeaceful = (483, True, True, "Asks the master to stop the chosen daemon once its jobs have finished.")
    DaemonsOn = (455, False, False, "Asks the master to start all of its daemons.")
    DaemonsOff = (454, False, True, "Stops every daemon this master runs, gracefully; the master stays up.")
    DaemonsOffFast = (461, False, True, "Stops every daemon this master runs at once; the master stays up.")
    DaemonsOffPeaceful = (484, False, True, "Stops every daemon this master runs once jobs finish; the master stays up.")
    OffGraceful = (60005, False, True, "Shuts the daemon down gracefully.")
    OffPeaceful = (60015, False, True, "Shuts the daemon down once its jobs have finished.")
    OffFast = (60006, False, True, "Shuts the daemon down at once.")
    OffForce = (60042, False, True, "Shuts the daemon down at once, even one set to peaceful shutdown.")
    SetPeacefulShutdown = (60016, False, False, "Makes the next shutdown of this daemon peaceful.")
    SetForceShutdown = (60041, False, False, "Makes the next shutdown of this daemon forced.")

    def __init__(self, command_id: int, needs_target: bool, destructive: bool, description: str) -> None:
        self.command_id = command_id
        self.needs_target = needs_target
        self.destructive = destructive
        self.description = description

    @classmethod
    def by_name(cls, name: str) -> Command:
        try:
            return cls[name]
        except KeyError:
            raise InvalidInput(f"{str(name)[:40]!r} is not a daemon command condorweb knows.") from None


MASTER_ONLY_COMMANDS = frozenset(
    {
        Command.Restart, Command.RestartPeaceful, Command.DaemonOn, Command.DaemonOff, Command.DaemonOffFast,
        Command.DaemonOffPeaceful, Command.DaemonsOn, Command.DaemonsOff, Command.DaemonsOffFast,
        Command.DaemonsOffPeaceful,
    }
)


def commands_for_kind(kind: str) -> list[Command]:
    """Commands a daemon of this kind accepts."""
    if kind == "master":
        return list(Command)
    return [c for c in Command if c not in MASTER_ONLY_COMMANDS]


# --------------------------------------------------------------------------
# Plain values handed back to the rest of the console.
# --------------------------------------------------------------------------

# MyType in the collector -> the console's daemon kind.
_KIND_BY_MYTYPE = {
    "DaemonMaster": "master",
    "Scheduler": "schedd",
    "StartD": "startd",
    "Collector": "collector",
    "Negotiator": "negotiator",
    "CredD": "credd",
    "HAD": "had",
    "Defrag": "defrag",
    "PlacementD": "placementd",
    "Generic": "generic",
}
# The kind -> the MyType send_command understands (it has no "StartD").
_SEND_MYTYPE = {
    "master": "DaemonMaster",
    "schedd": "Scheduler",
    "startd": "Machine",
    "collector": "Collector",
    "negotiator": "Negotiator",
    "credd": "CredD",
    "had": "HAD",
    "placementd": "PlacementD",
}
# The subsystem name a master uses for a child of this kind.
SUBSYSTEM_BY_KIND = {
    "master": "MASTER",
    "schedd": "SCHEDD",
    "startd": "STARTD",
    "collector": "COLLECTOR",
    "negotiator": "NEGOTIATOR",
    "credd": "CREDD",
    "had": "HAD",
    "defrag": "DEFRAG",
    "placementd": "PLACEMENTD",
}
DAEMON_KINDS = tuple(SUBSYSTEM_BY_KIND) + ("generic",)

# Ad attributes worth showing on a daemon's page; everything else is noise.
INTERESTING_ATTRIBUTES = (
    "Name", "Machine", "MyAddress", "CondorVersion", "CondorPlatform", "DaemonStartTime", "MyCurrentTime",
    "DaemonCoreDutyCycle", "RecentDaemonCoreDutyCycle", "UpdateSequenceNumber", "MonitorSelfCPUUsage",
    "MonitorSelfImageSize", "MonitorSelfResidentSetSize", "MonitorSelfAge", "Master", "MasterIpAddr",
    "TotalRunningJobs", "TotalIdleJobs", "TotalHeldJobs", "NumUsers", "MaxJobsRunning", "TotalSlots",
    "TotalCpus", "TotalMemory", "State", "Activity", "RunningJobs", "IdleJobs", "HostsTotal",
    "HostsClaimed", "HostsUnclaimed", "RunningJobs", "LastNegotiationCycleEnd0",
    "LastNegotiationCycleDuration0", "DaemonShutdown", "Arch", "OpSys", "OpSysAndVer", "UidDomain",
)


@dataclass(frozen=True)
class DaemonInfo:
    kind: str
    name: str
    machine: str
    address: str
    version: str
    platform: str
    start_time: datetime | None
    subsystem: str
    # For masters: child subsystem -> "up" / "down" (from the master ad).
    children: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """A daemon as the protocol needs to reach it."""

    address: str
    kind: str
    name: str = ""

    def __post_init__(self) -> None:
        validate_address(self.address)
        if self.kind not in DAEMON_KINDS:
            raise InvalidInput(f"{self.kind!r} is not a daemon kind condorweb knows.")


@dataclass(frozen=True)
class Credentials:
    """How the console reaches one pool.

    ``token_file`` is the path of an IDTOKEN file; the token itself never
    passes through this module's callers. ``config_val`` is the command that
    runs HTCondor's ``condor_config_val`` for this pool (empty: the one on
    PATH, if any); it serves what the bindings cannot do.
    """

    token_file: str = ""
    config_val: tuple[str, ...] = ()

    def check(self) -> list[str]:
        """Warnings an operator should see about the token file."""
        if not self.token_file:
            return []
        try:
            st = os.stat(self.token_file)
        except OSError as exc:
            return [f"The token file cannot be read by the console: {exc.strerror}."]
        if st.st_mode & 0o077:
            return [
                f"The token file is readable by other users (mode {st.st_mode & 0o777:o}); "
                "run chmod 600 on it."
            ]
        return []


@dataclass(frozen=True)
class AuthorizationCheck:
    level: str
    authorized: bool
    identity: str


@dataclass(frozen=True)
class LocalKnob:
    name: str
    value: str | int | float | bool
    type: str  # "int", "bool", "float" or "str": the parameter table's type


NOT_DEFINED = "Not defined"
# condor_config_val -dump -verbose takes about 0.8 s on loopback; leave room for real networks.
_TOOL_TIMEOUT = 60.0
# The most a tool's output may hold. condor_config_val -dump -verbose of a
# master prints about 250 KiB; condor_fetchlog prints a whole log (HTCondor
# rotates them at 10 MiB by default), which a hostile daemon could make
# endless: the console stops reading and kills the tool past this (issue 14).
TOOL_OUTPUT_LIMIT = 64 * 2**20


# --------------------------------------------------------------------------
# Settings the rest of the console may change at run time.
# --------------------------------------------------------------------------


@dataclass
class _Settings:
    timeout: float = 10.0
    workers_per_pool: int = 2
    fetch_workers: int = 3
    fetch_chunk: int = 64
    client_debug: str = ""
    client_log: str = ""
    local_config_file: str = ""


_settings = _Settings()
_settings_lock = threading.Lock()


def configure(
    *,
    timeout: float | None = None,
    workers_per_pool: int | None = None,
    fetch_workers: int | None = None,
    local_config_file: str | None = None,
) -> None:
    """Set the bounded wait, the process counts and the console host's own config file."""
    with _settings_lock:
        if local_config_file is not None and local_config_file != _settings.local_config_file:
            _settings.local_config_file = local_config_file
            _drop_pool(_LOCAL)
        if timeout is not None:
            _settings.timeout = float(timeout)
        if workers_per_pool is not None:
            _settings.workers_per_pool = max(1, int(workers_per_pool))
        if fetch_workers is not None:
            _settings.fetch_workers = max(1, int(fetch_workers))


def set_client_logging(*, debug: str, log_path: str) -> None:
    """Switch the console's own HTCondor client log on or off (TOOL_DEBUG, TOOL_LOG).

    Applies to every worker now running and to those started later.
    """
    if debug and not re.fullmatch(r"[A-Z_:0-9 ,|]+", debug):
        raise InvalidInput(f"{debug[:60]!r} is not a TOOL_DEBUG value.", hint="Example: D_FULLDEBUG D_SECURITY")
    if log_path and (not os.path.isabs(log_path) or "\n" in log_path):
        raise InvalidInput("TOOL_LOG must be an absolute path.")
    with _settings_lock:
        _settings.client_debug = debug
        _settings.client_log = log_path
    for pool in list(_pools.values()):
        pool.broadcast("apply_logging", (debug, log_path))


def client_logging() -> tuple[str, str]:
    return _settings.client_debug, _settings.client_log


# --------------------------------------------------------------------------
# Worker processes.
# --------------------------------------------------------------------------


class _Worker:
    """One child process with one HTCondor client configuration."""

    def __init__(self, environment: dict[str, str]) -> None:
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        self._process = ctx.Process(
            target=_worker_main,
            args=(child, environment, client_logging()),
            daemon=True,
            name="condorweb-htcondor",
        )
        self._process.start()
        child.close()
        self.conn = parent

    @property
    def alive(self) -> bool:
        return self._process.is_alive()

    def send(self, func: str, args: tuple[Any, ...]) -> None:
        self.conn.send((func, args))

    def receive(self) -> Any:
        try:
            ok, payload = self.conn.recv()
        except (EOFError, OSError):
            self.kill()
            raise DaemonUnreachable(
                "The console's HTCondor client process died during the call.",
                hint="Check the console's log; switch on client logging on the Diagnostics page.",
            ) from None
        if ok:
            return payload
        raise payload

    def kill(self) -> None:
        if self._process.is_alive():
            self._process.kill()
        self._process.join(timeout=5)
        self.conn.close()


# Worker calls that run one of HTCondor's command-line tools (see _worker_handlers).
_TOOL_CALLS = frozenset({"config_val", "fetchlog"})


class _WorkerPool:
    """The worker processes for one set of credentials."""

    def __init__(self, credentials: Credentials) -> None:
        self._credentials = credentials
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._started = 0
        self._lock = threading.Lock()
        self._available = threading.Condition(self._lock)

    def _environment(self) -> dict[str, str]:
        return {"token_file": self._credentials.token_file, "local_config_file": _settings.local_config_file}

    def _acquire(self, deadline: float) -> _Worker:
        with self._available:
            while True:
                try:
                    worker = self._idle.get_nowait()
                except queue.Empty:
                    worker = None
                if worker is not None:
                    if worker.alive:
                        return worker
                    self._started -= 1
                    continue
                if self._started < _settings.workers_per_pool:
                    self._started += 1
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ProtocolTimeout(
                        "Every connection to this pool is busy.",
                        hint="Try again in a moment; a slow or black-holed daemon may be holding them.",
                    )
                self._available.wait(remaining)
        try:
            return _Worker(self._environment())
        except Exception:
            with self._available:
                self._started -= 1
                self._available.notify()
            raise

    def _release(self, worker: _Worker, healthy: bool) -> None:
        with self._available:
            if healthy and worker.alive:
                self._idle.put(worker)
            else:
                worker.kill()
                self._started -= 1
            self._available.notify()

    def call(self, func: str, args: tuple[Any, ...], timeout: float | None = None) -> Any:
        timeout = _settings.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        try:
            return self._call_once(func, args, timeout, deadline)
        except NotAuthorized:
            # A worker's cached security sessions die with the daemon that
            # granted them: after a pool restart the first request through each
            # older worker fails like a refusal. New workers negotiate afresh,
            # and HTCondor refuses before it acts, so asking again is safe.
            # A tool is a process of its own that negotiates afresh every run:
            # its refusal is the daemon's answer.
            if func in _TOOL_CALLS:
                raise
            self.retire_idle()
            return self._call_once(func, args, timeout, deadline)

    def _call_once(self, func: str, args: tuple[Any, ...], timeout: float, deadline: float) -> Any:
        worker = self._acquire(deadline)
        healthy = False
        try:
            worker.send(func, args)
            if not worker.conn.poll(max(0.0, deadline - time.monotonic())):
                raise ProtocolTimeout(
                    f"No answer from HTCondor within {timeout:g} s.",
                    hint="The daemon or its host may be overloaded or unreachable through a firewall; "
                    "the limit is CONDORWEB_HTCONDOR_TIMEOUT.",
                )
            result = worker.receive()
            healthy = True
            return result
        except ProtocolError as exc:
            # A worker that answered with an error is still usable, unless its
            # sessions may be stale (see call) or it may still be waiting.
            healthy = not isinstance(exc, (ProtocolTimeout, NotAuthorized)) and worker.alive
            raise
        finally:
            self._release(worker, healthy)

    def map(
        self,
        func: str,
        chunks: Sequence[tuple[Any, ...]],
        *,
        parallel: int,
        timeout: float,
        on_chunk: Callable[[Any], None],
    ) -> None:
        """Run ``func`` over ``chunks`` on up to ``parallel`` workers at once."""
        deadline = time.monotonic() + timeout
        pending = list(reversed(chunks))
        busy: dict[Any, _Worker] = {}
        workers: list[_Worker] = []
        healthy = True
        try:
            while len(workers) < min(parallel, len(chunks)):
                if workers and self._idle.empty() and self._started >= _settings.workers_per_pool:
                    break
                workers.append(self._acquire(deadline))
            for worker in workers:
                if pending:
                    worker.send(func, pending.pop())
                    busy[worker.conn] = worker
            while busy:
                remaining = deadline - time.monotonic()
                ready = multiprocessing.connection.wait(list(busy), timeout=max(0.0, remaining))
                if not ready:
                    healthy = False
                    raise ProtocolTimeout(
                        f"The configuration fetch did not finish within {timeout:g} s.",
                        hint="The daemon may be overloaded; the limit is CONDORWEB_HTCONDOR_FETCH_TIMEOUT.",
                    )
                for conn in ready:
                    worker = busy.pop(conn)
                    on_chunk(worker.receive())
                    if pending:
                        worker.send(func, pending.pop())
                        busy[worker.conn] = worker
        except BaseException:
            healthy = False
            raise
        finally:
            for worker in workers:
                self._release(worker, healthy and worker.conn not in busy)

    def broadcast(self, func: str, args: tuple[Any, ...]) -> None:
        """Tell every idle worker; busy ones are replaced lazily by new settings."""
        drained: list[_Worker] = []
        with self._available:
            while True:
                try:
                    drained.append(self._idle.get_nowait())
                except queue.Empty:
                    break
        for worker in drained:
            ok = True
            try:
                worker.send(func, args)
                ok = worker.conn.poll(_settings.timeout)
                if ok:
                    worker.receive()
            except ProtocolError:
                ok = False
            self._release(worker, ok)

    def retire_idle(self) -> None:
        """Stop every idle worker; busy ones go when they are released unhealthy or, later, idle."""
        with self._available:
            while True:
                try:
                    self._idle.get_nowait().kill()
                except queue.Empty:
                    break
                self._started -= 1
            self._available.notify_all()


_pools: dict[Credentials, _WorkerPool] = {}
_pools_lock = threading.Lock()
_LOCAL = Credentials(token_file="\0local")


def _pool_for(credentials: Credentials) -> _WorkerPool:
    with _pools_lock:
        pool = _pools.get(credentials)
        if pool is None:
            pool = _pools[credentials] = _WorkerPool(credentials)
        return pool


def _drop_pool(credentials: Credentials) -> None:
    with _pools_lock:
        pool = _pools.pop(credentials, None)
    if pool is not None:
        pool.retire_idle()


def shutdown_workers() -> None:
    """Stop every worker process (tests, and after settings change)."""
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.retire_idle()


# --------------------------------------------------------------------------
# The public API: plain values in, plain values out.
# --------------------------------------------------------------------------


def discover(collector: str, credentials: Credentials) -> list[DaemonInfo]:
    """Every daemon the pool's collector knows, with what a console shows."""
    collector = validate_collector(collector)
    rows = _pool_for(credentials).call("discover", (collector,))
    return [DaemonInfo(**row) for row in rows]


def check_authorization(target: Target, level: str, credentials: Credentials) -> AuthorizationCheck:
    """Ask the daemon whether the console may act at ``level``; changes nothing."""
    if level not in ("READ", "WRITE", "ADMINISTRATOR", "CONFIG", "DAEMON"):
        raise InvalidInput(f"{level!r} is not an authorization level.")
    row = _pool_for(credentials).call("ping", (target.address, level))
    return AuthorizationCheck(**row)


def remote_config_names(target: Target, credentials: Credentials) -> list[str]:
    return _pool_for(credentials).call("names", (target.address,))


def remote_config_value(target: Target, name: str, credentials: Credentials) -> str | None:
    """One knob's value, or None where the daemon says it is not defined."""
    validate_knob(name)
    return _pool_for(credentials).call("get_many", (target.address, [name]))[name]


def remote_config_all(
    target: Target,
    credentials: Credentials,
    *,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, str | None]:
    """Every knob the daemon lists, with its value (None: not defined).

    The master answers one knob per connection, so the names are split over
    several worker processes to overlap the round trips.
    """
    pool = _pool_for(credentials)
    names = pool.call("names", (target.address,))
    size = _settings.fetch_chunk
    chunks = [(target.address, names[i : i + size]) for i in range(0, len(names), size)]
    values: dict[str, str | None] = {}

    def collect(part: dict[str, str | None]) -> None:
        values.update(part)
        if on_progress:
            on_progress(len(values), len(names))

    if on_progress:
        on_progress(0, len(names))
    pool.map(
        "get_many",
        chunks,
        parallel=_settings.fetch_workers,
        timeout=max(_settings.timeout, 6 * _settings.timeout),
        on_chunk=collect,
    )
    return dict(sorted(values.items()))


def remote_config_set(target: Target, name: str, value: str, credentials: Credentials) -> None:
    """Set a runtime value; it takes effect after the daemon's next Reconfig."""
    validate_knob(name)
    validate_value(value)
    _pool_for(credentials).call("set", (target.address, name, value))


def remote_config_unset(target: Target, name: str, credentials: Credentials) -> None:
    """Remove a runtime value, as ``condor_config_val -runset NAME`` does.

    The bindings' ``del`` stores an empty override instead of removing the
    entry, and they cannot send the empty assignment that removes it, so this
    goes through ``condor_config_val`` with the pool's credentials.
    """
    validate_knob(name)
    _pool_for(credentials).call("config_val", (_config_val(credentials), ["-address", target.address, "-runset", name]))


def remote_config_sources(target: Target, credentials: Credentials) -> dict[str, str]:
    """Where each knob's value comes from ("file, line N", "<Default>", ...).

    Needs ``condor_config_val``; raises ToolsUnavailable where it is not installed.
    """
    output = _pool_for(credentials).call(
        "config_val", (_config_val(credentials), ["-address", target.address, "-dump", "-verbose"]),
        timeout=max(_settings.timeout, 30.0),
    )
    return parse_config_dump_sources(output)


def fetch_log(target: Target, log: str, credentials: Credentials) -> bytes:
    """The whole of one of the daemon's logs, through ``condor_fetchlog`` (needs ADMINISTRATOR).

    ``log`` names it as condor_fetchlog does: MASTER for MASTER_LOG. The
    bindings have no log fetch, and the tool has no offset or tail.
    """
    if not isinstance(log, str) or not _SUBSYSTEM_RE.match(log) or len(log) > 64:
        raise InvalidInput(f"{str(log)[:40]!r} is not a log condor_fetchlog can fetch.")
    return _pool_for(credentials).call(
        "fetchlog", (_fetchlog(credentials), target.address, log), timeout=max(_settings.timeout, 30.0)
    )


def fetchlog_available(credentials: Credentials) -> bool:
    try:
        _fetchlog(credentials)
    except ToolsUnavailable:
        return False
    return True


def _fetchlog(credentials: Credentials) -> list[str]:
    """condor_fetchlog beside the pool's condor_config_val command, else on PATH."""
    argv = list(credentials.config_val)
    if argv and os.path.basename(argv[-1]) == "condor_config_val":
        return [*argv[:-1], os.path.join(os.path.dirname(argv[-1]), "condor_fetchlog")]
    found = shutil.which("condor_fetchlog")
    if not found:
        raise ToolsUnavailable(
            "HTCondor's condor_fetchlog is not installed on the console host.",
            hint="Install HTCondor's tools next to the console, or set the pool's condor_config_val command.",
        )
    return [found]


def tools_available(credentials: Credentials) -> bool:
    try:
        _config_val(credentials)
    except ToolsUnavailable:
        return False
    return True


def _config_val(credentials: Credentials) -> list[str]:
    if credentials.config_val:
        return list(credentials.config_val)
    found = shutil.which("condor_config_val")
    if not found:
        raise ToolsUnavailable(
            "HTCondor's command-line tools are not installed on the console host.",
            hint="Install condor_config_val next to the console, or set the pool's condor_config_val command.",
        )
    return [found]


def remote_runtime_values(target: Target, credentials: Credentials) -> list[tuple[str, str]]:
    """The daemon's runtime values as of its last Reconfig, in the order of its list: ``(knob, raw value)``.

    The daemon files each runtime value under ``<runtime>, line N``, N being
    its place in the list. Raises Refused when a place is missing (a value
    hidden by a later one for the same knob), since the console could then
    not say what lies where.
    """
    output = _pool_for(credentials).call(
        "config_val", (_config_val(credentials), ["-address", target.address, "-dump", "-verbose"]),
        timeout=max(_settings.timeout, 30.0),
    )
    return parse_runtime_values(output)


_RUNTIME_SOURCE_RE = re.compile(r"<runtime>, line (\d+)\Z")


def parse_runtime_values(output: str) -> list[tuple[str, str]]:
    """The ``<runtime>`` entries of ``condor_config_val -dump -verbose`` output, in the daemon's list order."""
    places: dict[int, tuple[str, str]] = {}
    for name, value, source in _dump_entries(output):
        found = _RUNTIME_SOURCE_RE.match(source)
        if found:
            places[int(found.group(1))] = (name, value)
    if sorted(places) != list(range(len(places))):
        raise Refused(
            "The daemon holds runtime values the console cannot see (one hidden by a later value for the same knob), "
            "so it cannot remove one safely.",
            hint="Restart the daemon to drop every runtime value, then set again those you need.",
        )
    return [places[place] for place in sorted(places)]


def parse_config_dump_sources(output: str) -> dict[str, str]:
    """Read ``condor_config_val -dump -verbose``: each ``NAME = value`` is followed by `` # at: SOURCE``."""
    return {name: source for name, _value, source in _dump_entries(output)}


def _dump_entries(output: str) -> Iterator[tuple[str, str, str]]:
    """``(name, raw value, source)`` of each knob in ``condor_config_val -dump -verbose`` output."""
    current: tuple[str, str] | None = None
    for line in output.splitlines():
        if line.startswith(" # at: ") and current:
            yield (*current, line[len(" # at: ") :].strip())
            current = None
        elif line and not line.startswith((" ", "#")) and " = " in line:
            name, value = line.split(" = ", 1)
            current = (name.strip(), value)
        elif line and not line.startswith((" ", "#")) and line.rstrip().endswith(" ="):
            current = (line.rstrip()[:-2].strip(), "")


def send_command(target: Target, command: Command, credentials: Credentials, *, subsystem: str = "") -> None:
    """Send an admin command. HTCondor sends no reply: success means "delivered"."""
    if not isinstance(command, Command):
        raise InvalidInput("Unknown command.")
    if command.needs_target:
        validate_subsystem(subsystem)
    elif subsystem:
        raise InvalidInput(f"{command.name} takes no subsystem.")
    if command not in commands_for_kind(target.kind):
        raise InvalidInput(f"A {target.kind} does not accept {command.name}; send it to the master.")
    _pool_for(credentials).call(
        "send", (target.address, _SEND_MYTYPE.get(target.kind, "Generic"), command.command_id, subsystem or None)
    )


def local_config(subsystem: str = "TOOL") -> list[LocalKnob]:
    """The console host's own configuration, typed, as ``subsystem`` sees it."""
    if subsystem != "TOOL":
        validate_subsystem(subsystem)
    rows = _pool_for(_LOCAL).call("local_config", (subsystem,))
    return [LocalKnob(*row) for row in rows]


def local_reload() -> None:
    """Reread the console host's configuration files."""
    _pool_for(_LOCAL).call("local_reload", ())


def bindings_version() -> str:
    return _pool_for(_LOCAL).call("version", ())


# --------------------------------------------------------------------------
# Worker side. Everything below runs in the child process only.
# --------------------------------------------------------------------------


def _worker_main(conn: multiprocessing.connection.Connection, environment: dict[str, str], logging_: tuple[str, str]) -> None:
    token_dir = _prepare_environment(environment["token_file"], environment["local_config_file"])
    # HTCondor's client library prints connection failures on stderr; the
    # console reports them as exceptions instead (and in TOOL_LOG when asked).
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
    try:
        import htcondor2

        handlers = _worker_handlers(htcondor2)
        handlers["apply_logging"](*logging_)
        while True:
            try:
                func, args = conn.recv()
            except (EOFError, OSError, KeyboardInterrupt):
                return
            try:
                conn.send((True, handlers[func](*args)))
            except ProtocolError as exc:
                conn.send((False, exc))
            except Exception as exc:  # noqa: BLE001 - anything else becomes an operator-readable error
                conn.send((False, ProtocolError(f"HTCondor client error: {exc}")))
    finally:
        if token_dir:
            shutil.rmtree(token_dir, ignore_errors=True)


def _prepare_environment(token_file: str, local_config_file: str) -> str:
    """Set the process-wide HTCondor client configuration before importing it."""
    if token_file == _LOCAL.token_file:
        # The console host's own configuration: the operator's file, else
        # HTCondor's usual search (which the bindings end at /dev/null).
        if local_config_file:
            os.environ["CONDOR_CONFIG"] = local_config_file
        return ""
    # Talking to pools does not depend on the console host's configuration.
    os.environ["CONDOR_CONFIG"] = "/dev/null"
    # One directory holding only this pool's token, so no other token (the
    # user's ~/.condor/tokens.d, /etc/condor/tokens.d) is ever offered.
    token_dir = tempfile.mkdtemp(prefix="condorweb-tokens-")
    empty_dir = os.path.join(token_dir, "system")
    os.mkdir(empty_dir, 0o700)
    user_dir = os.path.join(token_dir, "pool")
    os.mkdir(user_dir, 0o700)
    if token_file:
        os.symlink(os.path.abspath(token_file), os.path.join(user_dir, "token"))
    os.environ["_CONDOR_SEC_TOKEN_DIRECTORY"] = user_dir
    os.environ["_CONDOR_SEC_TOKEN_SYSTEM_DIRECTORY"] = empty_dir
    os.environ["_CONDOR_SEC_CLIENT_AUTHENTICATION_METHODS"] = "IDTOKENS" if token_file else "FS, IDTOKENS"
    return token_dir


def _worker_handlers(htcondor2: Any) -> dict[str, Callable[..., Any]]:
    import classad2

    HTCondorException = htcondor2.HTCondorException

    def location(address: str, my_type: str = "Generic") -> Any:
        return classad2.ClassAd({"MyAddress": address, "MyType": my_type})

    def reachable(address: str) -> bool:
        match = re.match(r"<([^:>?]+):(\d+)", address)
        if not match:
            return False
        try:
            with socket.create_connection((match.group(1), int(match.group(2))), timeout=2):
                return True
        except OSError:
            return False

    def failure(exc: Exception, address: str, *, hint: str) -> ProtocolError:
        if not reachable(address):
            return DaemonUnreachable(
                f"Cannot connect to the daemon at {address}.",
                hint="Check that it is running and that the console can reach its host and port.",
            )
        return NotAuthorized(f"The daemon refused the console: {exc}", hint=hint)

    def discover(collector: str) -> list[dict[str, Any]]:
        try:
            coll = htcondor2.Collector(collector)
            ads = coll.query(
                htcondor2.AdType.Any,
                constraint="member(MyType, {%s})" % ", ".join(f'"{t}"' for t in _KIND_BY_MYTYPE),
            )
        except HTCondorException as exc:
            host = collector.split(",")[0]
            addr = host if ":" in host else f"{host}:9618"
            if not reachable(f"<{addr}>"):
                raise DaemonUnreachable(
                    f"Cannot connect to the collector at {collector}.",
                    hint="Check the address and that the collector is running and reachable from the console.",
                ) from None
            raise NotAuthorized(f"The collector at {collector} refused the query: {exc}", hint=READ_HINT) from None
        return [_daemon_row(ad) for ad in ads]

    def ping(address: str, level: str) -> dict[str, Any]:
        try:
            result = htcondor2.ping(address, level)
        except HTCondorException as exc:
            if not reachable(address):
                raise DaemonUnreachable(
                    f"Cannot connect to the daemon at {address}.",
                    hint="Check that it is running and that the console can reach its host and port.",
                ) from None
            # The daemon would not even start the command: not authorized at this level.
            return {"level": level, "authorized": False, "identity": ""}
        return {
            "level": level,
            "authorized": bool(result.get("AuthorizationSucceeded", False)),
            "identity": str(result.get("MyRemoteUserName", "")),
        }

    def names(address: str) -> list[str]:
        try:
            return sorted(htcondor2.RemoteParam(location(address)).keys())
        except HTCondorException as exc:
            raise failure(exc, address, hint=READ_HINT) from None

    def get_many(address: str, knobs: list[str]) -> dict[str, str | None]:
        from htcondor2.htcondor2_impl import _remote_param_get

        ad = location(address)
        out: dict[str, str | None] = {}
        for knob in knobs:
            try:
                value = _remote_param_get(ad._handle, knob)
            except HTCondorException as exc:
                raise failure(exc, address, hint=READ_HINT) from None
            out[knob] = None if value == NOT_DEFINED else value
        return out

    def set_(address: str, knob: str, value: str) -> None:
        from htcondor2.htcondor2_impl import _remote_param_set

        try:
            # The daemon files runtime entries under the name exactly as sent,
            # and condor_config_val (which removes them: see unset) sends it
            # lower-cased. Knob names are case-insensitive, so lower-case
            # keeps both tools addressing the same entry.
            _remote_param_set(location(address)._handle, knob.lower(), value)
        except HTCondorException as exc:
            if not reachable(address):
                raise DaemonUnreachable(f"Cannot connect to the daemon at {address}.") from None
            raise Refused(f"The daemon refused to set {knob}: {exc}", hint=RUNTIME_CONFIG_HINT) from None

    def run_tool(tool: str, argv: list[str]) -> tuple[int, bytes, str]:
        """``argv`` run within the tools' bound: its exit status, its output, and the last line it printed."""
        try:
            process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except FileNotFoundError:
            raise ToolsUnavailable(f"{argv[0]} is not installed on the console host.") from None
        with process:
            try:
                stdout, stderr = _bounded_output(tool, process)
            finally:
                if process.poll() is None:
                    process.kill()
        printed = (stderr or stdout).decode(errors="replace").strip().splitlines()
        return process.returncode, stdout, printed[-1] if printed else ""

    def _bounded_output(tool: str, process: subprocess.Popen) -> tuple[bytes, bytes]:
        """What ``process`` prints on stdout and stderr until it exits, within the tools' time and size bounds."""
        deadline = time.monotonic() + _TOOL_TIMEOUT
        printed = {process.stdout: bytearray(), process.stderr: bytearray()}
        with selectors.DefaultSelector() as selector:
            for stream in printed:
                selector.register(stream, selectors.EVENT_READ)
            while selector.get_map():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ProtocolTimeout(f"{tool} did not finish in time.")
                for key, _ in selector.select(left):
                    data = os.read(key.fd, 64 * 1024)
                    if not data:
                        selector.unregister(key.fileobj)
                        continue
                    printed[key.fileobj] += data
                    if len(printed[key.fileobj]) > TOOL_OUTPUT_LIMIT:
                        raise OutputTooLarge(
                            f"{tool} printed more than {TOOL_OUTPUT_LIMIT // 2**20} MiB; the console stopped reading it.",
                            hint="Read the log on the daemon's host, or give the pool a log-path mapping so the "
                            "console reads the file itself.",
                        )
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise ProtocolTimeout(f"{tool} did not finish in time.") from None
        return bytes(printed[process.stdout]), bytes(printed[process.stderr])

    def config_val(argv: list[str], args: list[str]) -> str:
        # Runs in this worker so a host-installed condor_config_val sees this
        # pool's token directory and nothing else.
        status, output, last = run_tool("condor_config_val", [*argv, *args])
        if status != 0:
            text = last or f"exit status {status}"
            address = args[args.index("-address") + 1] if "-address" in args else ""
            if address and not reachable(address):
                raise DaemonUnreachable(f"Cannot connect to the daemon at {address}.")
            if "-runset" in args or "-rset" in args:
                raise Refused(f"The daemon refused the runtime change: {text}", hint=RUNTIME_CONFIG_HINT)
            raise NotAuthorized(f"condor_config_val failed: {text}", hint=READ_HINT)
        return output.decode()

    def fetchlog(argv: list[str], address: str, log: str) -> bytes:
        status, output, last = run_tool("condor_fetchlog", [*argv, address, log])
        if status != 0:
            if "no log file by that name" in last:
                raise InvalidInput(f"The daemon has no {log} log for condor_fetchlog.")
            if not reachable(address):
                raise DaemonUnreachable(f"Cannot connect to the daemon at {address}.")
            raise NotAuthorized(f"condor_fetchlog failed: {last or status}", hint=ADMINISTRATOR_HINT)
        return output

    def send(address: str, my_type: str, command_id: int, subsystem: str | None) -> None:
        from htcondor2.htcondor2_impl import _send_command

        ad = location(address, my_type)
        daemon_type = {
            "DaemonMaster": htcondor2.DaemonType.Master,
            "Scheduler": htcondor2.DaemonType.Schedd,
            "Machine": htcondor2.DaemonType.Startd,
            "Collector": htcondor2.DaemonType.Collector,
            "Negotiator": htcondor2.DaemonType.Negotiator,
            "CredD": htcondor2.DaemonType.Credd,
            "HAD": htcondor2.DaemonType.HAD,
            "PlacementD": htcondor2.DaemonType.Placementd,
        }.get(my_type, htcondor2.DaemonType.Generic)
        try:
            # The binding passes the id to C as a plain integer, so the
            # console's own (correct) numbers go through unchanged.
            _send_command(ad._handle, daemon_type, command_id, subsystem)
        except HTCondorException as exc:
            raise failure(exc, address, hint=ADMINISTRATOR_HINT) from None

    def local_config(subsystem: str) -> list[tuple[str, Any, str]]:
        htcondor2.set_subsystem(subsystem)
        rows = []
        for name in sorted(set(htcondor2.param.keys())):
            if not name:
                continue
            try:
                value = htcondor2.param[name]
            except Exception:  # noqa: BLE001 - a knob whose default does not evaluate is shown as text
                continue
            rows.append((name, value, _type_name(value)))
        return rows

    def local_reload() -> None:
        htcondor2.reload_config()

    def apply_logging(debug: str, log_path: str) -> None:
        if debug and log_path:
            htcondor2.param["TOOL_DEBUG"] = debug
            htcondor2.param["TOOL_LOG"] = log_path
            htcondor2.enable_log()
        else:
            htcondor2.disable_debug()

    def version() -> str:
        return htcondor2.version()

    return {
        "discover": discover,
        "ping": ping,
        "names": names,
        "get_many": get_many,
        "set": set_,
        "config_val": config_val,
        "fetchlog": fetchlog,
        "send": send,
        "local_config": local_config,
        "local_reload": local_reload,
        "apply_logging": apply_logging,
        "version": version,
    }


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return "str"


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _epoch(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _daemon_row(ad: Any) -> dict[str, Any]:
    my_type = str(ad.get("MyType", ""))
    kind = _KIND_BY_MYTYPE.get(my_type, "generic")
    children: dict[str, str] = {}
    if kind == "master":
        # The master advertises <SUBSYS>_StartTime for each child it manages:
        # 0 while that child is not running.
        for key in ad.keys():
            if key.endswith("_StartTime"):
                subsystem = key[: -len("_StartTime")].upper()
                if subsystem != "MASTER":
                    children[subsystem] = "up" if _as_int(ad.get(key)) > 0 else "down"
    attributes = {}
    for attr in INTERESTING_ATTRIBUTES:
        if attr in ad:
            try:
                attributes[attr] = str(ad.eval(attr))
            except Exception:  # noqa: BLE001
                attributes[attr] = str(ad.lookup(attr))
    return {
        "kind": kind,
        "name": str(ad.get("Name", "")),
        "machine": str(ad.get("Machine", "")),
        "address": str(ad.get("MyAddress", "")),
        "version": str(ad.get("CondorVersion", "")),
        "platform": str(ad.get("CondorPlatform", "")),
        "start_time": _epoch(ad.get("DaemonStartTime", ad.get("CollectorStartTime", ad.get("StartdStartTime")))),
        "subsystem": SUBSYSTEM_BY_KIND.get(kind, str(ad.get("Name", "")).split("@")[0].upper()),
        "children": children,
        "attributes": attributes,
    }

