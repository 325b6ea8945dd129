"""The worker processes that make every binding call, and the settings that bound them.

Every binding call runs in a child process (``condor.child``), never in the
console's own process:

* the bindings hold the GIL for most of a call, which starved the asyncio
  event loop of the process making it (every websocket and page it serves),
  and
* the IDTOKEN directory is process-wide configuration, so each set of pool
  credentials gets processes of its own and two pools can never race on it.

A call that outlives its deadline kills its worker, so a black-holed address
costs one bounded wait instead of a stuck thread.

The settings arrive through ``configure`` (``daemons.apps`` passes the
console's ``CONDORWEB_*`` settings); this package never reads Django's.
The module runs a little over 400 lines because the pool's queue, its
processes and the settings that bound them change together.
"""

from __future__ import annotations

import collections
import multiprocessing
import multiprocessing.connection
import os
import queue
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from condor import child
from condor.errors import DaemonUnreachable, InvalidInput, NotAuthorized, PoolBusy, ProtocolError, ProtocolTimeout
from condor.types import Credentials


@dataclass
class Settings:
    """What bounds this package's work.

    The defaults of the first three are the console's: ``condorweb/settings.py``
    reads CONDORWEB_HTCONDOR_TIMEOUT, CONDORWEB_WORKERS_PER_POOL and
    CONDORWEB_FETCH_WORKERS with these as their defaults, and
    ``daemons.apps`` hands the values to ``configure``.
    """

    timeout: float = 10.0
    workers_per_pool: int = 3
    fetch_workers: int = 3
    fetch_chunk: int = 64
    client_debug: str = ""
    client_log: str = ""
    local_config_file: str = ""

    @property
    def fetch_timeout(self) -> float:
        """How long a daemon's full configuration fetch (``client.remote_config_all``) may take."""
        # A master lists about 1,130 knobs: 18 chunks over 3 fetch workers, so
        # each worker makes about 6 calls, each allowed one timeout. The floor
        # keeps a short timeout (0.5 s is allowed) from cutting off a fetch
        # over a slow network, as the tools' 30 s floor does for theirs.
        return max(FETCH_FLOOR, FETCH_TIMEOUTS * self.timeout)

    @property
    def queue_wait(self) -> float:
        """How long a call waits its turn for one of its pool's workers before giving up unsent (PoolBusy)."""
        # Every call gives its worker back within its own bound (a timeout, a
        # fetch's or a tool's), killed if need be, and waiters are served in
        # turn: behind two bulk batches, a fetch and the pages of one pool, a
        # call waits a few such bounds. Five minutes, or 30 timeouts, means
        # the pool is saturated, and then the call says it was not sent
        # rather than recording a timeout for a daemon it never reached.
        return max(QUEUE_WAIT_FLOOR, QUEUE_WAIT_TIMEOUTS * self.timeout)


FETCH_TIMEOUTS = 6
FETCH_FLOOR = 30.0
QUEUE_WAIT_TIMEOUTS = 30
QUEUE_WAIT_FLOOR = 300.0

settings = Settings()
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
        if local_config_file is not None and local_config_file != settings.local_config_file:
            settings.local_config_file = local_config_file
            _drop_pool(LOCAL)
        if timeout is not None:
            settings.timeout = float(timeout)
        if workers_per_pool is not None:
            settings.workers_per_pool = max(1, int(workers_per_pool))
        if fetch_workers is not None:
            settings.fetch_workers = max(1, int(fetch_workers))


def set_client_logging(*, debug: str, log_path: str) -> None:
    """Switch the console's own HTCondor client log on or off (TOOL_DEBUG, TOOL_LOG).

    Applies to every worker now running and to those started later.
    """
    if debug and not re.fullmatch(r"[A-Z_:0-9 ,|]+", debug):
        raise InvalidInput(f"{debug[:60]!r} is not a TOOL_DEBUG value.", hint="Example: D_FULLDEBUG D_SECURITY")
    if log_path and (not os.path.isabs(log_path) or "\n" in log_path):
        raise InvalidInput("TOOL_LOG must be an absolute path.")
    with _settings_lock:
        settings.client_debug = debug
        settings.client_log = log_path
    for pool in list(_pools.values()):
        pool.broadcast("apply_logging", (debug, log_path))


def client_logging() -> tuple[str, str]:
    return settings.client_debug, settings.client_log


class _Worker:
    """One child process with one HTCondor client configuration."""

    def __init__(self, environment: dict[str, Any]) -> None:
        ctx = multiprocessing.get_context("spawn")
        parent_end, child_end = ctx.Pipe()
        self._process = ctx.Process(
            target=child.main,
            args=(child_end, environment, client_logging()),
            daemon=True,
            name="condorweb-htcondor",
        )
        self._process.start()
        child_end.close()
        self.conn = parent_end

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


# Worker calls that run one of HTCondor's command-line tools (see condor.child).
_TOOL_CALLS = frozenset({"config_val", "fetchlog"})


class _WorkerPool:
    """The worker processes for one set of credentials, at most ``settings.workers_per_pool`` of them.

    A call takes a worker, or waits its turn for one (first come, first
    served, up to ``settings.queue_wait``), and its own deadline starts when
    it is sent: waiting behind other calls to the same pool never uses up a
    call's timeout, so a busy pool delays calls instead of failing them.
    """

    def __init__(self, credentials: Credentials) -> None:
        self._credentials = credentials
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._started = 0
        self._lock = threading.Lock()
        self._available = threading.Condition(self._lock)
        # Calls waiting for a worker, in the order they came; the first is served next.
        self._turns: collections.deque[object] = collections.deque()

    def _environment(self) -> dict[str, Any]:
        return {
            "local": self._credentials == LOCAL,
            "token_file": self._credentials.token_file,
            "local_config_file": settings.local_config_file,
        }

    def _acquire(self) -> _Worker:
        """A worker, once it is this caller's turn and one is free or may be started; PoolBusy past the queue wait."""
        wait = settings.queue_wait
        give_up = time.monotonic() + wait
        turn = object()
        with self._available:
            self._turns.append(turn)
            try:
                while True:
                    if self._turns[0] is turn:
                        worker = self._take_idle()
                        if worker is not None:
                            return worker
                        if self._started < settings.workers_per_pool:
                            self._started += 1
                            break
                    remaining = give_up - time.monotonic()
                    if remaining <= 0:
                        raise PoolBusy(
                            f"Not sent: every connection to this pool stayed busy for {wait:g} s.",
                            hint="Other commands or fetches to this pool are still running (a slow or black-holed "
                            "daemon may be holding them); try again once they have finished.",
                        )
                    self._available.wait(remaining)
            finally:
                self._turns.remove(turn)
                # The next in line may go now (or give up in its turn).
                self._available.notify_all()
        return self._start()

    def _acquire_if_free(self) -> _Worker | None:
        """A worker if one is free now and nobody waits for one; else None, at once."""
        with self._available:
            if self._turns:
                return None
            worker = self._take_idle()
            if worker is not None:
                return worker
            if self._started >= settings.workers_per_pool:
                return None
            self._started += 1
        return self._start()

    def _take_idle(self) -> _Worker | None:
        """An idle live worker, dropping dead ones; the lock is held."""
        while True:
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                return None
            if worker.alive:
                return worker
            self._started -= 1

    def _start(self) -> _Worker:
        """A new worker in the place ``_acquire`` counted for it."""
        try:
            return _Worker(self._environment())
        except Exception:
            with self._available:
                self._started -= 1
                self._available.notify_all()
            raise

    def _release(self, worker: _Worker, healthy: bool) -> None:
        with self._available:
            if healthy and worker.alive:
                self._idle.put(worker)
            else:
                worker.kill()
                self._started -= 1
            self._available.notify_all()

    def call(self, func: str, args: tuple[Any, ...], timeout: float | None = None) -> Any:
        """``func(*args)`` on a worker; ``timeout`` (default: the HTCondor timeout) counts from the send."""
        timeout = settings.timeout if timeout is None else timeout
        try:
            return self._call_once(func, args, timeout)
        except NotAuthorized:
            # A worker's cached security sessions die with the daemon that
            # granted them: after a pool restart the first request through each
            # older worker fails like a refusal. New workers negotiate afresh,
            # and HTCondor refuses before it acts, so asking again is safe.
            # A tool is a process of its own that negotiates afresh every run:
            # its refusal is the daemon's answer.
            # The second send has a timeout of its own, like any call.
            if func in _TOOL_CALLS:
                raise
            self.retire_idle()
            return self._call_once(func, args, timeout)

    def _call_once(self, func: str, args: tuple[Any, ...], timeout: float) -> Any:
        worker = self._acquire()
        healthy = False
        try:
            deadline = time.monotonic() + timeout
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
        """Run ``func`` over ``chunks`` on up to ``parallel`` workers at once, all within ``timeout`` (a fetch's).

        It waits its turn for one worker, takes more only if they are free at
        once, and its deadline starts when the first chunk is sent.
        """
        if not chunks:
            return
        pending = list(reversed(chunks))
        busy: dict[Any, _Worker] = {}
        workers: list[_Worker] = []
        healthy = True
        try:
            workers.append(self._acquire())
            while len(workers) < min(parallel, len(chunks)) and (extra := self._acquire_if_free()) is not None:
                workers.append(extra)
            deadline = time.monotonic() + timeout
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
                        hint=f"The daemon may be overloaded; a full fetch may take {FETCH_TIMEOUTS} times "
                        f"CONDORWEB_HTCONDOR_TIMEOUT, and at least {FETCH_FLOOR:g} s.",
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
                ok = worker.conn.poll(settings.timeout)
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
# The console host's own configuration: no pool, the host's own HTCondor files.
LOCAL = Credentials(token_file="\0local")


def pool_for(credentials: Credentials) -> _WorkerPool:
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
