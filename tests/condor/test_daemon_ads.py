"""What a daemon's ad says of it, read defensively: here, when it started."""

from __future__ import annotations

from datetime import UTC, datetime

from condor import child


def test_a_daemon_that_advertises_its_start_time_started_then() -> None:
    assert child._start_time({"DaemonStartTime": 1_700_000_000}) == datetime.fromtimestamp(1_700_000_000, tz=UTC)


def test_a_collector_that_advertises_only_its_age_started_that_long_before_its_ad() -> None:
    ad = {"MyCurrentTime": 1_700_000_600, "MonitorSelfAge": 600}
    assert child._start_time(ad) == datetime.fromtimestamp(1_700_000_000, tz=UTC)


def test_an_ad_without_either_or_with_nonsense_has_no_start_time() -> None:
    assert child._start_time({}) is None
    assert child._start_time({"MyCurrentTime": "soon", "MonitorSelfAge": -5}) is None


def test_a_collector_just_started_is_zero_seconds_old() -> None:
    assert child._start_time({"MyCurrentTime": 1_700_000_000, "MonitorSelfAge": 0}) == datetime.fromtimestamp(
        1_700_000_000, tz=UTC
    )
