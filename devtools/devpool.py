"""Start and stop a real HTCondor pool on loopback for development and tests.

Two routes, tried in order:

* ``personal``: HTCondor is installed on this host (``condor_master`` on PATH),
  so a personal pool runs from a private directory under the cache dir.
* ``chroot``: as root on Debian/Ubuntu, a Debian trixie minbase root with the
  ``minicondor`` package is bootstrapped once into the cache dir (Debian 12
  cannot install HTCondor itself: it needs glibc 2.38+). The chroot shares the
  host's network, so the pool listens on the host's loopback.

Several named instances (e.g. "dev" for ``make run``, "test" for the test
suite) run side by side, each with its own port, config, directories and pool
signing key, and optionally a fleet: execute nodes exec01, exec02, ... (more
startds on the same host, each with a partitionable slot) and sleep jobs
submitted to them. The console authenticates with an IDTOKEN for
``console@<UID_DOMAIN>`` written to a host file, because FS authentication does
not work across the chroot boundary.

Stdlib only: tools run inside the pool's environment via ``DevPool.config_val``
style argv prefixes; nothing here imports Django or the HTCondor bindings.

One module of about 1,000 lines, on purpose: it is one instance's life
(bootstrap, config, start, token, stop, orphans, jobs) under one lock per instance,
and its private helpers share the ``_Instance`` paths; split, each part would
import the others' internals. Development only: a deployment never loads it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DevPool",
    "DevPoolUnavailable",
    "down",
    "remove_jobs",
    "restart_master",
    "start",
    "status",
    "submit_sleep",
    "up",
]

SUITE = "trixie"
PACKAGES = ("minicondor",)
ROOTFS_DIR = f"rootfs-{SUITE}"
COMPLETE_MARKER = ".condorweb-rootfs-complete"

# MyType of the ads the collector must list before the pool counts as up
# (and, with execute nodes, each node's partitionable slot: see _missing).
REQUIRED_AD_TYPES = frozenset({"DaemonMaster", "Scheduler", "Machine", "Collector", "Negotiator"})

# What each extra execute node advertises, whatever the host has: one
# partitionable slot that jobs carve into dynamic slots. Overcommitted on
# purpose (20 nodes claim 80 CPUs and 40 GB on a 2-core host): the jobs they
# run are sleeps, and the drain and slot features need many slots, not cycles.
EXECUTE_NODE_CPUS = 4
EXECUTE_NODE_MEMORY_MB = 2048
# Two digits keep the names sortable (exec01 < exec02 < ... < exec99).
MAX_EXECUTE_NODES = 99

# The HTCondor tools the console's side runs, each as one executable (see _write_tools).
CONSOLE_TOOLS = ("condor_config_val", "condor_fetchlog", "condor_drain", "condor_status")

# Who owns the jobs submit_sleep queues: HTCondor refuses jobs of root.
JOB_USER = "condorweb-job"

# Knobs the console may set at runtime; anything else must be refused so the
# refusal path stays testable.
SETTABLE_ATTRS_CONFIG = (
    "CONDORWEB_*",
    "TEST_*",
    "MASTER_DEBUG",
    "SCHEDD_DEBUG",
    "COLLECTOR_DEBUG",
    "NEGOTIATOR_DEBUG",
    "STARTD_DEBUG",
)

CONSOLE_USER = "console"
CHROOT_INSTANCES = "/var/lib/condorweb"
CHROOT_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
PSEUDO_FILESYSTEMS = ("proc", "dev", "dev/pts")
PERSONAL_INHERITED_KNOBS = ("RELEASE_DIR", "LIB", "BIN", "SBIN", "LIBEXEC", "SHARE")

_NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_PORT_LINE_RE = re.compile(r"^SHARED_PORT_PORT = (\d+)$", re.MULTILINE)
_NODES_LINE_RE = re.compile(r"^DAEMON_LIST = \$\(DAEMON_LIST\)((?: STARTD_EXEC\d+)+)$", re.MULTILINE)


class DevPoolUnavailable(Exception):
    """This machine can run neither route."""


@dataclass(frozen=True)
class DevPool:
    """A running instance, as the console and the tests need to reach it."""

    name: str
    port: int
    collector: str
    token_file: str
    host_root: str
    log_dir: str
    tools_dir: str
    uid_domain: str
    route: str
    # The extra startds' Name as the collector lists them (exec01@<host>, ...), sorted.
    execute_nodes: tuple[str, ...]

    @property
    def config_val(self) -> list[str]:
        return self.tool("condor_config_val")

    def tool(self, tool_name: str) -> list[str]:
        """Command that runs one of CONSOLE_TOOLS as the console does: its token, its rights, no shell."""
        if tool_name not in CONSOLE_TOOLS:
            raise ValueError(f"{tool_name!r} is not one of the console's tools {CONSOLE_TOOLS}")
        return [f"{self.tools_dir}/{tool_name}"]


@dataclass(frozen=True)
class _Instance:
    """Where one instance lives and how to run its tools."""

    name: str
    route: str
    cache: Path
    host_root: str
    tool_path: str

    @property
    def local_dir(self) -> str:
        if self.route == "chroot":
            return f"{CHROOT_INSTANCES}/{self.name}"
        return str(self.pool_dir / "local")

    @property
    def config_file(self) -> str:
        return f"{self.local_dir}/condor_config"

    @property
    def overrides_file(self) -> str:
        return f"{self.local_dir}/condorweb.config"

    @property
    def log_dir(self) -> str:
        return f"{self.local_dir}/log"

    @property
    def pid_file(self) -> str:
        # In RUN: the master writes it after dropping to the condor user.
        return f"{self.local_dir}/run/master.pid"

    @property
    def pool_dir(self) -> Path:
        return self.cache / "pools" / self.name

    @property
    def tools_dir(self) -> Path:
        """Executables that run the instance's own tools as the console (a pool's command is one path)."""
        return self.pool_dir / "bin"

    @property
    def token_file(self) -> Path:
        return self.pool_dir / "tokens" / CONSOLE_USER

    @property
    def client_config(self) -> Path:
        """The config file the console's copy of the tools reads on the host (chroot route)."""
        return self.pool_dir / "client.config"

    @property
    def lock_file(self) -> Path:
        return self.cache / "locks" / f"instance-{self.name}.lock"

    def host(self, inside: str) -> Path:
        """Host path of a path as the daemons see it."""
        return Path(self.host_root + inside)

    def argv(self, tool: str, *args: str, user: str = "") -> list[str]:
        """Command that runs an HTCondor tool against this instance, as the user running it (or ``user``, chroot route).

        ``env -i`` because the caller's environment may carry ``_CONDOR_*``
        settings meant for a host-side client (e.g. its token directory).
        Inside the chroot the tool authenticates by FS, as root or ``user``.
        """
        prefix = []
        if self.route == "chroot":
            prefix = ["chroot", *([f"--userspec={user}:{user}"] if user else []), self.host_root]
        return [*prefix, "env", "-i", f"PATH={self.tool_path}", f"CONDOR_CONFIG={self.config_file}", tool, *args]

    def console_argv(self, tool: str) -> list[str]:
        """Command that runs an HTCondor tool as the console: its token, its rights (e.g. CONFIG), its user.

        The chroot's tools need the chroot's glibc (2.38+, newer than the
        host's), and chroot(2) needs root, which the console does not have
        (SECURITY.md, "The dev server's user"). So the console runs the
        chroot's binary on the host through the chroot's own dynamic loader
        and libraries, with a host-side client config pointing at its token.
        """
        if self.route != "chroot":
            return [
                "env",
                "-i",
                f"PATH={self.tool_path}",
                f"CONDOR_CONFIG={self.config_file}",
                f"_CONDOR_SEC_TOKEN_DIRECTORY={self.token_file.parent}",
                "_CONDOR_SEC_CLIENT_AUTHENTICATION_METHODS=IDTOKENS",
                tool,
            ]
        root = Path(self.host_root)
        loader = _one(sorted(root.glob("lib*/ld-linux*.so.*")), f"the dynamic loader in {root}")
        binary = _one(
            [d / tool for d in (root / "usr/bin", root / "usr/sbin") if (d / tool).is_file()], f"{tool} in {root}"
        )
        libraries = [
            *sorted(str(d) for d in root.glob("lib/*-linux-gnu*") if d.is_dir()),
            *sorted(str(d) for d in root.glob("usr/lib/*-linux-gnu*") if d.is_dir()),
            str(root / "usr/lib"),
            str(root / "usr/lib/condor"),
        ]
        return [
            "env",
            "-i",
            f"CONDOR_CONFIG={self.client_config}",
            str(loader),
            "--library-path",
            ":".join(libraries),
            str(binary),
        ]


def _one(found: Sequence[Path], what: str) -> Path:
    if not found:
        raise RuntimeError(f"The dev pool's root lacks {what}: remove it to bootstrap it again.")
    return found[0]


def up(
    name: str = "dev",
    port: int = 9618,
    *,
    execute_nodes: int = 0,
    timeout: float = 90.0,
    token_owner: tuple[int, int] | None = None,
) -> DevPool:
    """Start instance ``name`` on ``port`` (bootstrapping once if needed) and wait until it is up.

    Idempotent: an instance already running with the same config returns at once.
    ``execute_nodes`` more startds (exec01, exec02, ...) run beside
    minicondor's own, each with one partitionable slot; another count is
    another config, so the master restarts. From stopped it took 5.5 s with
    none, 6.4 s with 4 and 13.8 s with 20 on a 2-core machine under load
    (the startds start at once and share the cores); 0.1 s when nothing changed.
    ``timeout`` bounds the wait for the daemons, not the one-off bootstrap.
    ``token_owner`` (uid, gid) gets the console's token; by default it keeps
    its owner (the caller, when new).
    """
    _check_port_number(port)
    if not 0 <= execute_nodes <= MAX_EXECUTE_NODES:
        raise ValueError(f"execute_nodes must be between 0 and {MAX_EXECUTE_NODES}, not {execute_nodes}")
    nodes = _node_names(execute_nodes)
    inst = _instance(name, provision=True)
    with _locked(inst.lock_file):
        prepared = _prepare(inst, port, nodes)
        _write_tools(inst)
        pid = _master_pid(inst)
        if pid is not None and not prepared.config_changed:
            ads = _ads(inst)
            if not _missing(ads, nodes):
                _give_token(inst, inst.token_file, token_owner)
                return _devpool(inst, port, prepared.uid_domain, _node_names_in(ads, nodes))
            # A live master with missing daemons had some turned off (DaemonOff).
            _run(inst.argv("condor_on"))
            fresh = False
        else:
            if pid is not None:
                # ENABLE_RUNTIME_CONFIG and friends are read once per process.
                _stop_master(pid)
            _stop_orphans(inst)
            _launch(inst, port)
            fresh = True
        ads = _wait_ready(inst, nodes, time.monotonic() + timeout)
        if fresh or not inst.token_file.exists():
            _write_token(inst, prepared.uid_domain, token_owner)
        else:
            _give_token(inst, inst.token_file, token_owner)
        return _devpool(inst, port, prepared.uid_domain, _node_names_in(ads, nodes))


def start(name: str = "dev", *, timeout: float = 90.0) -> DevPool:
    """Bring back a stopped instance (e.g. after OffFast) on the port and with the execute nodes it was set up with."""
    inst = _instance(name, provision=False)
    return up(name, _configured_port(inst), execute_nodes=_configured_execute_nodes(inst), timeout=timeout)


def restart_master(name: str = "dev", *, timeout: float = 90.0) -> DevPool:
    """Stop and start an instance's master, dropping any runtime config it holds."""
    inst = _instance(name, provision=False)
    port = _configured_port(inst)
    with _locked(inst.lock_file):
        pid = _master_pid(inst)
        if pid is not None:
            _stop_master(pid)
    return up(name, port, execute_nodes=_configured_execute_nodes(inst), timeout=timeout)


def down(name: str = "dev") -> None:
    """Stop instance ``name``; unmount the chroot's pseudo filesystems once nothing runs in it."""
    try:
        inst = _instance(name, provision=False)
    except DevPoolUnavailable:
        return
    with _locked(inst.lock_file):
        pid = _master_pid(inst)
        if pid is not None:
            _stop_master(pid)
        _stop_orphans(inst)
    if inst.route == "chroot":
        root = Path(inst.host_root)
        with _locked(_rootfs_lock(inst.cache)):
            if not _processes_in_root(root):
                _unmount_pseudo_filesystems(root)


def master_pid(name: str = "dev") -> int | None:
    """PID of a running instance's condor_master (benchmarks read its and its children's CPU time)."""
    return _master_pid(_instance(name, provision=False))


def status(name: str = "dev") -> dict[str, object]:
    """``{"running", "collector", "daemons", "error"}`` without starting anything."""
    result: dict[str, object] = {"running": False, "collector": None, "daemons": [], "error": None}
    try:
        inst = _instance(name, provision=False)
        result["collector"] = f"127.0.0.1:{_configured_port(inst)}"
    except (DevPoolUnavailable, LookupError) as exc:
        result["error"] = str(exc)
        return result
    result["running"] = _master_pid(inst) is not None
    if result["running"]:
        try:
            result["daemons"] = sorted({ad_type for ad_type, _ in _ads(inst, check=True)})
        except RuntimeError as exc:
            result["error"] = str(exc)
    return result


# --------------------------------------------------------------------------
# Routes and the chroot's root filesystem
# --------------------------------------------------------------------------


def _cache_dir() -> Path:
    configured = os.environ.get("CONDORWEB_CACHE_DIR")
    if configured:
        return Path(configured)
    if os.geteuid() == 0:
        return Path("/var/cache/condorweb")
    # A personal pool runs without root, where /var/cache is not writable.
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "condorweb"


def _rootfs_lock(cache: Path) -> Path:
    return cache / "locks" / "rootfs.lock"


def _instance(name: str, *, provision: bool) -> _Instance:
    if not _NAME_RE.fullmatch(name):
        raise ValueError(f"instance name {name!r} must match {_NAME_RE.pattern}")
    cache = _cache_dir()
    if shutil.which("condor_master"):
        return _Instance(name, "personal", cache, "", os.environ.get("PATH", os.defpath))
    # Resolved, because it is compared with /proc/*/root and mountinfo.
    root = (cache / ROOTFS_DIR).resolve()
    if os.geteuid() == 0 and ((root / COMPLETE_MARKER).exists() or shutil.which("debootstrap")):
        if provision:
            _ensure_rootfs(cache)
        return _Instance(name, "chroot", cache, str(root), CHROOT_PATH)
    raise DevPoolUnavailable(
        "A development HTCondor pool needs either HTCondor installed on this host "
        "(condor_master on PATH, e.g. `apt-get install minicondor` on Debian 13+/Ubuntu) "
        "or root on Debian/Ubuntu with debootstrap (`apt-get install debootstrap`) "
        f"to build a Debian {SUITE} chroot with minicondor."
    )


def _ensure_rootfs(cache: Path) -> None:
    root = cache / ROOTFS_DIR
    if (root / COMPLETE_MARKER).exists():
        return
    with _locked(_rootfs_lock(cache)):
        if (root / COMPLETE_MARKER).exists():
            return
        # Built aside and renamed at the end, so an interrupted bootstrap is never reused.
        partial = cache / f"{ROOTFS_DIR}.partial"
        _remove_tree(partial)
        _remove_tree(root)
        _run(["debootstrap", "--variant=minbase", SUITE, str(partial)], timeout=1800)
        apt_env = {"PATH": CHROOT_PATH, "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C"}
        chroot = ["chroot", str(partial)]
        _run([*chroot, "apt-get", "update"], timeout=600, env=apt_env)
        _run(
            [*chroot, "apt-get", "install", "-y", "--no-install-recommends", *PACKAGES],
            timeout=1800,
            env=apt_env,
        )
        _run([*chroot, "apt-get", "clean"], env=apt_env)
        (partial / COMPLETE_MARKER).write_text(" ".join(PACKAGES) + "\n")
        partial.rename(root)


def _remove_tree(path: Path) -> None:
    # An interrupted debootstrap can leave /proc or /sys mounted inside; rmtree
    # would then delete through the mount into the host's files.
    for mountpoint in sorted(_mounts_under(path), reverse=True):
        _run(["umount", "--lazy", mountpoint])
    if _mounts_under(path):
        raise RuntimeError(f"refusing to delete {path}: filesystems are still mounted under it")
    if path.exists():
        shutil.rmtree(path)


def _mounts_under(path: Path) -> list[str]:
    prefix = str(path.resolve())
    found = []
    with open("/proc/self/mountinfo", encoding="utf-8") as mountinfo:
        for line in mountinfo:
            # mountinfo escapes blanks and backslashes as \ooo octal
            mountpoint = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), line.split()[4])
            if mountpoint == prefix or mountpoint.startswith(prefix + "/"):
                found.append(mountpoint)
    return found


def _mount_pseudo_filesystems(root: Path) -> None:
    mounted = set(_mounts_under(root))
    for sub in PSEUDO_FILESYSTEMS:
        target = root / sub
        if str(target) in mounted:
            continue
        _run(["mount", "--bind", f"/{sub}", str(target)])
        # Slave, so mounting dev/pts onto the bound /dev cannot propagate back
        # onto the host's /dev when the host's mounts are shared (systemd).
        _run(["mount", "--make-rslave", str(target)])


def _unmount_pseudo_filesystems(root: Path) -> None:
    mounted = set(_mounts_under(root))
    for sub in reversed(PSEUDO_FILESYSTEMS):
        target = root / sub
        if str(target) in mounted:
            _run(["umount", str(target)])


def _processes_in_root(root: Path) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{entry}/root") == str(root):
                    pids.append(int(entry))
    return pids


# --------------------------------------------------------------------------
# Instance configuration
# --------------------------------------------------------------------------


def _render_overrides(local_dir: str, port: int, nodes: Sequence[str] = ()) -> str:
    """The instance's own knobs, read after every other config file."""
    settable = ", ".join(SETTABLE_ATTRS_CONFIG)
    console = f"{CONSOLE_USER}@$(UID_DOMAIN)"
    common = f"""\
# Written by condorweb devtools/devpool.py on every up(); edits are overwritten.
LOCAL_DIR = {local_dir}
LOG = $(LOCAL_DIR)/log
SPOOL = $(LOCAL_DIR)/spool
EXECUTE = $(LOCAL_DIR)/execute
LOCK = $(LOCAL_DIR)/lock
RUN = $(LOCAL_DIR)/run
SEC_PASSWORD_DIRECTORY = $(LOCAL_DIR)/passwords.d
SEC_TOKEN_SYSTEM_DIRECTORY = $(LOCAL_DIR)/tokens.d
SEC_TOKEN_DIRECTORY = $(LOCAL_DIR)/tokens.d

CONDOR_HOST = 127.0.0.1
COLLECTOR_HOST = $(CONDOR_HOST):{port}
SHARED_PORT_PORT = {port}
NETWORK_INTERFACE = 127.0.0.1
ENABLE_IPV6 = False

SEC_DEFAULT_AUTHENTICATION_METHODS = FS, IDTOKENS
ALLOW_READ = $(ALLOW_READ) {console}
ALLOW_ADMINISTRATOR = $(ALLOW_ADMINISTRATOR) {console}
ALLOW_CONFIG = {console}
ENABLE_RUNTIME_CONFIG = True
SETTABLE_ATTRS_CONFIG = {settable}

# The starter's private /tmp needs unshare(CLONE_NEWNS), which fails inside the
# chroot ("Failed to unshare the mount namespace": every job held, errno 22).
MOUNT_UNDER_SCRATCH =

UPDATE_INTERVAL = 5
# The master's ad carries its children's states; by default it is sent every 300 s.
MASTER_UPDATE_INTERVAL = $(UPDATE_INTERVAL)
"""
    return common + "".join(_render_execute_node(node) for node in nodes) + _render_daemon_list(nodes)


def _node_names(count: int) -> list[str]:
    return [f"exec{number:02d}" for number in range(1, count + 1)]


def _render_execute_node(node: str) -> str:
    """One more condor_startd under the master: HTCondor's ``-local-name`` pattern for several daemons of a kind.

    With a local name the startd looks up <LOCAL>.<KNOB> first, so every
    file it writes gets a name of its own here (the log, the address and
    daemon ad files, claim ids, history, the execute directory), and its
    Name (exec01@<host>) tells it apart in the collector: without one, every
    node's ads replace each other's as "slot1@<host>". The manual's
    STARTD.<LOCAL>.<KNOB> form is ignored by 23.9 ("obsolete SUBSYS.LOCALNAME.*
    overrides", condor_config_val warns). The master needs STARTD_EXEC01_LOG
    too, for condor_fetchlog STARTD_EXEC01.
    """
    local = node.upper()
    daemon = f"STARTD_{local}"
    return f"""
# Execute node {node}
{daemon} = $(STARTD)
{daemon}_ARGS = -local-name {local}
{daemon}_LOG = $(LOG)/StartLog.{node}
{local}.STARTD_NAME = {node}
{local}.STARTD_LOG = $({daemon}_LOG)
{local}.STARTD_ADDRESS_FILE = $(LOG)/.startd_address.{node}
{local}.STARTD_DAEMON_AD_FILE = $(LOG)/.startd_classad.{node}
{local}.STARTD_CLAIM_ID_FILE = $(LOG)/.startd_claim_id.{node}
{local}.STARTD_HISTORY = $(SPOOL)/startd_history.{node}
# Not under $(EXECUTE): minicondor's own startd empties that directory when it starts.
{local}.EXECUTE = $(LOCAL_DIR)/nodes/{node}
# HTCondor's default layout makes these one partitionable slot (slot type 0). No
# SLOT_TYPE_1_PARTITIONABLE: the startd finds SLOT_TYPE_<n>_* knobs by their bare
# names, so with a local name prefix it made a static slot (seen on 23.9.6).
{local}.NUM_CPUS = {EXECUTE_NODE_CPUS}
{local}.MEMORY = {EXECUTE_NODE_MEMORY_MB}
# In every slot ad, so a job's requirements can pick the node: CONDORWEB_NODE == "{node}".
{local}.CONDORWEB_NODE = "{node}"
{local}.STARTD_ATTRS = $(STARTD_ATTRS) CONDORWEB_NODE
# An hour, as sites give jobs on execute nodes: a graceful drain lets a running
# job finish within it. HTCondor's default, 0, vacates it at once, as quick does.
{local}.MAXJOBRETIREMENTTIME = 3600
"""


def _render_daemon_list(nodes: Sequence[str]) -> str:
    if not nodes:
        return ""
    daemons = " ".join(f"STARTD_{node.upper()}" for node in nodes)
    # DC_DAEMON_LIST as in the manual's example of a second schedd: 23.9.6 starts
    # them as DaemonCore daemons without it too (they share STARTD's binary);
    # a host's older HTCondor on the personal route may not.
    return f"\nDAEMON_LIST = $(DAEMON_LIST) {daemons}\nDC_DAEMON_LIST = + {daemons}\n"


def _render_chroot_entry(overrides_file: str) -> str:
    """CONDOR_CONFIG of a chroot instance: minicondor's config, then the overrides.

    LOCAL_CONFIG_FILE is read after LOCAL_CONFIG_DIR (where minicondor's
    settings live), so the overrides win.
    """
    return f"""\
# Written by condorweb devtools/devpool.py on every up(); edits are overwritten.
include : /etc/condor/condor_config
LOCAL_CONFIG_FILE = $(LOCAL_CONFIG_FILE), {overrides_file}
"""


def _render_personal_entry(overrides_file: str, inherited: Mapping[str, str], owners: Sequence[str]) -> str:
    """CONDOR_CONFIG of a personal instance: a single-node pool that ignores the host's config."""
    lines = [
        "# Written by condorweb devtools/devpool.py on every up(); edits are overwritten.",
        *(f"{knob} = {value}" for knob, value in inherited.items()),
        "LOCAL_CONFIG_DIR =",
        "use ROLE: Personal",
        # minicondor's security model, so both routes refuse and allow alike.
        "use SECURITY: recommended_v9_0",
        f"DEVPOOL_OWNERS = {' '.join(owners)}",
        *(f"ALLOW_{level} = $(DEVPOOL_OWNERS)" for level in ("DAEMON", "NEGOTIATOR", "ADMINISTRATOR")),
        # minicondor's tuning, for the same reason.
        "SCHEDD_INTERVAL = 5",
        "NEGOTIATOR_INTERVAL = 2",
        "NEGOTIATOR_CYCLE_DELAY = 5",
        "STARTER_UPDATE_INTERVAL = 5",
        "RUNBENCHMARKS = 0",
        "MAIL = /bin/true",
        "SENDMAIL = /bin/true",
        f"LOCAL_CONFIG_FILE = {overrides_file}",
    ]
    return "\n".join(lines) + "\n"


def _personal_owners() -> list[str]:
    # Started as root, the daemons switch to the condor user and authenticate as it.
    if os.geteuid() == 0:
        return ["root@$(UID_DOMAIN)", "condor@$(UID_DOMAIN)"]
    return ["$(USERNAME)@$(UID_DOMAIN)"]


def _personal_inherited() -> dict[str, str]:
    """Install locations from the host's own HTCondor config."""
    inherited = {}
    for knob in PERSONAL_INHERITED_KNOBS:
        found = subprocess.run(["condor_config_val", knob], capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if found.returncode == 0 and found.stdout.strip():
            inherited[knob] = found.stdout.strip()
    return inherited


@dataclass(frozen=True)
class _Prepared:
    uid_domain: str
    config_changed: bool


def _prepare(inst: _Instance, port: int, nodes: Sequence[str]) -> _Prepared:
    """Create the instance's directories and config files."""
    condor_dirs = [f"{inst.local_dir}/{sub}" for sub in ("log", "spool", "execute", "lock", "run")]
    condor_dirs += [f"{inst.local_dir}/nodes/{node}" for node in nodes]
    private_dirs = [f"{inst.local_dir}/{sub}" for sub in ("passwords.d", "tokens.d")]
    # The daemons drop root for the condor user, which must own what they write.
    owner = ["-o", "condor", "-g", "condor"] if os.geteuid() == 0 else []
    _run(inst.argv("install", "-d", *owner, "-m", "0755", *condor_dirs))
    _run(inst.argv("install", "-d", "-m", "0700", *private_dirs))

    if inst.route == "chroot":
        entry = _render_chroot_entry(inst.overrides_file)
    else:
        entry = _render_personal_entry(inst.overrides_file, _personal_inherited(), _personal_owners())
    changed = _write_if_changed(inst.host(inst.config_file), entry)
    changed |= _write_if_changed(inst.host(inst.overrides_file), _render_overrides(inst.local_dir, port, nodes))
    # Also proves the config parses, with the error on stderr rather than lost in a daemon log.
    uid_domain = _run(inst.argv("condor_config_val", "UID_DOMAIN")).stdout.strip()
    return _Prepared(uid_domain, changed)


def _write_if_changed(path: Path, text: str) -> bool:
    with contextlib.suppress(FileNotFoundError):
        if path.read_text() == text:
            return False
    path.write_text(text)
    return True


def _configured_port(inst: _Instance) -> int:
    try:
        found = _PORT_LINE_RE.search(inst.host(inst.overrides_file).read_text())
    except FileNotFoundError:
        found = None
    if found is None:
        raise LookupError(f"dev pool {inst.name!r} was never set up; call up({inst.name!r}, port)")
    return int(found.group(1))


def _configured_execute_nodes(inst: _Instance) -> int:
    """How many execute nodes the instance was last set up with."""
    found = _NODES_LINE_RE.search(inst.host(inst.overrides_file).read_text())
    return len(found.group(1).split()) if found else 0


# --------------------------------------------------------------------------
# Daemons
# --------------------------------------------------------------------------


def _launch(inst: _Instance, port: int) -> None:
    if _port_in_use(port):
        raise RuntimeError(f"127.0.0.1:{port} is already in use (another instance or program)")
    if inst.route == "chroot":
        # Under the rootfs lock so a concurrent down() of another instance
        # cannot unmount between the mount and the master's start.
        with _locked(_rootfs_lock(inst.cache)):
            root = Path(inst.host_root)
            _mount_pseudo_filesystems(root)
            # debootstrap's /etc/hosts lacks the host's own name, which the
            # daemons look up at startup.
            shutil.copyfile("/etc/hosts", root / "etc" / "hosts")
            _start_master(inst)
    else:
        _start_master(inst)


def _start_master(inst: _Instance) -> None:
    pid_file = inst.host(inst.pid_file)
    pid_file.unlink(missing_ok=True)
    # No output capture: the daemonized master would keep the pipes open.
    subprocess.run(
        inst.argv("condor_master", "-pidfile", inst.pid_file),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
        timeout=30,
    )
    deadline = time.monotonic() + 10
    while _master_pid(inst) is None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"condor_master of {inst.name!r} did not start.{_log_tail(inst)}")
        time.sleep(0.05)


def _master_pid(inst: _Instance) -> int | None:
    """PID of the instance's live condor_master, if any."""
    try:
        pid = int(inst.host(inst.pid_file).read_text().strip())
        # Guard against a stale pid file whose number now belongs to another process.
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        root = os.readlink(f"/proc/{pid}/root")
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, ValueError):
        return None
    expected_root = inst.host_root or "/"
    if b"condor_master" not in cmdline or root != expected_root or state == "Z":
        return None
    return pid


def _stop_master(pid: int) -> None:
    # Graceful first (the master stops its daemons, then itself), then harder.
    for sig, grace in ((signal.SIGTERM, 30.0), (signal.SIGQUIT, 15.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if not _alive(pid):
                return
            time.sleep(0.1)
    raise RuntimeError(f"condor_master (pid {pid}) did not exit")


def _stop_orphans(inst: _Instance) -> None:
    """Stop what a master that died without stopping its daemons left of the instance.

    A master that aborts (e.g. HTCondor's runtime-unset double free, see
    SECURITY.md) leaves its children running: the shared port daemon keeps
    the instance's port, so the next start would fail with "already in use".
    """
    for sig, grace in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
        pids = _instance_processes(inst)
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
            time.sleep(0.1)
    left = _instance_processes(inst)
    if left:
        raise RuntimeError(f"processes {left} of dev pool {inst.name!r} did not exit")


def _instance_processes(inst: _Instance) -> list[int]:
    """Live processes of this instance and no other: every one runs in its root with its CONDOR_CONFIG.

    ``argv`` starts the master with exactly that CONDOR_CONFIG and its
    daemons inherit it; other instances in the same chroot have their own
    file, and nothing else on the host names it. Never matched by name.
    """
    expected_root = inst.host_root or "/"
    marker = f"CONDOR_CONFIG={inst.config_file}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/{entry}/root") != expected_root:
                continue
            environ = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
            if marker in environ and _alive(int(entry)):
                found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _ads(inst: _Instance, *, check: bool = False) -> list[tuple[str, str]]:
    """(MyType, Name) of every ad the instance's collector lists."""
    found = subprocess.run(
        inst.argv("condor_status", "-any", "-af", "MyType", "Name"),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=30,
    )
    if found.returncode != 0:
        if check:
            raise RuntimeError(found.stderr.strip() or f"condor_status exited with {found.returncode}")
        return []
    return [(ad_type, ad_name) for ad_type, _, ad_name in (line.partition(" ") for line in found.stdout.splitlines())]


def _missing(ads: Sequence[tuple[str, str]], nodes: Sequence[str]) -> list[str]:
    """What the collector does not list yet: required ad types, then execute nodes' partitionable slots."""
    types = {ad_type for ad_type, _ in ads}
    listed = {startd.partition("@")[0] for startd in _node_names_in(ads, nodes)}
    return [*sorted(REQUIRED_AD_TYPES - types), *(f"slot1@{node}" for node in nodes if node not in listed)]


def _node_names_in(ads: Sequence[tuple[str, str]], nodes: Sequence[str]) -> tuple[str, ...]:
    """The execute nodes' startd names (exec01@<host>) from their slots' names (slot1@exec01@<host>)."""
    wanted = {f"slot1@{node}" for node in nodes}
    return tuple(
        sorted(
            ad_name.partition("@")[2]
            for ad_type, ad_name in ads
            if ad_type == "Machine" and ad_name.rpartition("@")[0] in wanted
        )
    )


def _wait_ready(inst: _Instance, nodes: Sequence[str], deadline: float) -> list[tuple[str, str]]:
    while True:
        ads = _ads(inst)
        missing = _missing(ads, nodes)
        if not missing:
            return ads
        if _master_pid(inst) is None:
            raise RuntimeError(f"condor_master of {inst.name!r} exited.{_log_tail(inst)}")
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"dev pool {inst.name!r}: no {', '.join(missing)} ad in the collector yet." + _log_tail(inst)
            )
        time.sleep(0.5)


def _log_tail(inst: _Instance, lines: int = 15) -> str:
    try:
        text = (inst.host(inst.log_dir) / "MasterLog").read_text(errors="replace")
    except OSError:
        return ""
    return "\nMasterLog ends with:\n" + "\n".join(text.splitlines()[-lines:])


def _write_tools(inst: _Instance) -> None:
    """CONSOLE_TOOLS as the console runs them: one executable each.

    A pool's tool command is the path of one executable, run without a shell
    (SECURITY.md); these scripts hold the environment around the instance's
    own tool. Written by root, mode 755: the console may run them, not change
    them.
    """
    inst.tools_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
    if inst.route == "chroot":
        _write_if_changed(
            inst.client_config,
            "# Written by condorweb's devpool: how the console's copy of the instance's tools reaches it.\n"
            "SEC_CLIENT_AUTHENTICATION_METHODS = IDTOKENS\n"
            f"SEC_TOKEN_DIRECTORY = {inst.token_file.parent}\n"
            "ENABLE_IPV6 = False\n",
        )
    for tool in CONSOLE_TOOLS:
        script = f'#!/bin/sh\nexec {shlex.join(inst.console_argv(tool))} "$@"\n'
        path = inst.tools_dir / tool
        partial = inst.tools_dir / f".{tool}.partial"
        partial.write_text(script)
        partial.chmod(0o755)
        os.replace(partial, path)


def _write_token(inst: _Instance, uid_domain: str, owner: tuple[int, int] | None) -> None:
    """The console's IDTOKEN, mode 600 in a 700 directory, owned by ``owner`` (default: as it was)."""
    path = inst.token_file
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    owner = owner or _owner_of(path)
    token = _run(inst.argv("condor_token_create", "-identity", f"{CONSOLE_USER}@{uid_domain}")).stdout
    # Written aside and renamed: a client may be reading the directory right now.
    partial = path.parent.parent / f"{CONSOLE_USER}.partial"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(token.strip() + "\n")
    _give_token(inst, partial, owner)
    os.replace(partial, path)


def _owner_of(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_uid, st.st_gid


def _give_token(inst: _Instance, path: Path, owner: tuple[int, int] | None) -> None:
    """Hand the token (and its directory) to the user the console runs as: it refuses a token it does not own."""
    if owner is None or _owner_of(path) == owner == _owner_of(inst.token_file.parent):
        return
    os.chown(inst.token_file.parent, *owner)
    os.chown(path, *owner)


def _devpool(inst: _Instance, port: int, uid_domain: str, execute_nodes: tuple[str, ...] = ()) -> DevPool:
    return DevPool(
        name=inst.name,
        port=port,
        collector=f"127.0.0.1:{port}",
        token_file=str(inst.token_file),
        host_root=inst.host_root,
        log_dir=inst.log_dir,
        tools_dir=str(inst.tools_dir),
        uid_domain=uid_domain,
        route=inst.route,
        execute_nodes=execute_nodes,
    )


# --------------------------------------------------------------------------
# Jobs
# --------------------------------------------------------------------------


def submit_sleep(name: str, *, count: int = 1, seconds: int = 60, requirements: str = "") -> str:
    """Queue ``count`` jobs that sleep ``seconds`` in instance ``name``; the cluster id.

    ``requirements`` is a ClassAd expression a slot must match, e.g.
    ``CONDORWEB_NODE == "exec02"`` for one execute node; by default any
    slot, minicondor's own included. Each job asks for 1 CPU and 64 MB, so a
    node's partitionable slot holds 4 at once. Returns at once: the jobs were
    Claimed/Busy on dynamic slots about 10 s later (1 to 16 jobs, measured),
    the schedd asking every 5 s and the negotiator matching every 2 s.
    """
    inst = _instance(name, provision=False)
    lines = [
        "universe = vanilla",
        "executable = /bin/sleep",
        f"arguments = {int(seconds)}",
        # The chroot's own sleep, where the job runs: nothing to transfer.
        "transfer_executable = false",
        "should_transfer_files = NO",
        "request_cpus = 1",
        "request_memory = 64",
        "request_disk = 1024",
        *([f"requirements = {requirements}"] if requirements else []),
        f"queue {int(count)}",
    ]
    # -terse prints "12.0 - 12.3"; the submit description comes on stdin.
    done = _run(_job_argv(inst, "condor_submit", "-terse"), input="\n".join(lines) + "\n")
    return done.stdout.split(".", 1)[0].strip()


def remove_jobs(name: str, cluster: str) -> None:
    """Remove every job of ``cluster`` still queued (the jobs leave the queue once their shadows have stopped
    them); a cluster whose jobs have all finished is no error."""
    if not cluster.isdigit():
        raise ValueError(f"cluster {cluster!r} is not a cluster id")
    done = subprocess.run(
        _job_argv(_instance(name, provision=False), "condor_rm", cluster),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    # condor_rm says this, exit status 1, when no job of the cluster is left.
    if done.returncode != 0 and "Couldn't find/remove all jobs" not in done.stdout + done.stderr:
        raise RuntimeError(f"condor_rm {cluster} exited with {done.returncode}: {(done.stderr or done.stdout)[-2000:]}")


def _job_argv(inst: _Instance, tool: str, *args: str) -> list[str]:
    """Run a job tool as the jobs' owner, authenticated by FS inside the instance's environment."""
    if inst.route != "chroot":
        if os.geteuid() == 0:
            raise RuntimeError("HTCondor refuses jobs of root: submit to a personal dev pool as another user.")
        return inst.argv(tool, *args)
    _ensure_job_user(inst)
    return inst.argv(tool, *args, user=JOB_USER)


def _ensure_job_user(inst: _Instance) -> None:
    """The chroot's unprivileged JOB_USER, created once (all instances share the root filesystem)."""
    passwd = Path(inst.host_root) / "etc/passwd"
    if f"\n{JOB_USER}:" in f"\n{passwd.read_text()}":
        return
    with _locked(_rootfs_lock(inst.cache)):
        if f"\n{JOB_USER}:" not in f"\n{passwd.read_text()}":
            _run(["chroot", inst.host_root, "useradd", "--create-home", "--shell", "/usr/sbin/nologin", JOB_USER])


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def _check_port_number(port: int) -> None:
    if not 0 < port < 65536:
        raise ValueError(f"port {port} is not a TCP port number")


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR like the shared port daemon, so TIME_WAIT leftovers of a
        # previous run do not count as "in use".
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Exclusive lock shared with every other process using the same cache dir."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _run(
    argv: Sequence[str], *, timeout: float = 120, env: Mapping[str, str] | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        list(argv),
        capture_output=True,
        text=True,
        input=input,
        stdin=subprocess.DEVNULL if input is None else None,
        timeout=timeout,
        env=None if env is None else dict(env),
    )
    if done.returncode != 0:
        detail = (done.stderr.strip() or done.stdout.strip())[-2000:]
        raise RuntimeError(f"`{shlex.join(argv)}` exited with {done.returncode}: {detail}")
    return done
