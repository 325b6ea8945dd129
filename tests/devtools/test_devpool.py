"""Unit tests of devtools.devpool that need no HTCondor, no root and no network."""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from devtools import devpool
from tests.helpers import wait_for


def _knobs(config: str) -> dict[str, str]:
    return dict(re.findall(r"^([\w.]+) = ?(.*)$", config, re.MULTILINE))


def _chroot_instance(tmp_path: Path, name: str = "dev") -> devpool._Instance:
    return devpool._Instance(name, "chroot", tmp_path, str(tmp_path / "rootfs"), devpool.CHROOT_PATH)


def _personal_instance(tmp_path: Path, name: str = "dev") -> devpool._Instance:
    return devpool._Instance(name, "personal", tmp_path, "", "/opt/condor/bin:/usr/bin")


def test_it_renders_a_port_per_instance() -> None:
    dev = _knobs(devpool._render_overrides("/var/lib/condorweb/dev", 9618))
    test = _knobs(devpool._render_overrides("/var/lib/condorweb/test", 9718))

    assert (dev["COLLECTOR_HOST"], dev["SHARED_PORT_PORT"]) == ("$(CONDOR_HOST):9618", "9618")
    assert (test["COLLECTOR_HOST"], test["SHARED_PORT_PORT"]) == ("$(CONDOR_HOST):9718", "9718")


def test_it_keeps_every_directory_of_an_instance_under_its_local_dir() -> None:
    knobs = _knobs(devpool._render_overrides("/var/lib/condorweb/test", 9718))

    assert knobs["LOCAL_DIR"] == "/var/lib/condorweb/test"
    for knob in ("LOG", "SPOOL", "EXECUTE", "LOCK", "RUN", "SEC_TOKEN_SYSTEM_DIRECTORY", "SEC_TOKEN_DIRECTORY"):
        assert knobs[knob].startswith("$(LOCAL_DIR)/"), knob


def test_it_gives_each_instance_its_own_pool_signing_key_directory() -> None:
    knobs = _knobs(devpool._render_overrides("/var/lib/condorweb/test", 9718))

    assert knobs["SEC_PASSWORD_DIRECTORY"] == "$(LOCAL_DIR)/passwords.d"


def test_it_listens_on_ipv4_loopback_only() -> None:
    knobs = _knobs(devpool._render_overrides("/x", 9618))

    assert knobs["NETWORK_INTERFACE"] == "127.0.0.1"
    assert knobs["CONDOR_HOST"] == "127.0.0.1"
    assert knobs["ENABLE_IPV6"] == "False"


def test_it_lets_the_console_read_administer_and_configure() -> None:
    knobs = _knobs(devpool._render_overrides("/x", 9618))

    assert knobs["SEC_DEFAULT_AUTHENTICATION_METHODS"] == "FS, IDTOKENS"
    assert knobs["ALLOW_READ"] == "$(ALLOW_READ) console@$(UID_DOMAIN)"
    assert knobs["ALLOW_ADMINISTRATOR"] == "$(ALLOW_ADMINISTRATOR) console@$(UID_DOMAIN)"
    assert knobs["ALLOW_CONFIG"] == "console@$(UID_DOMAIN)"
    assert knobs["ENABLE_RUNTIME_CONFIG"] == "True"


def test_it_lets_only_listed_knobs_be_set_at_runtime() -> None:
    patterns = [p.strip() for p in _knobs(devpool._render_overrides("/x", 9618))["SETTABLE_ATTRS_CONFIG"].split(",")]

    def settable(knob: str) -> bool:
        return any(fnmatch.fnmatchcase(knob, pattern) for pattern in patterns)

    assert "*" not in patterns
    assert all(settable(k) for k in ("CONDORWEB_ANYTHING", "TEST_ANYTHING", "MASTER_DEBUG", "SCHEDD_DEBUG"))
    assert not settable("NOT_SETTABLE_KNOB")


def test_it_makes_every_daemon_including_the_master_report_every_five_seconds() -> None:
    knobs = _knobs(devpool._render_overrides("/x", 9618))

    assert knobs["UPDATE_INTERVAL"] == "5"
    assert knobs["MASTER_UPDATE_INTERVAL"] == "$(UPDATE_INTERVAL)"


def test_it_leaves_log_rotation_at_its_default() -> None:
    assert "MAX_MASTER_LOG" not in devpool._render_overrides("/x", 9618)


def test_it_lets_jobs_start_inside_the_chroot_without_a_private_tmp() -> None:
    # A private /tmp needs a mount namespace, which cannot be made inside the chroot.
    assert _knobs(devpool._render_overrides("/x", 9618))["MOUNT_UNDER_SCRATCH"] == ""


def test_without_execute_nodes_it_runs_only_minicondors_own_startd() -> None:
    config = devpool._render_overrides("/x", 9618)

    assert "STARTD_EXEC" not in config
    assert "DAEMON_LIST" not in _knobs(config)


def test_execute_nodes_have_short_names_that_sort_in_order() -> None:
    names = devpool._node_names(20)

    assert names[:2] == ["exec01", "exec02"]
    assert names[-1] == "exec20"
    assert sorted(names) == names


def test_each_execute_node_is_a_startd_of_its_own_that_the_master_starts() -> None:
    knobs = _knobs(devpool._render_overrides("/x", 9618, devpool._node_names(3)))

    assert knobs["DAEMON_LIST"] == "$(DAEMON_LIST) STARTD_EXEC01 STARTD_EXEC02 STARTD_EXEC03"
    assert knobs["DC_DAEMON_LIST"] == "+ STARTD_EXEC01 STARTD_EXEC02 STARTD_EXEC03"
    assert knobs["STARTD_EXEC02"] == "$(STARTD)"
    assert knobs["STARTD_EXEC02_ARGS"] == "-local-name EXEC02"
    assert knobs["EXEC02.STARTD_NAME"] == "exec02"


def test_no_two_execute_nodes_write_the_same_file() -> None:
    nodes = devpool._node_names(3)
    knobs = _knobs(devpool._render_overrides("/x", 9618, nodes))
    files = ("STARTD_LOG", "STARTD_ADDRESS_FILE", "STARTD_DAEMON_AD_FILE", "STARTD_CLAIM_ID_FILE", "STARTD_HISTORY")

    for knob in (*files, "EXECUTE"):
        values = {knobs[f"{node.upper()}.{knob}"] for node in nodes}
        assert len(values) == len(nodes), knob
    # minicondor's own startd empties $(EXECUTE) when it starts.
    assert not any(knobs[f"{node.upper()}.EXECUTE"].startswith("$(EXECUTE)") for node in nodes)
    assert knobs["EXEC01.STARTD_LOG"] == "$(STARTD_EXEC01_LOG)"
    assert knobs["STARTD_EXEC01_LOG"] == "$(LOG)/StartLog.exec01"


def test_an_execute_node_advertises_its_cpus_memory_and_name_to_jobs() -> None:
    knobs = _knobs(devpool._render_overrides("/x", 9618, ["exec01"]))

    assert (knobs["EXEC01.NUM_CPUS"], knobs["EXEC01.MEMORY"]) == ("4", "2048")
    assert knobs["EXEC01.CONDORWEB_NODE"] == '"exec01"'
    assert knobs["EXEC01.STARTD_ATTRS"] == "$(STARTD_ATTRS) CONDORWEB_NODE"
    # Slot type knobs are read by their bare names: prefixed, they made a static slot.
    assert not [knob for knob in knobs if ".SLOT_TYPE_" in knob or ".NUM_SLOTS" in knob]


def test_it_reads_the_number_of_execute_nodes_back_from_the_instance_config(tmp_path: Path) -> None:
    inst = _personal_instance(tmp_path)
    config = inst.host(inst.overrides_file)
    config.parent.mkdir(parents=True)

    config.write_text(devpool._render_overrides(inst.local_dir, 9718))
    assert devpool._configured_execute_nodes(inst) == 0
    config.write_text(devpool._render_overrides(inst.local_dir, 9718, devpool._node_names(7)))
    assert devpool._configured_execute_nodes(inst) == 7


@pytest.mark.parametrize("count", [-1, 100])
def test_it_refuses_a_number_of_execute_nodes_it_cannot_name(count: int) -> None:
    with pytest.raises(ValueError, match="execute_nodes"):
        devpool.up("dev", 9618, execute_nodes=count)


ADS = [
    ("DaemonMaster", "vm"),
    ("Collector", "My Pool - 127.0.0.1@vm"),
    ("Negotiator", "vm"),
    ("Scheduler", "vm"),
    ("Machine", "slot1@vm"),
    ("StartD", "exec01@vm"),
    ("Machine", "slot1@exec01@vm"),
    ("Machine", "slot1_1@exec02@vm"),
]


def test_the_pool_is_up_only_once_every_execute_nodes_partitionable_slot_is_listed() -> None:
    assert devpool._missing(ADS, []) == []
    # exec02 lists only a dynamic slot: not the partitionable one that counts.
    assert devpool._missing(ADS, ["exec01", "exec02"]) == ["slot1@exec02"]
    assert devpool._missing(ADS[1:], ["exec01"]) == ["DaemonMaster"]


def test_it_names_the_execute_nodes_as_the_collector_lists_their_startds() -> None:
    ads = [*ADS, ("Machine", "slot1@exec02@vm")]

    assert devpool._node_names_in(ads, ["exec01", "exec02"]) == ("exec01@vm", "exec02@vm")
    assert devpool._node_names_in(ads, ["exec01"]) == ("exec01@vm",)


def test_it_runs_a_job_tool_inside_the_chroot_as_the_jobs_owner(tmp_path: Path) -> None:
    inst = _chroot_instance(tmp_path, "test")

    argv = inst.argv("condor_submit", "-terse", user=devpool.JOB_USER)

    assert argv[:3] == ["chroot", "--userspec=condorweb-job:condorweb-job", str(tmp_path / "rootfs")]
    assert argv[-2:] == ["condor_submit", "-terse"]


def test_a_chroot_instance_reads_its_overrides_after_minicondors_config() -> None:
    entry = devpool._render_chroot_entry("/var/lib/condorweb/dev/condorweb.config")
    lines = [line for line in entry.splitlines() if not line.startswith("#")]

    # LOCAL_CONFIG_FILE is processed after LOCAL_CONFIG_DIR, where minicondor lives.
    assert lines == [
        "include : /etc/condor/condor_config",
        "LOCAL_CONFIG_FILE = $(LOCAL_CONFIG_FILE), /var/lib/condorweb/dev/condorweb.config",
    ]


def test_a_personal_instance_ignores_the_hosts_config_and_inherits_its_install_paths() -> None:
    entry = devpool._render_personal_entry(
        "/home/u/.cache/condorweb/pools/dev/local/condorweb.config",
        {"RELEASE_DIR": "/opt/condor", "SBIN": "/opt/condor/sbin"},
        ["$(USERNAME)@$(UID_DOMAIN)"],
    )
    knobs = _knobs(entry)

    assert knobs["RELEASE_DIR"] == "/opt/condor"
    assert knobs["SBIN"] == "/opt/condor/sbin"
    assert knobs["LOCAL_CONFIG_DIR"] == ""
    assert knobs["LOCAL_CONFIG_FILE"] == "/home/u/.cache/condorweb/pools/dev/local/condorweb.config"
    assert knobs["ALLOW_ADMINISTRATOR"] == "$(DEVPOOL_OWNERS)"
    assert knobs["DEVPOOL_OWNERS"] == "$(USERNAME)@$(UID_DOMAIN)"
    assert {"use ROLE: Personal", "use SECURITY: recommended_v9_0"} <= set(entry.splitlines())


def test_a_personal_pool_started_by_root_also_trusts_the_condor_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)

    assert devpool._personal_owners() == ["root@$(UID_DOMAIN)", "condor@$(UID_DOMAIN)"]


def test_it_runs_chroot_tools_with_a_clean_environment_and_the_instance_config(tmp_path: Path) -> None:
    inst = _chroot_instance(tmp_path, "test")

    assert inst.argv("condor_config_val", "UID_DOMAIN") == [
        "chroot",
        str(tmp_path / "rootfs"),
        "env",
        "-i",
        f"PATH={devpool.CHROOT_PATH}",
        "CONDOR_CONFIG=/var/lib/condorweb/test/condor_config",
        "condor_config_val",
        "UID_DOMAIN",
    ]


def test_it_runs_personal_tools_on_the_host_with_a_clean_environment(tmp_path: Path) -> None:
    inst = _personal_instance(tmp_path)

    assert inst.argv("condor_on") == [
        "env",
        "-i",
        "PATH=/opt/condor/bin:/usr/bin",
        f"CONDOR_CONFIG={tmp_path}/pools/dev/local/condor_config",
        "condor_on",
    ]


def _fake_chroot_root(root: Path) -> None:
    """The files of a Debian root the console's tool route needs: a loader, libraries, the tools."""
    for directory in (
        "lib64",
        "lib/x86_64-linux-gnu",
        "usr/lib/x86_64-linux-gnu",
        "usr/lib/condor",
        "usr/bin",
        "usr/sbin",
    ):
        (root / directory).mkdir(parents=True, exist_ok=True)
    (root / "lib64/ld-linux-x86-64.so.2").touch()
    for tool in ("condor_config_val", "condor_drain", "condor_status"):
        (root / "usr/bin" / tool).touch()
    (root / "usr/sbin/condor_fetchlog").touch()


def test_the_config_val_command_runs_the_chroots_tool_through_its_own_loader_without_chroot(
    tmp_path: Path,
) -> None:
    inst = _chroot_instance(tmp_path, "test")
    _fake_chroot_root(tmp_path / "rootfs")
    devpool._write_tools(inst)
    pool = devpool._devpool(inst, 9718, "vm")

    assert pool.config_val == [str(tmp_path / "pools/test/bin/condor_config_val")]
    script = Path(pool.config_val[0]).read_text()
    root = tmp_path / "rootfs"
    assert script.startswith(
        f"#!/bin/sh\nexec env -i CONDOR_CONFIG={tmp_path / 'pools/test/client.config'} {root}/lib64/ld-linux-x86-64.so.2 "
    )
    assert "chroot" not in script
    assert (
        f"--library-path {root}/lib/x86_64-linux-gnu:{root}/usr/lib/x86_64-linux-gnu:{root}/usr/lib:{root}/usr/lib/condor "
        in script
    )
    assert script.endswith(f' {root}/usr/bin/condor_config_val "$@"\n')
    assert os.access(pool.config_val[0], os.X_OK)
    assert (
        (tmp_path / "pools/test/bin/condor_fetchlog").read_text().endswith(f' {root}/usr/sbin/condor_fetchlog "$@"\n')
    )


def test_every_console_tool_is_one_executable_in_the_pools_tools_directory(tmp_path: Path) -> None:
    inst = _chroot_instance(tmp_path, "test")
    _fake_chroot_root(tmp_path / "rootfs")
    devpool._write_tools(inst)
    pool = devpool._devpool(inst, 9718, "vm")

    for tool in ("condor_drain", "condor_status"):
        (command,) = pool.tool(tool)
        assert command == str(tmp_path / "pools/test/bin" / tool)
        assert Path(command).read_text().endswith(f' {tmp_path}/rootfs/usr/bin/{tool} "$@"\n')
        assert os.access(command, os.X_OK)
    with pytest.raises(ValueError, match="condor_rm"):
        pool.tool("condor_rm")


def test_the_chroot_tools_read_a_host_client_config_that_points_at_the_console_token(tmp_path: Path) -> None:
    inst = _chroot_instance(tmp_path, "test")
    _fake_chroot_root(tmp_path / "rootfs")
    devpool._write_tools(inst)

    assert _knobs(inst.client_config.read_text()) == {
        "SEC_CLIENT_AUTHENTICATION_METHODS": "IDTOKENS",
        "SEC_TOKEN_DIRECTORY": str(tmp_path / "pools/test/tokens"),
        "ENABLE_IPV6": "False",
    }


def test_a_chroot_without_a_dynamic_loader_is_named_in_the_error(tmp_path: Path) -> None:
    inst = _chroot_instance(tmp_path, "test")

    with pytest.raises(RuntimeError, match="lacks the dynamic loader"):
        inst.console_argv("condor_config_val")


def test_a_personal_instance_runs_its_tools_with_the_console_token(tmp_path: Path) -> None:
    inst = _personal_instance(tmp_path)

    argv = inst.console_argv("condor_config_val")
    assert "_CONDOR_SEC_TOKEN_DIRECTORY=" + str(tmp_path / "pools/dev/tokens") in argv
    assert argv[-1] == "condor_config_val"


def test_the_token_and_its_directory_go_to_the_user_the_console_runs_as(tmp_path: Path) -> None:
    inst = _chroot_instance(tmp_path)
    inst.token_file.parent.mkdir(parents=True, mode=0o700)
    inst.token_file.write_text("token\n")
    owner = (4242, 4343)

    devpool._give_token(inst, inst.token_file, owner)

    assert (inst.token_file.stat().st_uid, inst.token_file.stat().st_gid) == owner
    assert (inst.token_file.parent.stat().st_uid, inst.token_file.parent.stat().st_gid) == owner


def test_without_an_owner_the_token_keeps_the_one_it_has(tmp_path: Path) -> None:
    inst = _chroot_instance(tmp_path)
    inst.token_file.parent.mkdir(parents=True, mode=0o700)
    inst.token_file.write_text("token\n")
    os.chown(inst.token_file, 4242, 4343)

    devpool._give_token(inst, inst.token_file, None)

    assert (inst.token_file.stat().st_uid, inst.token_file.stat().st_gid) == (4242, 4343)


def test_it_maps_paths_inside_the_chroot_to_host_paths(tmp_path: Path) -> None:
    inst = _chroot_instance(tmp_path)

    assert inst.log_dir == "/var/lib/condorweb/dev/log"
    assert inst.host(inst.log_dir) == tmp_path / "rootfs/var/lib/condorweb/dev/log"


def test_it_keeps_tokens_outside_the_pool_in_a_directory_per_instance(tmp_path: Path) -> None:
    dev, test = _chroot_instance(tmp_path, "dev"), _chroot_instance(tmp_path, "test")

    assert dev.token_file == tmp_path / "pools/dev/tokens/console"
    assert dev.token_file.parent != test.token_file.parent


def test_it_describes_a_pool_with_the_values_a_host_client_needs(tmp_path: Path) -> None:
    pool = devpool._devpool(_chroot_instance(tmp_path, "test"), 9718, "vm")

    assert pool.collector == "127.0.0.1:9718"
    assert pool.host_root + pool.log_dir + "/MasterLog" == f"{tmp_path}/rootfs/var/lib/condorweb/test/log/MasterLog"
    assert (pool.route, pool.uid_domain) == ("chroot", "vm")


@pytest.mark.parametrize("name", ["", "../etc", "Dev", "a/b", "x" * 33])
def test_it_rejects_instance_names_that_are_not_plain_path_components(name: str) -> None:
    with pytest.raises(ValueError):
        devpool._instance(name, provision=False)


@pytest.mark.parametrize("port", [0, -1, 65536])
def test_it_rejects_port_numbers_outside_the_tcp_range(port: int) -> None:
    with pytest.raises(ValueError):
        devpool.up("dev", port)


def test_it_reads_the_configured_port_back_from_the_instance_config(tmp_path: Path) -> None:
    inst = _personal_instance(tmp_path)
    config = inst.host(inst.overrides_file)
    config.parent.mkdir(parents=True)
    config.write_text(devpool._render_overrides(inst.local_dir, 9718))

    assert devpool._configured_port(inst) == 9718


def test_it_says_how_to_set_up_an_instance_that_was_never_started(tmp_path: Path) -> None:
    with pytest.raises(LookupError, match=r"call up\('dev', port\)"):
        devpool._configured_port(_personal_instance(tmp_path))


def test_a_stale_pid_file_does_not_count_as_a_running_master(tmp_path: Path) -> None:
    inst = _personal_instance(tmp_path)
    pid_file = inst.host(inst.pid_file)
    pid_file.parent.mkdir(parents=True)

    pid_file.write_text(f"{os.getpid()}\n")  # alive, but not a condor_master
    assert devpool._master_pid(inst) is None

    pid_file.write_text("not a pid\n")
    assert devpool._master_pid(inst) is None


def test_it_rewrites_a_config_file_only_when_its_text_changes(tmp_path: Path) -> None:
    path = tmp_path / "condor_config"

    assert devpool._write_if_changed(path, "A = 1\n") is True
    assert devpool._write_if_changed(path, "A = 1\n") is False
    assert devpool._write_if_changed(path, "A = 2\n") is True


def test_it_notices_a_port_that_is_already_taken() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert devpool._port_in_use(port) is True
    assert devpool._port_in_use(port) is False


def _daemon_of(inst: devpool._Instance) -> subprocess.Popen[bytes]:
    """A stand-in for one of the instance's daemons: a process started with its CONDOR_CONFIG."""
    return subprocess.Popen(
        ["sleep", "120"], env={"PATH": os.defpath, "CONDOR_CONFIG": inst.config_file}, start_new_session=True
    )


def test_down_stops_the_daemons_a_dead_master_left_behind_and_nothing_of_other_instances(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    mine, other = _personal_instance(tmp_path, "mine"), _personal_instance(tmp_path, "other")
    monkeypatch.setattr(devpool, "_instance", lambda name, provision: mine)
    orphan, neighbour = _daemon_of(mine), _daemon_of(other)
    try:
        for process in (orphan, neighbour):
            wait_for(
                lambda process=process: Path(f"/proc/{process.pid}/cmdline").read_bytes().startswith(b"sleep"),
                timeout=5,
            )

        devpool.down("mine")

        assert orphan.wait(timeout=5) == -signal.SIGTERM
        assert neighbour.poll() is None
    finally:
        for process in (orphan, neighbour):
            process.kill()
            process.wait()


def _no_route(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CONDORWEB_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)


def test_it_explains_what_to_install_when_neither_route_is_possible(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _no_route(monkeypatch, tmp_path)

    with pytest.raises(devpool.DevPoolUnavailable, match="condor_master on PATH") as raised:
        devpool.up("dev", 9618)
    assert "debootstrap" in str(raised.value)


def test_down_and_status_do_not_fail_when_neither_route_is_possible(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _no_route(monkeypatch, tmp_path)

    devpool.down("dev")
    state = devpool.status("dev")

    assert state["running"] is False
    assert "debootstrap" in str(state["error"])


def test_it_prefers_a_host_installation_of_htcondor(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CONDORWEB_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/sbin/{name}")

    inst = devpool._instance("dev", provision=True)

    assert (inst.route, inst.host_root) == ("personal", "")
    assert inst.local_dir == f"{tmp_path}/pools/dev/local"
