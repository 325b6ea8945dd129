"""Adding and editing a pool: checked input, then a side-effect-free look at the pool before saving."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from condor.types import AuthorizationCheck
from daemons.inventory import services
from daemons.models import Pool
from devtools import devpool

pytestmark = pytest.mark.usefixtures("background_jobs")

ADD = reverse("daemons:pool_add")
SECRET = "eyJhbGciOiJIUzI1NiJ9.SECRET-TOKEN-BODY.signature"


@pytest.fixture
def token(tmp_path: Path) -> Path:
    path = tmp_path / "pool.token"
    path.write_text(SECRET + "\n")
    path.chmod(0o600)
    return path


@pytest.fixture
def as_admin(client: Client, admin) -> Client:
    client.force_login(admin)
    return client


@pytest.fixture
def reachable(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """A pool that answers: READ and ADMINISTRATOR allowed, CONFIG not."""
    calls: list[dict] = []

    def check(**kwargs: str) -> services.PoolCheck:
        calls.append(kwargs)
        return services.PoolCheck(
            daemons=5,
            master="cm.example.org",
            levels=(
                AuthorizationCheck("READ", True, "console@example.org"),
                AuthorizationCheck("ADMINISTRATOR", True, "console@example.org"),
                AuthorizationCheck("CONFIG", False, ""),
            ),
        )

    monkeypatch.setattr(services, "pool_connection_check", check)
    return calls


def fields(token: Path | str = "", **changes: str) -> dict[str, str]:
    return {
        "name": "cluster",
        "collector": "cm.example.org:9618",
        "token_file": str(token),
        "config_val": "",
        "log_path_from": "/",
        "log_path_to": "/",
        "description": "",
    } | changes


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_anonymous_visitors_are_sent_to_log_in(client: Client, db: None) -> None:
    response = client.get(ADD)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", ["viewer", "operator", "nobody"])
def test_only_administrators_may_add_a_pool(client: Client, role: str, request: pytest.FixtureRequest) -> None:
    client.force_login(request.getfixturevalue(role))
    assert client.get(ADD).status_code == 403
    assert client.post(ADD, fields()).status_code == 403
    assert not Pool.objects.exists()


@pytest.mark.parametrize("role", ["viewer", "operator", "nobody"])
def test_only_administrators_may_edit_a_pool(
    client: Client, db: None, role: str, request: pytest.FixtureRequest
) -> None:
    pool = services.pool_save(name="cluster", collector="cm.example.org:9618")
    client.force_login(request.getfixturevalue(role))
    edit = reverse("daemons:pool_edit", args=[pool.pk])
    assert client.get(edit).status_code == 403
    assert client.post(edit, fields(name="renamed")).status_code == 403
    assert Pool.objects.get().name == "cluster"


def test_an_administrator_gets_the_form(as_admin: Client) -> None:
    page = as_admin.get(ADD).content.decode()
    for name in ("name", "collector", "token_file", "config_val", "log_path_from", "log_path_to"):
        assert f'name="{name}"' in page


def test_a_bad_collector_address_is_a_form_error(as_admin: Client, reachable: list) -> None:
    response = as_admin.post(ADD, fields(collector="cm.example.org:99999; rm -rf /"))
    assert response.status_code == 200
    assert "is not a collector address" in response.content.decode()
    assert not Pool.objects.exists()
    assert reachable == []


def test_a_token_file_that_does_not_exist_is_a_form_error(as_admin: Client, reachable: list, tmp_path: Path) -> None:
    response = as_admin.post(ADD, fields(tmp_path / "nope.token"))
    assert "There is no file at" in response.content.decode()
    assert not Pool.objects.exists()


def test_a_relative_token_path_is_a_form_error(as_admin: Client, reachable: list) -> None:
    response = as_admin.post(ADD, fields("tokens/pool.token"))
    assert "absolute path" in response.content.decode()


def _refused_token(as_admin: Client, path: Path | str) -> str:
    response = as_admin.post(ADD, fields(path))
    assert response.status_code == 200 and not Pool.objects.exists()
    return response.content.decode()


def test_a_token_file_others_can_read_is_refused_with_the_chmod_to_run(
    as_admin: Client, reachable: list, token: Path
) -> None:
    token.chmod(0o644)
    page = _refused_token(as_admin, token)
    assert "has mode 644: group or others may read it" in page and f"chmod 600 {token}" in page


@pytest.mark.parametrize("path", ["/etc/shadow", "/etc/passwd"])
def test_a_system_file_is_refused_as_owned_by_someone_else_or_readable_by_others(
    as_admin: Client, reachable: list, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The suite runs as root, who owns both: seen by a console running as another user.
    monkeypatch.setattr("os.geteuid", lambda: 4242)
    page = _refused_token(as_admin, path)
    assert "not by the console&#x27;s user (uid 4242)" in page


@pytest.mark.parametrize("path", ["/proc/self/environ", "/sys/kernel/mm/transparent_hugepage/enabled", "/dev/null"])
def test_a_kernel_file_or_device_is_refused(as_admin: Client, reachable: list, path: str) -> None:
    page = _refused_token(as_admin, path)
    assert f"{path} is under /{path.split('/')[1]}" in page


def test_a_symlink_into_proc_is_refused(as_admin: Client, reachable: list, tmp_path: Path) -> None:
    link = tmp_path / "pool.token"
    link.symlink_to("/proc/self/environ")
    assert "is under /proc" in _refused_token(as_admin, link)


def test_a_directory_is_not_a_token_file(as_admin: Client, reachable: list, tmp_path: Path) -> None:
    assert "is not a regular file" in _refused_token(as_admin, tmp_path)


def test_the_tool_command_is_one_executable_not_a_command_line(as_admin: Client, reachable: list, token: Path) -> None:
    response = as_admin.post(ADD, fields(token, config_val="/bin/sh -c 'touch /tmp/owned'"))
    assert response.status_code == 200 and not Pool.objects.exists()
    assert "is not an executable file" in response.content.decode()


@pytest.mark.parametrize("command", ["condor_config_val", "/etc/passwd", "/proc/self/exe"])
def test_a_relative_non_executable_or_kernel_path_is_not_a_tool_command(
    as_admin: Client, reachable: list, token: Path, command: str
) -> None:
    response = as_admin.post(ADD, fields(token, config_val=command))
    assert response.status_code == 200 and not Pool.objects.exists()
    page = response.content.decode()
    assert any(why in page for why in ("is not an absolute path", "is not an executable file", "is under /proc"))


def test_an_absolute_executable_is_saved_and_run_as_one_word(as_admin: Client, reachable: list, token: Path) -> None:
    response = as_admin.post(ADD, fields(token, config_val="/usr/bin/true"))
    assert response.status_code == 302
    assert Pool.objects.get().config_val == "/usr/bin/true"


def test_a_collector_that_cannot_be_reached_is_a_form_error_not_a_crash(as_admin: Client, token: Path) -> None:
    response = as_admin.post(ADD, fields(token, collector="127.0.0.1:9"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "The console could not query the collector" in page
    assert "Cannot connect to the collector at 127.0.0.1:9" in page
    assert not Pool.objects.exists()


def test_a_reachable_pool_is_saved_and_its_levels_reported(as_admin: Client, reachable: list, token: Path) -> None:
    response = as_admin.post(ADD, fields(token))
    pool = Pool.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("daemons:pool_detail", args=[pool.pk])
    assert pool.token_file == str(token)
    assert reachable == [{"collector": "cm.example.org:9618", "token_file": str(token), "config_val": ""}]
    texts = messages_of(response)
    assert any("lists 5 daemons" in t for t in texts)
    assert "READ: allowed on cm.example.org as console@example.org." in texts
    assert any(t.startswith("CONFIG: not allowed") and "ALLOW_CONFIG" in t for t in texts)


def test_a_name_already_taken_is_a_form_error(as_admin: Client, reachable: list) -> None:
    services.pool_save(name="cluster", collector="other.example.org")
    response = as_admin.post(ADD, fields())
    assert "already exists" in response.content.decode()
    assert Pool.objects.get().collector == "other.example.org"


def test_editing_renames_the_pool_forgets_its_last_reading_and_queues_a_refresh(
    as_admin: Client, reachable: list, background_jobs, django_capture_on_commit_callbacks
) -> None:
    pool = services.pool_save(name="cluster", collector="cm.example.org:9618")
    Pool.objects.filter(pk=pool.pk).update(last_refreshed_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        response = as_admin.post(
            reverse("daemons:pool_edit", args=[pool.pk]), fields(name="cluster-b", collector="cm2:9618")
        )
    assert response.status_code == 302
    pool.refresh_from_db()
    assert (pool.name, pool.collector, pool.last_refreshed_at) == ("cluster-b", "cm2:9618", None)
    assert Pool.objects.count() == 1
    assert background_jobs.kinds() == ["pool_refresh"]


def test_a_pool_the_form_refuses_queues_no_refresh(
    as_admin: Client, reachable: list, background_jobs, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = as_admin.post(ADD, fields(collector="not a collector!"))
    assert response.status_code == 200
    assert not Pool.objects.exists()
    assert background_jobs.kinds() == []


def test_the_token_itself_is_never_shown(as_admin: Client, reachable: list, token: Path) -> None:
    response = as_admin.post(ADD, fields(token), follow=True)
    pool = Pool.objects.get()
    pages = [response.content.decode(), as_admin.get(reverse("daemons:pool_edit", args=[pool.pk])).content.decode()]
    assert all(SECRET not in page and "SECRET-TOKEN-BODY" not in page for page in pages)
    assert str(token) in pages[1]


@pytest.mark.integration
def test_the_real_pool_is_added_with_read_and_administrator(as_admin: Client, healthy_pool: devpool.DevPool) -> None:
    response = as_admin.post(
        ADD,
        fields(
            healthy_pool.token_file,
            name="real",
            collector=healthy_pool.collector,
            config_val=shlex.join(healthy_pool.config_val),
            log_path_to=healthy_pool.host_root + "/",
        ),
    )
    assert response.status_code == 302, response.content.decode()
    texts = messages_of(response)
    assert any(t.startswith("READ: allowed") for t in texts)
    assert any(t.startswith("ADMINISTRATOR: allowed") and f"console@{healthy_pool.uid_domain}" in t for t in texts)
    assert Pool.objects.get(name="real").collector == healthy_pool.collector
