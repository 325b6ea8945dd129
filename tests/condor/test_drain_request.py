"""A drain request is checked when it is built, and offers only the completions the startd's version has."""

from __future__ import annotations

import pytest

import condor.client
from condor.errors import InvalidInput
from condor.types import Credentials, DrainCompletion, DrainRequest, DrainSpeed, Target, drain_completions

ALL_COMPLETIONS = tuple(DrainCompletion)


def test_a_23_9_startd_offers_every_completion() -> None:
    version = "$CondorVersion: 23.9.6 2024-08-08 BuildID: 742617 PackageID: 23.9.6-1 $"
    assert drain_completions(version) == ALL_COMPLETIONS


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("$CondorVersion: 9.12.0 Sep 27 2022 $", ALL_COMPLETIONS),
        ("$CondorVersion: 9.11.2 Aug 01 2022 $", ALL_COMPLETIONS[:4]),
        ("$CondorVersion: 8.9.12 Mar 01 2021 $", ALL_COMPLETIONS[:4]),
        ("$CondorVersion: 8.9.11 Jan 01 2021 $", (DrainCompletion.NOTHING, DrainCompletion.RESUME)),
        ("$CondorVersion: 7.8.0 May 01 2012 $", (DrainCompletion.NOTHING,)),
    ],
)
def test_it_offers_a_completion_from_the_version_that_brought_it(version: str, expected: tuple) -> None:
    assert drain_completions(version) == expected


@pytest.mark.parametrize("version", ["", "23.9.6", "$CondorVersion: unknown $", None, "x" * 10_000])
def test_an_unreadable_version_gets_the_completions_every_reachable_startd_has(version) -> None:
    assert drain_completions(version) == (DrainCompletion.NOTHING, DrainCompletion.RESUME)


def test_it_takes_speeds_and_completions_by_their_names_and_strips_the_reason() -> None:
    request = DrainRequest(speed="quick", reason="  kernel update  ", on_completion="resume")
    assert request.speed is DrainSpeed.QUICK
    assert request.on_completion is DrainCompletion.RESUME
    assert request.reason == "kernel update"
    assert (request.check, request.start) == ("", "")


@pytest.mark.parametrize("reason", ["", "   ", "two\nlines", "tab\there", "nul\x00", "x" * 257, None])
def test_it_refuses_a_reason_that_is_missing_or_not_one_short_line(reason) -> None:
    with pytest.raises(InvalidInput):
        DrainRequest(speed=DrainSpeed.GRACEFUL, reason=reason)


def test_it_refuses_an_unknown_speed_or_completion() -> None:
    with pytest.raises(InvalidInput, match="not a drain speed"):
        DrainRequest(speed="peaceful", reason="r")
    with pytest.raises(InvalidInput, match="on completion"):
        DrainRequest(speed=DrainSpeed.FAST, reason="r", on_completion="reboot")


@pytest.mark.parametrize(
    ("check", "problem"),
    [
        ("Cpus > 1\n|| true", "single line"),
        ("(Cpus > 1", "never closed"),
        ('Machine == "exec01', "never closed"),
        ("true ] [ Other = 1", "closes nothing"),
        ("true; Other = 1", "outside a nested ClassAd"),
    ],
)
def test_it_refuses_a_check_expression_that_could_not_stay_one_expression(check: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        DrainRequest(speed=DrainSpeed.GRACEFUL, reason="r", check=check)


def test_a_blank_check_or_start_means_none() -> None:
    request = DrainRequest(speed=DrainSpeed.GRACEFUL, reason="r", check="  ", start="")
    assert (request.check, request.start) == ("", "")


def test_only_a_startd_is_drained() -> None:
    master = Target(address="<127.0.0.1:1>", kind="master")
    with pytest.raises(InvalidInput, match="Only a startd drains"):
        condor.client.drain(master, DrainRequest(speed=DrainSpeed.FAST, reason="r"), Credentials())
    with pytest.raises(InvalidInput, match="Only a startd drains"):
        condor.client.cancel_drain(master, Credentials())


@pytest.mark.parametrize("request_id", ["abc", "1; 2", "-1", "1" * 11])
def test_a_cancel_takes_only_a_request_id_a_startd_hands_out(request_id: str) -> None:
    # The startd reads the id with atoi: "abc" would be 0, which a startd that
    # never drained takes as its own.
    startd = Target(address="<127.0.0.1:1>", kind="startd")
    with pytest.raises(InvalidInput, match="not a drain request id"):
        condor.client.cancel_drain(startd, Credentials(), request_id=request_id)
