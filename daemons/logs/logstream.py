"""Which file a daemon's log is, opening it confined, and what a log page shows of it.

The client names a daemon and a log key (``MASTER_LOG``); the path is asked
from the daemon itself, mapped through its pool's log-path mapping, and
cached. Nothing a client sends ever becomes a path. Following a file for its
viewers is ``daemons.logs.readers``.

About 500 lines in one module, on purpose: locating a log and opening it
are one security boundary (the confinement rule, the checks after each
``open``), read and tested together.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import logging
import os
import re
import stat
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from django.conf import settings

import condor.client
import condor.tools
import condor.workers
from condor.errors import ProtocolError
from condor.types import SUBSYSTEM_BY_KIND, Credentials, Target
from daemons.logs import logtail
from daemons.models import Daemon, Pool

KEY_RE = re.compile(r"[A-Z0-9_]{1,64}\Z")
CLIENT_LOG_KEY = "TOOL_LOG"
# Paths asked from a daemon stay valid this long (a Reconfig may move a log).
PATH_CACHE_SECONDS = 300.0

logger = logging.getLogger(__name__)


class LogUnavailable(logtail.Unreadable):
    """The log cannot be streamed; ``message`` says why and ``hint`` what would fix it.

    ``refused``: the confinement rule forbids the file, so condor_fetchlog
    must not be tried instead. An ``Unreadable``, so a follower that meets it
    while following stops with this reason.
    """

    def __init__(self, message: str, *, hint: str = "", missing_key: bool = False, refused: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.missing_key = missing_key
        self.refused = refused

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


@dataclass(frozen=True)
class LogLocation:
    key: str
    daemon_path: str  # as the daemon writes it
    path: str  # where the console reads it
    # The only directory the file may lie in (the daemon's LOG, mapped), and
    # the directory that one must lie in (where the pool's mapping points).
    directory: str
    anchor: str
    # Where the console cannot read the file: the daemon to fetch it from
    # with condor_fetchlog, and why the file itself is out of reach.
    fetch_from: tuple[Target, Credentials] | None = None
    why: str = ""

    @property
    def source(self) -> str:
        """What one reader follows: a file, or a daemon's log fetched whole."""
        if self.fetch_from is None:
            return self.path
        target, credentials = self.fetch_from
        return f"fetchlog\0{target.address}\0{self.key}\0{credentials.token_file}"


# --------------------------------------------------------------------------
# Which file.
# --------------------------------------------------------------------------


def default_key(daemon: Daemon) -> str:
    """The daemon's own log: MASTER_LOG for a master, SCHEDD_LOG for a schedd, ..."""
    subsystem = SUBSYSTEM_BY_KIND.get(daemon.kind) or (daemon.subsystem or "").upper()
    key = f"{subsystem}_LOG"
    return key if KEY_RE.match(key) else "MASTER_LOG"


def validate_key(key: str) -> str:
    if not isinstance(key, str) or not KEY_RE.match(key) or not key.endswith("_LOG"):
        raise LogUnavailable(f"{str(key)[:70]!r} is not a log knob (e.g. MASTER_LOG).", missing_key=True)
    return key


_cache: dict[tuple[str, ...], tuple[float, object]] = {}
_cache_lock = threading.Lock()


def _cached(key: tuple[str, ...], compute):
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
        if hit and now - hit[0] < PATH_CACHE_SECONDS:
            return hit[1]
    value = compute()
    with _cache_lock:
        _cache[key] = (now, value)
    return value


def forget_cached_paths() -> None:
    with _cache_lock:
        _cache.clear()


def _identity(daemon: Daemon) -> tuple[str, str, str]:
    return (str(daemon.pool_id), daemon.address, daemon.pool.token_file)


def log_keys(daemon: Daemon) -> list[str]:
    """The ``*_LOG`` knobs the daemon's configuration names, its own log first. Blocking (HTCondor)."""

    def ask() -> list[str]:
        try:
            names = condor.client.remote_config_names(daemon.target, daemon.pool.credentials)
        except ProtocolError as exc:
            raise LogUnavailable(f"The console could not ask the daemon for its logs: {exc}") from None
        return sorted({n.upper() for n in names if n.upper().endswith("_LOG") and KEY_RE.match(n.upper())})

    own = default_key(daemon)
    keys = _cached(("keys", *_identity(daemon)), ask)
    return [own] + [k for k in keys if k != own]


def map_path(pool: Pool, daemon_path: str) -> str:
    """The console-side path of ``daemon_path`` through the pool's mapping, never outside it."""
    source = pool.log_path_from or "/"
    dest = pool.log_path_to or "/"
    if not os.path.isabs(daemon_path):
        raise LogUnavailable(f"The daemon names a relative log path ({daemon_path!r}); the console cannot place it.")
    normalised = os.path.normpath(daemon_path)
    prefix = os.path.normpath(source)
    if not (normalised == prefix or normalised.startswith(prefix.rstrip("/") + "/")):
        raise LogUnavailable(
            f"The daemon writes {normalised}, outside the pool's log-path mapping ({source} → {dest}).",
            hint=f"Set the pool's “log path from” to a prefix of {os.path.dirname(normalised)} and “log path to” "
            "to where the console host sees that directory.",
        )
    relative = os.path.relpath(normalised, prefix)
    return os.path.normpath(os.path.join(dest, relative)) if relative != "." else os.path.normpath(dest)


def locate(daemon: Daemon, key: str) -> LogLocation:
    """Where ``daemon``'s log ``key`` is on the console host. Blocking (HTCondor, cached)."""
    validate_key(key)
    if key != default_key(daemon) and key not in log_keys(daemon):
        raise LogUnavailable(f"{daemon.name} names no {key} in its configuration.", missing_key=True)

    def ask(knob: str):
        def value() -> str | None:
            try:
                return condor.client.remote_config_value(daemon.target, knob, daemon.pool.credentials)
            except ProtocolError as exc:
                raise LogUnavailable(f"The console could not ask the daemon where {knob} is: {exc}") from None

        return value

    daemon_path = _cached(("path", key, *_identity(daemon)), ask(key))
    if not daemon_path:
        raise LogUnavailable(f"{daemon.name} has no {key} defined.", missing_key=True)
    log_dir = _cached(("path", "LOG", *_identity(daemon)), ask("LOG"))
    _check_in_log_dir(daemon, key, daemon_path, log_dir)
    try:
        location = LogLocation(
            key=key,
            daemon_path=daemon_path,
            path=map_path(daemon.pool, daemon_path),
            directory=map_path(daemon.pool, log_dir),
            anchor=daemon.pool.log_path_to or "/",
        )
        _check_not_the_consoles_own(location)
        check_readable(location)
    except LogUnavailable as exc:
        credentials = daemon.pool.credentials
        # A refused file stays refused: the daemon would hand over the same file.
        if exc.refused or not condor.tools.fetchlog_available(credentials):
            raise
        return LogLocation(
            key=key,
            daemon_path=daemon_path,
            path=daemon_path,
            directory=os.path.normpath(log_dir),
            anchor="/",
            fetch_from=(daemon.target, credentials),
            why=str(exc),
        )
    return location


def _check_in_log_dir(daemon: Daemon, key: str, daemon_path: str, log_dir: str | None) -> None:
    """The daemon's own path must name a file in its LOG directory, before anything is opened or fetched.

    Only as text: the daemon's symlinks are resolved where the file is opened
    (``open_file``); condor_fetchlog reads on the daemon's host, and a path
    that leaves LOG by ``..`` or ``/proc/self`` must not be fetched either.
    """
    if not log_dir or not os.path.isabs(log_dir):
        raise LogUnavailable(
            f"The console will not read {daemon_path}: {daemon.name} names no absolute LOG directory.",
            hint=CONFINEMENT_RULE,
            refused=True,
        )
    if not _inside(os.path.normpath(daemon_path), os.path.normpath(log_dir)):
        raise LogUnavailable(
            f"The console will not read {daemon_path} ({key}): it is not in {daemon.name}'s log directory "
            f"{os.path.normpath(log_dir)} (LOG).",
            hint=CONFINEMENT_RULE,
            refused=True,
        )


def _check_not_the_consoles_own(location: LogLocation) -> None:
    """A pool's LOG must not resolve into or around the console's own files (its secret key, database, tokens).

    Where a pool has no log-path mapping, its LOG is taken as a console-host
    directory; this keeps a hostile pool from naming the console's.
    """
    root = os.path.realpath(location.directory)
    for own in (str(settings.BASE_DIR), str(settings.DATA_DIR)):
        own = os.path.realpath(own)
        if _inside(root, own) or _inside(own, root):
            raise LogUnavailable(
                f"The console will not read {location.path}: the log directory {location.directory} "
                f"resolves to {root}, which overlaps the console's own files ({own}).",
                hint=CONFINEMENT_RULE,
                refused=True,
            )


def client_log_location() -> LogLocation:
    """The console's own HTCondor client log (TOOL_LOG), confined to the directory the settings name."""
    path = condor.workers.client_logging()[1] or settings.CONDORWEB_TOOL_LOG
    directory = os.path.dirname(os.path.abspath(path))
    return LogLocation(key=CLIENT_LOG_KEY, daemon_path=path, path=path, directory=directory, anchor=directory)


CONFINEMENT_RULE = (
    "The console reads only a regular file whose real path, with every symbolic link and “..” resolved, lies in "
    "the daemon's log directory (its LOG knob, through the pool's log-path mapping)."
)
# A log directory never resolves into these: their files are the console's
# own (/proc/self/...) or devices, and "/" would confine nothing.
_PSEUDO_FILESYSTEMS = ("/proc", "/sys", "/dev")
_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: a FIFO swapped in after the check must not hang the open.
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


def _inside(path: str, directory: str) -> bool:
    """``path`` is ``directory`` or below it (both absolute and normalised)."""
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def open_file(location: LogLocation, path: str | None = None) -> io.BufferedReader:
    """The one way the console opens a log file: ``path`` (the log itself, or a rotated copy beside it), read-only.

    The real path must lie in the location's directory, and that in its
    anchor. The file is then reached from the directory one component at a
    time with O_NOFOLLOW, so a symbolic link swapped in after the check is
    not followed, and it must be a regular file before and after the open.
    Raises FileNotFoundError where there is no such file (yet), LogUnavailable
    (``refused``) where the rule forbids it, LogUnavailable where the console
    may not read it.
    """
    path = location.path if path is None else path
    anchor = os.path.realpath(location.anchor)
    root = os.path.realpath(location.directory)

    def refuse(why: str) -> LogUnavailable:
        return LogUnavailable(f"The console will not read {path}: {why}.", hint=CONFINEMENT_RULE, refused=True)

    if not _inside(root, anchor):
        raise refuse(f"the log directory {location.directory} resolves to {root}, outside {anchor}")
    if root == "/" or any(_inside(root, pseudo) for pseudo in _PSEUDO_FILESYSTEMS):
        raise refuse(f"the log directory {location.directory} resolves to {root}")
    real = os.path.realpath(path)
    if real == root:
        raise refuse(f"it is a directory, the log directory {root} itself")
    if not _inside(real, root):
        raise refuse(f"its real path {real} is not in the log directory {root}")
    try:
        directory_fd = os.open(root, _DIRECTORY_FLAGS)
    except FileNotFoundError:
        mapped = location.path != location.daemon_path
        raise LogUnavailable(
            f"The console host has no directory {location.directory}"
            + (
                f" (the daemon's {os.path.dirname(location.daemon_path)} through the pool's mapping)."
                if mapped
                else "."
            ),
            hint="If the daemons run on another host, mount their log directory on the console host and set the "
            f"pool's log-path mapping: “log path from” {os.path.dirname(location.daemon_path)} → "
            "“log path to” the mount point.",
        ) from None
    except PermissionError:
        raise _not_permitted(path) from None
    except OSError as exc:
        raise refuse(f"the log directory {root} cannot be opened as a directory ({exc.strerror})") from None
    try:
        *parents, name = os.path.relpath(real, root).split("/")
        for part in parents:
            next_fd = os.open(part, _DIRECTORY_FLAGS, dir_fd=directory_fd)
            os.close(directory_fd)
            directory_fd = next_fd
        before = os.stat(name, dir_fd=directory_fd, follow_symlinks=False)
        if not stat.S_ISREG(before.st_mode):
            # Refused unopened: opening a device may already do something.
            raise refuse(f"it is {_kind(before.st_mode)}")
        fd = os.open(name, _FILE_FLAGS, dir_fd=directory_fd)
    except FileNotFoundError:
        raise
    except PermissionError:
        raise _not_permitted(path) from None
    except OSError as exc:
        # ELOOP or ENOTDIR: a symbolic link was swapped in after the check.
        raise refuse(f"it changed while it was opened ({exc.strerror})") from None
    finally:
        os.close(directory_fd)
    after = os.fstat(fd)
    if not stat.S_ISREG(after.st_mode) or (after.st_dev, after.st_ino) != (before.st_dev, before.st_ino):
        os.close(fd)
        raise refuse("it was replaced while it was opened")
    return os.fdopen(fd, "rb")


def _not_permitted(path: str) -> LogUnavailable:
    return LogUnavailable(
        f"The console may not read {path}.",
        hint="Give the user the console runs as read access to the daemon's log directory.",
    )


def check_readable(location: LogLocation) -> None:
    """Raise LogUnavailable where the console cannot or will not read the log (a missing file is fine: not started yet)."""
    if location.fetch_from is not None:
        return
    try:
        open_file(location).close()
    except FileNotFoundError:
        pass


def tail_lines(location: LogLocation, lines: int) -> tuple[list[str], str, int]:
    """The last ``lines`` lines, the file they come from and the offset after them (for the page without JS)."""
    follower = follower_for(location)
    try:
        events = follower.start_at_end(lines)
    finally:
        follower.close()
    text = [line for event in events if isinstance(event, logtail.Chunk) for line in event.lines()]
    return text, follower.file, follower.offset


def follower_for(location: LogLocation) -> logtail.LogFollower | logtail.FetchedLogFollower:
    if location.fetch_from is None:
        return logtail.LogFollower(location.path, lambda path: open_file(location, path))
    target, credentials = location.fetch_from
    log = location.key[: -len("_LOG")]
    return logtail.FetchedLogFollower(
        lambda: condor.client.fetch_log(target, log, credentials), interval=settings.CONDORWEB_FETCHLOG_INTERVAL
    )


# --------------------------------------------------------------------------
# What a page shows.
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class LogView:
    """A log viewer as a page renders it; ``lines`` is the server-rendered tail, if any."""

    key: str
    ws_path: str
    download_url: str
    location: LogLocation | None = None
    problem: LogUnavailable | None = None
    lines: tuple[str, ...] = ()
    file: str = ""
    offset: int = 0
    with_tail: bool = False


def daemon_log_view(daemon: Daemon, key: str, *, with_tail: bool) -> LogView:
    """The viewer for ``daemon``'s log ``key``; with the tail, it asks the daemon (blocking, cached)."""
    from django.urls import reverse

    base = {
        "key": key,
        "ws_path": f"/ws/daemon/{int(daemon.pk)}/log/{key}/",
        "download_url": reverse("daemons:daemon_log_download", args=[daemon.pk]) + f"?log={key}",
    }
    if not with_tail:
        return LogView(**base)
    try:
        location = locate(daemon, key)
    except LogUnavailable as exc:
        return LogView(**base, problem=exc)
    return _with_tail(LogView(**base, location=location))


def client_log_view(*, with_tail: bool) -> LogView:
    from django.urls import reverse

    view = LogView(
        key=CLIENT_LOG_KEY,
        ws_path="/ws/diagnostics/client-log/",
        download_url=reverse("daemons:client_log_download"),
        location=client_log_location(),
    )
    return _with_tail(view) if with_tail else view


def _with_tail(view: LogView) -> LogView:
    assert view.location is not None
    try:
        lines, file, offset = tail_lines(view.location, settings.CONDORWEB_LOG_BACKLOG_LINES)
    except LogUnavailable as exc:
        return dataclasses.replace(view, problem=exc)
    except logtail.Unreadable as exc:
        why = f"condor_fetchlog was tried because: {view.location.why}" if view.location.why else ""
        return dataclasses.replace(view, problem=LogUnavailable(str(exc), hint=why))
    return dataclasses.replace(view, lines=tuple(lines), file=file, offset=offset, with_tail=True)


def open_log(location: LogLocation):
    """The log file for a download, or LogUnavailable saying why not (one over the size limit included)."""
    if location.fetch_from is not None:
        target, credentials = location.fetch_from
        try:
            return io.BytesIO(condor.client.fetch_log(target, location.key[: -len("_LOG")], credentials))
        except ProtocolError as exc:
            raise LogUnavailable(f"condor_fetchlog could not fetch the log: {exc}") from None
    try:
        handle = open_file(location)
    except FileNotFoundError:
        raise LogUnavailable(
            f"{os.path.basename(location.path)} does not exist yet (is the daemon started?)."
        ) from None
    size = os.fstat(handle.fileno()).st_size
    limit = settings.CONDORWEB_LOG_DOWNLOAD_MAX_BYTES
    if size > limit:
        handle.close()
        raise LogUnavailable(
            f"{os.path.basename(location.path)} is {size / 2**20:,.0f} MiB, more than the console's download limit "
            f"of {limit / 2**20:,.0f} MiB (CONDORWEB_LOG_DOWNLOAD_MAX_BYTES). Copy it from the daemon's host instead."
        )
    return handle


# A download is read and sent this much at a time: the memory one costs.
DOWNLOAD_CHUNK = 64 * 1024


async def download_chunks(handle) -> AsyncIterator[bytes]:
    """``handle``'s bytes up to its size at the start, a chunk at a time, read off the event loop; closes it.

    An asynchronous iterator because Django serves a synchronous one under
    ASGI by reading it whole into a list first: a 24 GB "log" (/dev/zero)
    grew the server to 24 GB before the kernel killed it. The
    size is taken once, so a log that grows while it is sent ends there.
    """
    try:
        left = len(handle.getbuffer()) if isinstance(handle, io.BytesIO) else os.fstat(handle.fileno()).st_size
        while left > 0:
            chunk = await asyncio.to_thread(handle.read, min(DOWNLOAD_CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk
    finally:
        handle.close()
