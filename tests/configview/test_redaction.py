"""configview.redaction: secrets are hidden, yet diffs still say whether two hidden values are equal."""

from __future__ import annotations

from configview import redaction
from configview.diff import CHANGED, SAME, Side, compare
from configview.redaction import MARKER


def test_knob_names_match_the_redaction_patterns_in_any_case(settings) -> None:
    settings.CONDORWEB_REDACT_PATTERNS = ["*PASSWORD*", "*_KEY"]
    assert redaction.is_secret("SEC_PASSWORD_FILE")
    assert redaction.is_secret("schedd.my_key")
    assert not redaction.is_secret("KEYBOARD_LAYOUT")
    assert not redaction.is_secret("UPDATE_INTERVAL")


def test_a_secret_value_becomes_the_marker_and_a_keyed_hash() -> None:
    values, hashes = redaction.redact({"DB_PASSWORD": "hunter2", "UPDATE_INTERVAL": "5"}, {})
    assert values == {"DB_PASSWORD": MARKER, "UPDATE_INTERVAL": "5"}
    assert set(hashes) == {"DB_PASSWORD"}
    assert "hunter2" not in hashes["DB_PASSWORD"]


def test_an_undefined_secret_stays_undefined() -> None:
    values, hashes = redaction.redact({"DB_PASSWORD": None}, {})
    assert values == {"DB_PASSWORD": None} and hashes == {}


def test_the_hash_depends_on_the_secret_key(settings) -> None:
    _, before = redaction.redact({"DB_PASSWORD": "hunter2"}, {})
    settings.SECRET_KEY = "another-" + "k" * 60
    _, after = redaction.redact({"DB_PASSWORD": "hunter2"}, {})
    assert before != after


def test_equal_secrets_of_different_knobs_do_not_look_alike() -> None:
    _, hashes = redaction.redact({"A_PASSWORD": "same", "B_PASSWORD": "same"}, {})
    assert hashes["A_PASSWORD"] != hashes["B_PASSWORD"]


def hidden_side(values: dict, types: dict) -> Side:
    clear, hashes = redaction.redact(values, types)
    return Side(values=clear, types=types, hashes=hashes)


def test_hidden_values_equal_under_their_type_compare_equal(settings) -> None:
    settings.CONDORWEB_REDACT_PATTERNS = ["*SECRET*"]
    types = {"SECRET_PORT": "int"}
    local = hidden_side({"SECRET_PORT": 300}, types)
    assert compare(local, hidden_side({"SECRET_PORT": "300"}, types)).rows[0].status == SAME
    assert compare(local, hidden_side({"SECRET_PORT": "301"}, types)).rows[0].status == CHANGED


def test_a_value_secret_by_todays_patterns_is_hidden_in_an_older_snapshot_too(settings) -> None:
    settings.CONDORWEB_REDACT_PATTERNS = ["*TOKEN*"]
    side = redaction.hide(Side(values={"API_TOKEN": "abc", "NAME": "x"}))
    assert side.values == {"API_TOKEN": MARKER, "NAME": "x"}
    assert set(side.hashes) == {"API_TOKEN"}


def test_aligned_sides_hide_a_knob_hidden_on_either_and_still_compare_it(settings) -> None:
    # Hidden under the patterns of the day the snapshot was taken, no longer secret by today's.
    settings.CONDORWEB_REDACT_PATTERNS = ["*PASSWORD*"]
    old = hidden_side({"DB_PASSWORD": "s3"}, {})
    settings.CONDORWEB_REDACT_PATTERNS = []
    left, right = redaction.align(old, Side(values={"DB_PASSWORD": "s3"}))
    assert right.values["DB_PASSWORD"] == MARKER
    assert compare(left, right).rows[0].status == SAME


def test_the_audit_trail_gets_the_marker_for_a_secret_and_the_value_otherwise() -> None:
    assert redaction.redact_text("DB_PASSWORD", "hunter2") == MARKER
    assert redaction.redact_text("DB_PASSWORD", "") == ""
    assert redaction.redact_text("UPDATE_INTERVAL", "5") == "5"
