"""daemons.background: jobs run in threads, at most one per key, and never reach the caller's errors; tests hold them or run them inline."""

from __future__ import annotations

import threading

import pytest

from daemons import background
from tests.helpers import wait_for


def test_it_runs_the_job_without_waiting_for_it() -> None:
    release = threading.Event()
    done = threading.Event()

    def job() -> None:
        release.wait(5)
        done.set()

    assert background.submit_once("test-slow", job) is True
    assert background.in_flight("test-slow")
    assert not done.is_set()
    release.set()
    wait_for(done.is_set, timeout=5, what="the job")
    wait_for(lambda: not background.in_flight("test-slow"), timeout=5, what="the key to be free")


def test_a_second_job_with_the_same_key_is_not_started_while_the_first_runs() -> None:
    release = threading.Event()
    runs: list[str] = []

    def job(label: str) -> None:
        runs.append(label)
        release.wait(5)

    assert background.submit_once("test-once", job, "first") is True
    assert background.submit_once("test-once", job, "second") is False
    release.set()
    wait_for(lambda: not background.in_flight("test-once"), timeout=5, what="the first job")
    assert runs == ["first"]


def test_jobs_with_other_keys_run_side_by_side() -> None:
    release = threading.Event()
    started: list[str] = []

    def job(label: str) -> None:
        started.append(label)
        release.wait(5)

    background.submit_once("test-a", job, "a")
    background.submit_once("test-b", job, "b")
    try:
        wait_for(lambda: sorted(started) == ["a", "b"], timeout=5, what="both jobs to start")
    finally:
        release.set()


def test_a_failing_job_is_logged_and_frees_its_key(caplog) -> None:
    def job() -> None:
        raise RuntimeError("boom")

    background.submit_once("test-fail", job)
    wait_for(lambda: not background.in_flight("test-fail"), timeout=5, what="the failed job")
    wait_for(lambda: "Background job 'test-fail' failed" in caplog.text, timeout=5, what="the log line")
    assert background.submit_once("test-fail", lambda: None) is True


def test_wait_all_returns_once_every_started_job_is_done() -> None:
    done: list[str] = []

    background.submit_once("test-wait-a", lambda: done.append("a"))
    background.submit_once("test-wait-b", lambda: done.append("b"))
    background.wait_all(timeout=10)

    assert sorted(done) == ["a", "b"]


def test_a_job_run_as_a_key_waits_for_the_one_running_and_one_queued_meanwhile_waits_for_it() -> None:
    releases = {label: threading.Event() for label in ("running", "after", "queued")}
    order: list[str] = []

    def job(label: str) -> None:
        order.append(label)
        releases[label].wait(5)

    background.submit_once("test-as", job, "running")
    wait_for(lambda: order == ["running"], timeout=5, what="the running job")
    waiter = threading.Thread(target=background.run_as, args=("test-as", job, "after"), kwargs={"wait": 5})
    waiter.start()
    waiter.join(0.2)
    assert order == ["running"]

    releases["running"].set()
    wait_for(lambda: order == ["running", "after"], timeout=5, what="the job run as the key")
    wait_for(lambda: not background.in_flight("test-as"), timeout=5, what="the first job to finish")
    assert background.submit_once("test-as", job, "queued") is True
    waiter.join(0.2)
    assert order == ["running", "after"]

    releases["after"].set()
    wait_for(lambda: order == ["running", "after", "queued"], timeout=5, what="the queued job")
    releases["queued"].set()
    waiter.join(5)
    wait_for(lambda: not background.in_flight("test-as"), timeout=5, what="the key to be free")


def test_a_job_run_as_a_key_does_not_wait_for_one_only_queued(background_jobs) -> None:
    ran = threading.Event()
    background.submit_once("test-queued", lambda: None)

    runner = threading.Thread(target=background.run_as, args=("test-queued", ran.set), kwargs={"wait": 60})
    runner.start()
    runner.join(5)

    assert ran.is_set() and not runner.is_alive()
    assert background_jobs.run() == 1


def test_a_job_run_as_a_key_held_past_the_wait_runs_anyway() -> None:
    release = threading.Event()
    background.submit_once("test-stuck", release.wait, 5)
    try:
        assert background.run_as("test-stuck", lambda: "ran", wait=0.1) == "ran"
        assert background.in_flight("test-stuck")  # still the stuck job's
    finally:
        release.set()
    wait_for(lambda: not background.in_flight("test-stuck"), timeout=5, what="the stuck job")


def test_jobs_run_while_bulk_commands_hold_as_many_threads_as_jobs_have() -> None:
    release = threading.Event()
    done = threading.Event()
    batches = [("test-batch", n) for n in range(background.MAX_THREADS)]
    for key in batches:
        background.submit_once(key, release.wait, 5, lane="commands")
    try:
        background.submit_once("test-refresh", done.set)
        wait_for(done.is_set, timeout=5, what="a job beside the held command threads")
    finally:
        release.set()
    wait_for(lambda: not any(background.in_flight(key) for key in batches), timeout=10, what="the command jobs")


def test_held_jobs_wait_for_the_test_one_per_key_and_their_errors_reach_it() -> None:
    ran: list[str] = []

    def fail() -> None:
        raise RuntimeError("the job failed")

    with background.hold() as held:
        assert background.submit_once(("test-held", 1), ran.append, "first") is True
        assert background.submit_once(("test-held", 1), ran.append, "second") is False
        background.submit_once("test-held-fail", fail)
        assert ran == [] and held.kinds() == ["test-held", "test-held-fail"]
        assert held.run("test-held") == 1
        assert ran == ["first"] and not background.in_flight(("test-held", 1))
        with pytest.raises(RuntimeError, match="the job failed"):
            held.run()
    assert not background.in_flight("test-held-fail")


def test_a_job_never_run_under_hold_leaves_its_key_free() -> None:
    with background.hold():
        background.submit_once("test-held-never", lambda: None)
    assert not background.in_flight("test-held-never")


def test_inline_jobs_run_at_once_in_the_callers_thread() -> None:
    threads: list[threading.Thread] = []
    with background.inline():
        assert background.submit_once("test-inline", lambda: threads.append(threading.current_thread())) is True
    assert threads == [threading.current_thread()]
