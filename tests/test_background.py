"""daemons.background: jobs run in threads, at most one per key, and never reach the caller's errors."""

from __future__ import annotations

import threading

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
