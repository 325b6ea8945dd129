"""configview.redaction: values that can carry a secret are hidden, the rest shown; diffs still compare hidden values."""

from __future__ import annotations

from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from configview import redaction
from configview.diff import CHANGED, SAME, Side, compare
from configview.redaction import MARKER

# The knobs issue 19 found hidden, as the dev master (HTCondor 23.9) and the console's 25.x client give them:
# booleans declared by the parameter table, and paths (SEC_TOKEN_DIRECTORY is unknown to the client).
ISSUE_19_KNOBS = {
    "SEC_ENABLE_TOKEN_FETCH": ("true", "bool"),
    "SEC_USE_TOKENS_DATABASE": ("false", "bool"),
    "SEC_TOKEN_DIRECTORY": ("/var/lib/condor/tokens.d", ""),
    "SEC_TOKEN_SYSTEM_DIRECTORY": ("/etc/condor/tokens.d", "str"),
    "SEC_SCITOKENS_CACHE": ("/var/run/condor/cache", "str"),
    "SEC_TOKEN_POOL_SIGNING_KEY_FILE": ("/etc/condor/passwords.d/POOL", "str"),
}


def test_it_shows_the_booleans_and_paths_issue_19_found_hidden() -> None:
    for name, (value, declared) in ISSUE_19_KNOBS.items():
        assert not redaction.is_secret(name, value, declared), name


def test_it_shows_what_names_a_secret_without_being_one() -> None:
    # The last word says what the value is: a file, a directory, a URL, a domain, a name, a timeout.
    for name, value in {
        "SEC_PASSWORD_FILE": "/etc/condor/passwords.d/POOL",
        "SEC_PASSWORD_DIRECTORY": "/etc/condor/passwords.d",
        "BOX_TOKEN_URL": "https://api.box.com/oauth2/token",
        "ANNEX_TOKEN_DOMAIN": "example.org",
        "SEC_TOKEN_AP_SIGNING_KEY_NAME": "AP",
        "ECRYPTFS_KEY_TIMEOUT": "3600",
        "ANNEX_DEFAULT_SECRET_KEY_FILE": "/home/me/.condor/secretKeyFile",
    }.items():
        assert not redaction.is_secret(name, value, "str"), name


def test_it_hides_a_knob_whose_last_word_names_a_secret_in_any_case_and_under_a_prefix() -> None:
    for name in ("DB_PASSWORD", "schedd.my_api_key", "MASTER.POOL_PASSWD", "SITE_VAULT_TOKEN", "S3_SECRET"):
        assert redaction.is_secret(name, "s3cr3t", "str"), name
        assert redaction.is_secret(name, "s3cr3t"), name
    assert not redaction.is_secret("KEYBOARD_LAYOUT", "us", "str")


def test_it_shows_a_boolean_or_a_number_whatever_its_name() -> None:
    assert not redaction.is_secret("ENCRYPT_SECRETS", True, "bool")
    assert not redaction.is_secret("SEC_DEBUG_PRINT_KEYS", "false", "bool")
    assert not redaction.is_secret("SITE_TOKEN", "5", "int")
    assert not redaction.is_secret("SITE_TOKEN", 0.5, "float")
    # Declared as text, or not declared at all, the same name is hidden.
    assert redaction.is_secret("SITE_TOKEN", "5", "str")
    assert redaction.is_secret("SITE_TOKEN", "5", "")


def test_it_shows_the_knobs_htcondor_documents_as_key_names_or_paths() -> None:
    for name, value in {
        "SEC_TOKEN_ISSUER_KEY": "POOL",
        "SEC_TOKEN_FETCH_ALLOWED_SIGNING_KEYS": "POOL AP",
        "LOCAL_CREDMON_PRIVATE_KEY": "/etc/condor/scitokens-private.pem",
        "LOCAL_CREDMON_PUBLIC_KEY": "/etc/condor/scitokens.pem",
        "ECRYPTFS_ADD_PASSPHRASE": "ecryptfs-add-passphrase",
        "SCHEDD.SEC_TOKEN_ISSUER_KEY": "POOL",
    }.items():
        assert not redaction.is_secret(name, value, "str"), name


def test_it_hides_any_knob_whose_value_carries_a_credential() -> None:
    for name, value in {
        "HA_LOCK_URL": "https://lock:hunter2@ha.example.org/lock",
        "STARTER_JOB_ENVIRONMENT": '"HOME=/tmp AWS_SECRET_ACCESS_KEY=abc123"',
        "GRIDMANAGER_ARGS": "-f --db-password=hunter2",
        "SITE_HISTORY_DSN": "host=db user=condor password=hunter2",
        "SITE_PROXY": "http://me:hunter2@proxy:3128",
    }.items():
        assert redaction.is_secret(name, value, "str"), name
    # Even where the type says boolean: the value can only hide more.
    assert redaction.is_secret("SITE_FLAG", "https://u:p@host", "bool")


def test_it_shows_urls_environments_and_expressions_that_carry_no_credential() -> None:
    for name, value in {
        "ONEDRIVE_TOKEN_URL": "https://login.microsoftonline.com/common/oauth2/v2.0/token",
        "SITE_MIRROR": "ftp://anonymous@mirror.example.org/",
        "ENVIRONMENT_FOR_AssignedGPUs": "GPU_DEVICE_ORDINAL=/(CUDA|OCL)//  CUDA_VISIBLE_DEVICES=/CUDA//",
        "STARTER_JOB_ENVIRONMENT": "AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
        "SITE_RANK": "(MY.Token =?= 11) || (TARGET.Key == 3) || (Secret =!= UNDEFINED)",
    }.items():
        assert not redaction.is_secret(name, value, "str"), name


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(["DB_PASSWORD", "SEC_TOKEN_DIRECTORY", "ENCRYPT_SECRETS", "UPDATE_INTERVAL"]),
    declared=st.sampled_from(["", "str", "bool", "int"]),
    value=st.one_of(st.text(max_size=300), st.booleans(), st.integers()),
)
def test_what_a_daemon_sends_as_a_value_can_only_hide_more(name: str, declared: str, value: object) -> None:
    # A daemon's values are untrusted: only the name and the console's own declared type may show one.
    if redaction.is_secret(name, "plain", declared):
        assert redaction.is_secret(name, value, declared)


def test_the_sites_patterns_hide_more_whatever_the_type(settings) -> None:
    settings.CONDORWEB_REDACT_PATTERNS = ["*_ENVIRONMENT", "site_flag"]
    assert redaction.is_secret("STARTER_JOB_ENVIRONMENT", "HOME=/tmp", "str")
    assert redaction.is_secret("SITE_FLAG", True, "bool")
    assert not redaction.is_secret("UPDATE_INTERVAL", "5", "int")


def test_no_setting_shows_what_the_rule_hides(settings) -> None:
    settings.CONDORWEB_REDACT_PATTERNS = []
    assert redaction.is_secret("DB_PASSWORD", "hunter2", "str")


def test_a_secret_value_becomes_the_marker_and_a_keyed_hash() -> None:
    values, hashes = redaction.redact({"DB_PASSWORD": "hunter2", "UPDATE_INTERVAL": "5"}, {})
    assert values == {"DB_PASSWORD": MARKER, "UPDATE_INTERVAL": "5"}
    assert set(hashes) == {"DB_PASSWORD"}
    assert "hunter2" not in hashes["DB_PASSWORD"]


def test_redact_takes_each_knobs_declared_type() -> None:
    values, hashes = redaction.redact({"SITE_TOKEN": "5", "OTHER_TOKEN": "5"}, {"SITE_TOKEN": "int"})
    assert values == {"SITE_TOKEN": "5", "OTHER_TOKEN": MARKER} and set(hashes) == {"OTHER_TOKEN"}


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


def test_a_value_secret_by_todays_rule_is_hidden_in_an_older_snapshot_too() -> None:
    side = redaction.hide(Side(values={"API_TOKEN": "abc", "NAME": "x"}))
    assert side.values == {"API_TOKEN": MARKER, "NAME": "x"}
    assert set(side.hashes) == {"API_TOKEN"}


def test_aligned_sides_hide_a_knob_hidden_on_either_and_still_compare_it(settings) -> None:
    # Before issue 19 the default patterns hid SEC_TOKEN_DIRECTORY: older snapshots keep only its hash.
    settings.CONDORWEB_REDACT_PATTERNS = ["*TOKEN*"]
    old = hidden_side({"SEC_TOKEN_DIRECTORY": "/etc/condor/tokens.d"}, {})
    settings.CONDORWEB_REDACT_PATTERNS = []
    left, right = redaction.align(old, redaction.hide(Side(values={"SEC_TOKEN_DIRECTORY": "/etc/condor/tokens.d"})))
    assert right.values["SEC_TOKEN_DIRECTORY"] == MARKER
    assert compare(left, right).rows[0].status == SAME


def test_the_audit_trail_gets_the_marker_for_a_secret_and_the_value_otherwise() -> None:
    assert redaction.redact_text("DB_PASSWORD", "hunter2") == MARKER
    assert redaction.redact_text("DB_PASSWORD", "") == ""
    assert redaction.redact_text("HA_LOCK_URL", "https://u:hunter2@host/lock") == MARKER
    assert redaction.redact_text("SEC_TOKEN_DIRECTORY", "/etc/condor/tokens.d") == "/etc/condor/tokens.d"
    assert redaction.redact_text("UPDATE_INTERVAL", "5") == "5"
