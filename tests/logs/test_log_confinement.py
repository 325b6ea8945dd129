"""The one way the console opens a log: a regular file whose real path lies in the daemon's LOG directory.

A chroot-like layout on tmp_path stands for a pool mapped from ``/`` to
``root``: ``root/var/log/condor`` is the daemon's LOG, ``root/etc`` is inside
the mapping but outside LOG, ``outside`` is the console host beyond the chroot.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from pathlib import Path

import pytest

from daemons.logs import logstream

SECRET = "the console's secret key\n"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "root/var/log/condor").mkdir(parents=True)
    (tmp_path / "root/etc").mkdir()
    (tmp_path / "root/etc/condor_config").write_text(SECRET)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside/secret_key").write_text(SECRET)
    (tmp_path / "root/var/log/condor/MasterLog").write_text("a log line\n")
    return tmp_path / "root"


def location(root: Path, path: str) -> logstream.LogLocation:
    return logstream.LogLocation(
        key="MASTER_LOG", daemon_path=path, path=str(root) + path, directory=f"{root}/var/log/condor", anchor=str(root)
    )


def refusal(root: Path, path: str) -> logstream.LogUnavailable:
    with pytest.raises(logstream.LogUnavailable) as refused:
        logstream.open_file(location(root, path))
    assert refused.value.refused
    assert logstream.CONFINEMENT_RULE in str(refused.value)
    return refused.value


def test_a_regular_file_in_the_log_directory_opens(root: Path) -> None:
    with logstream.open_file(location(root, "/var/log/condor/MasterLog")) as handle:
        assert handle.read() == b"a log line\n"


def test_dot_dot_out_of_the_log_directory_is_refused(root: Path) -> None:
    refused = refusal(root, "/var/log/condor/../../../etc/condor_config")

    assert f"its real path {root}/etc/condor_config is not in the log directory" in refused.message


def test_a_symlink_out_of_the_chroot_is_refused(root: Path) -> None:
    (root / "var/log/condor/MasterLog").unlink()
    (root / "var/log/condor/MasterLog").symlink_to(root.parent / "outside/secret_key")

    assert str(root.parent / "outside/secret_key") in refusal(root, "/var/log/condor/MasterLog").message


def test_a_path_through_proc_self_cwd_is_refused(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # What a chroot with /proc mounted inside it shows the console: its own cwd.
    (root / "proc").symlink_to("/proc")
    monkeypatch.chdir(root.parent / "outside")

    assert "outside/secret_key is not in the log directory" in refusal(root, "/proc/self/cwd/secret_key").message


def test_a_log_directory_reached_through_proc_self_cwd_is_refused(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (root / "proc").symlink_to("/proc")
    monkeypatch.chdir(root.parent / "outside")
    escaped = dataclasses.replace(location(root, "/proc/self/cwd/secret_key"), directory=f"{root}/proc/self/cwd")

    with pytest.raises(logstream.LogUnavailable) as refused:
        logstream.open_file(escaped)

    assert refused.value.refused and f"outside {root}" in refused.value.message


def test_a_file_inside_the_mapping_root_but_outside_log_is_refused(root: Path) -> None:
    refusal(root, "/etc/condor_config")


def test_a_fifo_is_refused_without_waiting_for_a_writer(root: Path) -> None:
    os.mkfifo(root / "var/log/condor/MasterLog.fifo")

    assert "it is a FIFO" in refusal(root, "/var/log/condor/MasterLog.fifo").message


def test_a_device_is_refused_unopened(root: Path) -> None:
    try:
        os.mknod(root / "var/log/condor/zero", stat.S_IFCHR | 0o600, os.makedev(1, 5))
    except PermissionError:
        pytest.skip("creating a device node needs root")

    assert "it is a device" in refusal(root, "/var/log/condor/zero").message


def test_a_directory_is_refused(root: Path) -> None:
    (root / "var/log/condor/old").mkdir()

    assert "it is a directory" in refusal(root, "/var/log/condor/old").message
    assert "it is a directory" in refusal(root, "/var/log/condor").message


def test_a_file_replaced_by_a_symlink_after_the_check_is_not_followed(root: Path) -> None:
    log = location(root, "/var/log/condor/MasterLog")
    logstream.check_readable(log)
    (root / "var/log/condor/MasterLog").unlink()
    (root / "var/log/condor/MasterLog").symlink_to(root.parent / "outside/secret_key")

    with pytest.raises(logstream.LogUnavailable) as refused:
        logstream.open_log(log)

    assert refused.value.refused


def test_a_symlink_swapped_in_between_the_real_path_and_the_open_is_not_followed(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_file = root / "var/log/condor/MasterLog"
    real_realpath = os.path.realpath

    def swap_after_resolving(path: str) -> str:
        resolved = real_realpath(path)
        if resolved == str(log_file):
            log_file.unlink()
            log_file.symlink_to(root.parent / "outside/secret_key")
        return resolved

    monkeypatch.setattr(logstream.os.path, "realpath", swap_after_resolving)

    refused = refusal(root, "/var/log/condor/MasterLog")

    assert "it is a symbolic link" in refused.message


def test_a_directory_swapped_for_a_symlink_on_the_way_is_not_followed(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (root / "var/log/condor/sub").mkdir()
    (root / "var/log/condor/sub/SchedLog").write_text("schedd\n")
    real_realpath = os.path.realpath

    def swap_after_resolving(path: str) -> str:
        resolved = real_realpath(path)
        if resolved.endswith("/sub/SchedLog"):
            (root / "var/log/condor/sub").rename(root / "var/log/condor/sub.old")
            (root / "var/log/condor/sub").symlink_to(root.parent / "outside")
        return resolved

    monkeypatch.setattr(logstream.os.path, "realpath", swap_after_resolving)

    assert "changed while it was opened" in refusal(root, "/var/log/condor/sub/SchedLog").message


def test_a_missing_file_is_not_found_and_check_readable_lets_it_be(root: Path) -> None:
    missing = location(root, "/var/log/condor/StartLog")

    logstream.check_readable(missing)
    with pytest.raises(FileNotFoundError):
        logstream.open_file(missing)


def test_a_follower_stops_with_the_rule_when_the_log_becomes_a_symlink_out(root: Path) -> None:
    follower = logstream.follower_for(location(root, "/var/log/condor/MasterLog"))
    follower.start_at_end(10)
    (root / "var/log/condor/MasterLog").unlink()
    (root / "var/log/condor/MasterLog").symlink_to(root.parent / "outside/secret_key")

    try:
        with pytest.raises(logstream.LogUnavailable) as refused:
            follower.poll()
    finally:
        follower.close()

    assert refused.value.refused
