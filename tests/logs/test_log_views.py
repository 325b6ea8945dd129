"""The live log page, its download, the daemon page's log panel and the Diagnostics page."""

from __future__ import annotations

import os
import stat
import tracemalloc
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from django.urls import reverse

import condor.client
import condor.workers
from condor.errors import DaemonUnreachable
from daemons.logs import logstream
from daemons.models import Daemon
from tests.helpers import downloaded, fresh_pool

DAEMON_LOG_DIR = "/var/log/condor"


@pytest.fixture
def knobs(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The fake daemon's configuration, as it answers the console; a test may change it."""
    config = {
        "LOG": DAEMON_LOG_DIR,
        "MASTER_LOG": f"{DAEMON_LOG_DIR}/MasterLog",
        "SCHEDD_LOG": f"{DAEMON_LOG_DIR}/SchedLog",
    }
    monkeypatch.setattr(condor.client, "remote_config_value", lambda target, key, credentials: config.get(key))
    monkeypatch.setattr(condor.client, "remote_config_names", lambda target, credentials: list(config))
    logstream.forget_cached_paths()
    return config


@pytest.fixture
def log_dir(tmp_path: Path, knobs: dict[str, str]) -> Path:
    """Where the fake daemon's /var/log/condor is on the console host."""
    (tmp_path / "log").mkdir()
    return tmp_path / "log"


@pytest.fixture
def master(db: None, log_dir: Path) -> Daemon:
    pool = fresh_pool("logs")
    pool.log_path_from = DAEMON_LOG_DIR
    pool.log_path_to = str(log_dir)
    pool.save()
    return Daemon.objects.create(
        pool=pool, kind="master", name="master@node1", address="<127.0.0.1:9618>", subsystem="MASTER"
    )


def test_the_log_page_shows_the_last_lines_as_text_and_where_to_resume(
    client, viewer, master, log_dir, settings
) -> None:
    settings.CONDORWEB_LOG_BACKLOG_LINES = 2
    content = "old\n<script>alert(1)</script>\nlast\n"
    (log_dir / "MasterLog").write_text(content)
    client.force_login(viewer)

    page = client.get(reverse("daemons:daemon_log", args=[master.pk]))

    text = page.content.decode()
    assert page.status_code == 200
    assert "<div>&lt;script&gt;alert(1)&lt;/script&gt;</div><div>last</div>" in text
    assert "<div>old</div>" not in text
    assert f'data-log-offset="{len(content)}"' in text
    assert f'data-log-ws="/ws/daemon/{master.pk}/log/MASTER_LOG/"' in text
    assert '<option value="SCHEDD_LOG">' in text


def test_the_filter_says_what_it_matches_and_promises_no_slash_syntax(client, viewer, master, log_dir) -> None:
    """logviewer.js matches text in any case, or a regular expression once "regex" is ticked; slashes are text."""
    (log_dir / "MasterLog").write_text("a line\n")
    client.force_login(viewer)

    text = client.get(reverse("daemons:daemon_log", args=[master.pk])).content.decode()

    assert '<input type="search" data-log-filter size="24" placeholder="text, any case">' in text
    assert '<input type="checkbox" data-log-regex> regex</label>' in text
    assert "/regex/" not in text


def test_the_log_page_says_why_a_log_outside_the_mapping_cannot_be_shown(client, viewer, master, knobs) -> None:
    knobs.update(LOG="/srv/condor", MASTER_LOG="/srv/condor/MasterLog")
    client.force_login(viewer)

    page = client.get(reverse("daemons:daemon_log", args=[master.pk]))

    text = page.content.decode()
    assert page.status_code == 200
    assert "outside the pool&#x27;s log-path mapping" in text
    assert "prefix of /srv/condor" in text


SECRET = "the console's secret key"


@pytest.fixture
def chrooted(db: None, tmp_path: Path, knobs: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Daemon:
    """A master in a chroot at tmp_path/root, which its pool maps / to; the console's secret lies beyond it."""
    root = tmp_path / "root"
    (root / "var/log/condor").mkdir(parents=True)
    (root / "etc").mkdir()
    (root / "etc/condor_config").write_text(SECRET)
    (tmp_path / "console").mkdir()
    (tmp_path / "console/secret_key").write_text(SECRET)
    (root / "var/log/condor/MasterLog").write_text("a log line\n")
    (root / "var/log/condor/escape").symlink_to(tmp_path / "console/secret_key")
    # A chroot's mounted /proc shows the console its own /proc/self, and so its cwd.
    (root / "proc").symlink_to("/proc")
    monkeypatch.chdir(tmp_path / "console")
    pool = fresh_pool("chrooted")
    pool.log_path_to = str(root)
    pool.save()
    return Daemon.objects.create(
        pool=pool, kind="master", name="master@node1", address="<127.0.0.1:9618>", subsystem="MASTER"
    )


ESCAPES = {
    "dot-dot": "/var/log/condor/../../../etc/condor_config",
    "symlink-out-of-the-chroot": "/var/log/condor/escape",
    "proc-self-cwd": "/proc/self/cwd/secret_key",
    "inside-the-mapping-outside-LOG": "/etc/condor_config",
}


def page_and_download(client: object, daemon: Daemon, key: str) -> tuple[object, object]:
    page = client.get(reverse("daemons:daemon_log", args=[daemon.pk]), {"log": key})
    download = client.get(reverse("daemons:daemon_log_download", args=[daemon.pk]), {"log": key}, follow=True)
    return page, download


@pytest.mark.parametrize("daemon_path", ESCAPES.values(), ids=ESCAPES.keys())
def test_a_log_knob_naming_a_file_outside_the_daemons_log_directory_is_refused(
    client, operator, chrooted, knobs, daemon_path
) -> None:
    knobs["TEST_X_LOG"] = daemon_path
    client.force_login(operator)

    page, download = page_and_download(client, chrooted, "TEST_X_LOG")

    assert download.redirect_chain, "the download must not be the file"
    for response in (page, download):
        text = response.content.decode()
        assert response.status_code == 200
        assert SECRET.replace("'", "&#x27;") not in text
        assert "The console will not read" in text and daemon_path in text
        assert "lies in the daemon&#x27;s log directory (its LOG knob" in text


NOT_FILES = {"a FIFO": os.mkfifo, "a device": lambda path: os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 3))}


@pytest.mark.parametrize("kind", NOT_FILES.keys())
def test_a_log_knob_naming_a_fifo_or_a_device_is_refused_unread(client, operator, chrooted, knobs, kind) -> None:
    try:
        NOT_FILES[kind](f"{chrooted.pool.log_path_to}/var/log/condor/special")
    except PermissionError:
        pytest.skip("creating a device node needs root")
    knobs["TEST_X_LOG"] = "/var/log/condor/special"
    client.force_login(operator)

    page, download = page_and_download(client, chrooted, "TEST_X_LOG")

    assert download.redirect_chain
    for response in (page, download):
        assert f"/var/log/condor/special: it is {kind}." in response.content.decode()


@pytest.mark.parametrize("daemon_path", ["/var/log/condor/old", "/var/log/condor"])
def test_a_log_knob_naming_a_directory_gets_a_clear_page_and_download(
    client, operator, chrooted, knobs, daemon_path
) -> None:
    (Path(chrooted.pool.log_path_to) / "var/log/condor/old").mkdir()
    knobs["TEST_X_LOG"] = daemon_path
    client.force_login(operator)

    page, download = page_and_download(client, chrooted, "TEST_X_LOG")

    assert page.status_code == 200 and download.status_code == 200
    assert download.redirect_chain[-1][0].startswith(reverse("daemons:daemon_log", args=[chrooted.pk]))
    for response in (page, download):
        assert (
            f"The console will not read {chrooted.pool.log_path_to}{daemon_path}: it is a directory"
            in response.content.decode()
        )


def test_a_regular_log_in_the_chroot_is_shown(client, operator, chrooted) -> None:
    client.force_login(operator)

    page, download = page_and_download(client, chrooted, "MASTER_LOG")

    assert "<div>a log line</div>" in page.content.decode()
    assert downloaded(download) == b"a log line\n"


def test_the_log_page_explains_an_unreachable_daemon(client, viewer, master, monkeypatch) -> None:
    def unreachable(target: object, credentials: object) -> list[str]:
        raise DaemonUnreachable("Cannot connect to the daemon at <127.0.0.1:9618>.")

    monkeypatch.setattr(condor.client, "remote_config_names", unreachable)
    client.force_login(viewer)

    page = client.get(reverse("daemons:daemon_log", args=[master.pk]))

    assert page.status_code == 200
    assert "Cannot connect to the daemon" in page.content.decode()


def test_an_unknown_log_choice_falls_back_to_the_daemons_own_log(client, viewer, master, log_dir) -> None:
    (log_dir / "MasterLog").write_text("hello\n")
    client.force_login(viewer)

    page = client.get(reverse("daemons:daemon_log", args=[master.pk]), {"log": "../../etc/passwd"})

    assert page.status_code == 200
    assert "Showing MASTER_LOG instead" in page.content.decode()


def test_the_log_page_refuses_users_without_the_log_permission(client, nobody, master) -> None:
    client.force_login(nobody)

    assert client.get(reverse("daemons:daemon_log", args=[master.pk])).status_code == 403
    assert client.get(reverse("daemons:daemon_log_download", args=[master.pk])).status_code == 403


def test_the_log_page_of_an_unknown_daemon_is_not_found(client, viewer, master) -> None:
    client.force_login(viewer)

    assert client.get(reverse("daemons:daemon_log", args=[master.pk + 1000])).status_code == 404


def test_the_download_is_what_the_file_holds_as_a_plain_text_attachment(client, viewer, master, log_dir) -> None:
    (log_dir / "MasterLog").write_text("one\n<b>two</b>\n")
    client.force_login(viewer)

    response = client.get(reverse("daemons:daemon_log_download", args=[master.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="logs-master_node1-MasterLog.txt"'
    assert downloaded(response) == b"one\n<b>two</b>\n"


def test_a_missing_log_cannot_be_downloaded_and_the_log_page_says_why(client, viewer, master) -> None:
    client.force_login(viewer)

    response = client.get(reverse("daemons:daemon_log_download", args=[master.pk]), follow=True)

    assert response.redirect_chain[-1][0].startswith(reverse("daemons:daemon_log", args=[master.pk]))
    assert "does not exist yet" in response.content.decode()


def test_the_daemon_page_carries_the_live_log_for_viewers_only(client, viewer, nobody, master, background_jobs) -> None:
    from django.contrib.auth.models import Permission

    nobody.user_permissions.add(Permission.objects.get(codename="view_daemon"))
    client.force_login(viewer)
    with_logs = client.get(reverse("daemons:daemon_detail", args=[master.pk])).content.decode()
    client.force_login(nobody)
    without = client.get(reverse("daemons:daemon_detail", args=[master.pk])).content.decode()

    assert f'data-log-ws="/ws/daemon/{master.pk}/log/MASTER_LOG/"' in with_logs
    assert "data-log-ws" not in without


def test_diagnostics_is_for_administrators_and_linked_only_for_them(client, admin, operator) -> None:
    client.force_login(operator)
    refused = client.get(reverse("daemons:diagnostics"))
    operator_nav = client.get(reverse("daemons:pool_list")).content.decode()
    client.force_login(admin)
    page = client.get(reverse("daemons:diagnostics"))

    assert refused.status_code == 403
    assert ">Diagnostics</a>" not in operator_nav
    assert page.status_code == 200 and ">Diagnostics</a>" in page.content.decode()
    assert 'data-log-ws="/ws/diagnostics/client-log/"' in page.content.decode()


def test_an_administrator_switches_the_client_log_level(client, admin, tmp_path, settings) -> None:
    settings.CONDORWEB_TOOL_LOG = str(tmp_path / "client.log")
    client.force_login(admin)
    try:
        page = client.post(reverse("daemons:diagnostics"), {"debug": "D_FULLDEBUG"}, follow=True)
        level = condor.workers.client_logging()
    finally:
        condor.workers.set_client_logging(debug="", log_path="")

    assert "set to D_FULLDEBUG" in page.content.decode()
    assert level == ("D_FULLDEBUG", str(tmp_path / "client.log"))


def test_a_made_up_client_log_level_is_refused(client, admin) -> None:
    client.force_login(admin)

    page = client.post(reverse("daemons:diagnostics"), {"debug": "D_ALL; rm -rf /"})

    assert page.status_code == 200
    assert condor.workers.client_logging()[0] == ""
    assert "Select a valid choice" in page.content.decode()


def test_the_client_log_downloads_for_administrators(client, admin, operator, tmp_path, settings) -> None:
    settings.CONDORWEB_TOOL_LOG = str(tmp_path / "client.log")
    (tmp_path / "client.log").write_text("client line\n")
    client.force_login(operator)
    refused = client.get(reverse("daemons:client_log_download"))
    client.force_login(admin)
    response = client.get(reverse("daemons:client_log_download"))

    assert refused.status_code == 403
    assert downloaded(response) == b"client line\n"


def test_a_large_download_is_sent_a_chunk_at_a_time_as_the_asgi_server_sends_it(
    client, viewer, master, log_dir
) -> None:
    size = 256 * 2**20
    with open(log_dir / "MasterLog", "wb") as log:
        log.truncate(size)  # sparse: no disk, all zeros
    client.force_login(viewer)
    response = client.get(reverse("daemons:daemon_log_download", args=[master.pk]))

    async def send() -> int:
        # What Django's ASGI handler does with a streaming response.
        sent = 0
        async for part in response:
            sent += len(part)
        return sent

    tracemalloc.start()
    try:
        sent = async_to_sync(send)()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sent == size
    assert peak < 16 * 2**20, f"{peak / 2**20:.0f} MiB held while sending {size / 2**20:.0f} MiB"


def test_a_log_over_the_download_limit_is_refused_with_the_limit_named(
    client, viewer, master, log_dir, settings
) -> None:
    settings.CONDORWEB_LOG_DOWNLOAD_MAX_BYTES = 2**20
    with open(log_dir / "MasterLog", "wb") as log:
        log.truncate(3 * 2**20)
    client.force_login(viewer)

    response = client.get(reverse("daemons:daemon_log_download", args=[master.pk]), follow=True)

    assert response.redirect_chain[-1][0].startswith(reverse("daemons:daemon_log", args=[master.pk]))
    assert "MasterLog is 3 MiB, more than the console&#x27;s download limit of 1 MiB" in response.content.decode()
