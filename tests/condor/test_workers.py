"""Binding calls run in worker processes with a bounded wait."""

from __future__ import annotations

import threading
import time

import pytest

import condor.client
import condor.tools
import condor.workers
from condor.errors import DaemonUnreachable, InvalidInput, NotAuthorized, OutputTooLarge, PoolBusy, ProtocolTimeout
from condor.types import Credentials, Target


def test_it_reads_the_local_configuration_with_types() -> None:
    knobs = {k.name: k for k in condor.client.local_config()}
    assert knobs["UPDATE_INTERVAL"].value == 300
    assert knobs["UPDATE_INTERVAL"].type == "int"
    assert isinstance(knobs["ENABLE_RUNTIME_CONFIG"].value, bool)


def test_it_resolves_subsystem_prefixes_like_set_subsystem(tmp_path) -> None:
    config = tmp_path / "condor_config"
    config.write_text("TEST_FOO = foo\nSCHEDD.TEST_FOO = bar\n")
    condor.workers.configure(local_config_file=str(config))
    try:
        as_tool = {k.name: k.value for k in condor.client.local_config()}
        as_schedd = {k.name: k.value for k in condor.client.local_config("SCHEDD")}
    finally:
        condor.workers.configure(local_config_file="")
    assert as_tool["TEST_FOO"] == "foo"
    assert as_schedd["TEST_FOO"] == "bar"


def test_seen_as_a_subsystem_a_value_names_its_prefixed_entry_and_the_value_it_overrides(tmp_path) -> None:
    config = tmp_path / "condor_config"
    config.write_text("TEST_FOO = foo\nSCHEDD.TEST_FOO = bar\nSCHEDD.TEST_BAR = only\n")
    condor.workers.configure(local_config_file=str(config))
    try:
        as_tool = {k.name: k for k in condor.client.local_config()}
        as_schedd = {k.name: k for k in condor.client.local_config("SCHEDD")}
    finally:
        condor.workers.configure(local_config_file="")
    assert (as_tool["TEST_FOO"].prefixed, as_tool["TEST_FOO"].overrides) == ("", None)
    assert (as_schedd["TEST_FOO"].prefixed, as_schedd["TEST_FOO"].overrides) == ("SCHEDD.TEST_FOO", "foo")
    # Only the prefixed entry: the bindings do not resolve TEST_BAR from it.
    assert "TEST_BAR" not in as_schedd and as_schedd["SCHEDD.TEST_BAR"].value == "only"


def test_a_closed_port_is_reported_unreachable_at_once() -> None:
    started = time.monotonic()
    with pytest.raises(DaemonUnreachable, match="Cannot connect"):
        condor.client.discover("127.0.0.1:9", Credentials())
    assert time.monotonic() - started < 5


def test_a_black_holed_daemon_times_out_within_the_bound(black_hole: int, short_timeout: None) -> None:
    target = Target(address=f"<127.0.0.1:{black_hole}>", kind="master")
    started = time.monotonic()
    with pytest.raises(ProtocolTimeout, match=r"within 1\.5 s"):
        condor.client.remote_config_names(target, Credentials())
    assert time.monotonic() - started < 4


def test_other_calls_proceed_while_one_is_stuck(black_hole: int, short_timeout: None) -> None:
    target = Target(address=f"<127.0.0.1:{black_hole}>", kind="master")

    def stuck_call() -> None:
        with pytest.raises(ProtocolTimeout):
            condor.client.remote_config_names(target, Credentials())

    stuck = threading.Thread(target=stuck_call)
    stuck.start()
    time.sleep(0.2)
    started = time.monotonic()
    assert condor.client.local_config()
    assert time.monotonic() - started < 1.0
    stuck.join()


def test_a_tool_the_daemon_refuses_runs_once(black_hole: int, tmp_path) -> None:
    runs = tmp_path / "runs"
    tool = tmp_path / "condor_config_val"
    tool.write_text(f"#!/bin/sh\necho run >> {runs}\necho 'SECMAN:2010:Received \"DENIED\" from server' >&2\nexit 1\n")
    tool.chmod(0o755)
    target = Target(address=f"<127.0.0.1:{black_hole}>", kind="master")

    with pytest.raises(NotAuthorized, match="DENIED"):
        condor.client.remote_config_sources(target, Credentials(config_val=(str(tool),)))

    assert runs.read_text().splitlines() == ["run"]


def test_client_logging_writes_the_tool_log(tmp_path) -> None:
    log = tmp_path / "tool.log"
    condor.workers.set_client_logging(debug="D_FULLDEBUG", log_path=str(log))
    try:
        with pytest.raises(DaemonUnreachable):
            condor.client.discover("127.0.0.1:9", Credentials())
    finally:
        condor.workers.set_client_logging(debug="", log_path="")
        condor.workers.shutdown_workers()
    assert log.exists() and log.read_text()


def test_it_refuses_bad_client_logging_settings() -> None:
    with pytest.raises(InvalidInput):
        condor.workers.set_client_logging(debug="D_ALL\nX", log_path="/tmp/x")
    with pytest.raises(InvalidInput):
        condor.workers.set_client_logging(debug="D_ALL", log_path="relative.log")


def test_a_tool_that_prints_without_end_is_stopped_at_the_output_limit(tmp_path) -> None:
    tool = tmp_path / "condor_fetchlog"
    tool.write_text("#!/bin/sh\nexec cat /dev/zero\n")
    tool.chmod(0o755)
    target = Target(address="<127.0.0.1:9618>", kind="master")
    try:
        with pytest.raises(OutputTooLarge, match=f"printed more than {condor.tools.TOOL_OUTPUT_LIMIT // 2**20} MiB"):
            condor.client.fetch_log(target, "MASTER", Credentials(config_val=(str(tmp_path / "condor_config_val"),)))
    finally:
        condor.workers.shutdown_workers()


def test_a_fetch_that_outlives_its_bound_names_the_setting_that_bounds_it(black_hole: int, short_timeout: None) -> None:
    pool = condor.workers.pool_for(Credentials())
    with pytest.raises(ProtocolTimeout, match="did not finish within 1 s") as timed_out:
        pool.map("names", [(f"<127.0.0.1:{black_hole}>",)], parallel=1, timeout=1.0, on_chunk=lambda part: None)
    assert "CONDORWEB_HTCONDOR_TIMEOUT" in timed_out.value.hint


class _RecordingPool:
    """Stands in for a pool's workers: a daemon with one knob, and the bound each fetch was given."""

    def __init__(self) -> None:
        self.fetch_timeouts: list[float] = []

    def call(self, func: str, args: tuple, timeout: float | None = None) -> list[str]:
        return ["UPDATE_INTERVAL"]

    def map(self, func: str, chunks: list, *, parallel: int, timeout: float, on_chunk) -> None:
        self.fetch_timeouts.append(timeout)
        on_chunk({"UPDATE_INTERVAL": "5"})


@pytest.mark.parametrize(("timeout", "bound"), [(0.5, 30.0), (1.0, 30.0), (5.0, 30.0), (10.0, 60.0), (20.0, 120.0)])
def test_a_full_fetch_gets_six_timeouts_and_never_less_than_30_seconds(
    monkeypatch: pytest.MonkeyPatch, timeout: float, bound: float
) -> None:
    recording = _RecordingPool()
    monkeypatch.setattr(condor.workers, "pool_for", lambda credentials: recording)
    monkeypatch.setattr(condor.workers.settings, "timeout", timeout)

    values = condor.client.remote_config_all(Target(address="<127.0.0.1:9618>", kind="master"), Credentials())

    assert values == {"UPDATE_INTERVAL": "5"}
    assert recording.fetch_timeouts == [bound]


def _outcome(call, *args) -> BaseException | object:
    try:
        return call(*args)
    except BaseException as exc:
        return exc


@pytest.fixture
def one_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every pool has a single worker process, so a second call must wait for the first."""
    monkeypatch.setattr(condor.workers.settings, "workers_per_pool", 1)


def test_a_call_to_a_busy_pool_waits_for_a_worker_and_then_gets_its_whole_timeout(
    black_hole: int, short_timeout: None, one_worker: None
) -> None:
    stuck = Target(address=f"<127.0.0.1:{black_hole}>", kind="master")
    first: list[object] = []
    holder = threading.Thread(
        target=lambda: first.append(_outcome(condor.client.remote_config_names, stuck, Credentials()))
    )
    holder.start()
    time.sleep(0.05)

    # The pool's one worker is stuck on the black hole for 1.5 s; this call
    # waits its turn, then reaches the (closed) collector port itself.
    second = _outcome(condor.client.discover, "127.0.0.1:9", Credentials())
    holder.join()

    assert isinstance(first[0], ProtocolTimeout)
    assert isinstance(second, DaemonUnreachable), second


def test_waiting_calls_are_served_in_the_order_they_came(
    black_hole: int, short_timeout: None, one_worker: None
) -> None:
    stuck = Target(address=f"<127.0.0.1:{black_hole}>", kind="master")
    holder = threading.Thread(target=_outcome, args=(condor.client.remote_config_names, stuck, Credentials()))
    holder.start()
    time.sleep(0.05)
    finished: list[tuple[str, str]] = []

    def closed_port(name: str) -> None:
        outcome = _outcome(condor.client.discover, "127.0.0.1:9", Credentials())
        finished.append((name, type(outcome).__name__))

    waiters = [threading.Thread(target=closed_port, args=(name,)) for name in ("first", "second", "third")]
    for waiter in waiters:
        waiter.start()
        time.sleep(0.05)
    for thread in (holder, *waiters):
        thread.join()

    assert finished == [("first", "DaemonUnreachable"), ("second", "DaemonUnreachable"), ("third", "DaemonUnreachable")]


def test_a_call_that_never_gets_a_worker_gives_up_unsent_and_says_so(
    black_hole: int, short_timeout: None, one_worker: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(condor.workers, "QUEUE_WAIT_FLOOR", 0.3)
    monkeypatch.setattr(condor.workers, "QUEUE_WAIT_TIMEOUTS", 0)
    stuck = Target(address=f"<127.0.0.1:{black_hole}>", kind="master")
    holder = threading.Thread(target=_outcome, args=(condor.client.remote_config_names, stuck, Credentials()))
    holder.start()
    time.sleep(0.05)

    started = time.monotonic()
    given_up = _outcome(condor.client.discover, "127.0.0.1:9", Credentials())
    waited = time.monotonic() - started
    holder.join()

    assert isinstance(given_up, PoolBusy), given_up
    assert given_up.outcome == "error" and str(given_up).startswith("Not sent:")
    assert 0.3 <= waited < 1.2
