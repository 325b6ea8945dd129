"""The plain values the condor package hands back."""

from __future__ import annotations

from condor.types import INTERESTING_ATTRIBUTES


def test_the_attributes_a_daemons_page_shows_are_each_named_once() -> None:
    assert len(set(INTERESTING_ATTRIBUTES)) == len(INTERESTING_ATTRIBUTES)
