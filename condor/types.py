"""Plain values the condor package takes and hands back: no binding object leaves a worker process.

Callers build a ``Target``, ``Credentials`` (``Daemon.target`` and
``Pool.credentials`` on the models do it from the inventory) and a
``DrainRequest``, and get ``DaemonInfo``, ``AuthorizationCheck``,
``LocalKnob`` and ``SlotInfo`` back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from condor.errors import InvalidInput
from condor.validation import validate_address, validate_constraint, validate_drain_reason, validate_token_file

# MyType in the collector -> the console's daemon kind.
KIND_BY_MYTYPE = {
    "DaemonMaster": "master",
    "Scheduler": "schedd",
    "StartD": "startd",
    "Collector": "collector",
    "Negotiator": "negotiator",
    "CredD": "credd",
    "HAD": "had",
    "Defrag": "defrag",
    "PlacementD": "placementd",
    "Generic": "generic",
}
# The kind -> the MyType send_command understands (it has no "StartD").
SEND_MYTYPE = {
    "master": "DaemonMaster",
    "schedd": "Scheduler",
    "startd": "Machine",
    "collector": "Collector",
    "negotiator": "Negotiator",
    "credd": "CredD",
    "had": "HAD",
    "placementd": "PlacementD",
}
# The subsystem name a master uses for a child of this kind.
SUBSYSTEM_BY_KIND = {
    "master": "MASTER",
    "schedd": "SCHEDD",
    "startd": "STARTD",
    "collector": "COLLECTOR",
    "negotiator": "NEGOTIATOR",
    "credd": "CREDD",
    "had": "HAD",
    "defrag": "DEFRAG",
    "placementd": "PLACEMENTD",
}
DAEMON_KINDS = tuple(SUBSYSTEM_BY_KIND) + ("generic",)

# Ad attributes worth showing on a daemon's page; everything else is noise.
INTERESTING_ATTRIBUTES = (
    "Name",
    "Machine",
    "MyAddress",
    "CondorVersion",
    "CondorPlatform",
    "DaemonStartTime",
    "MyCurrentTime",
    "DaemonCoreDutyCycle",
    "RecentDaemonCoreDutyCycle",
    "UpdateSequenceNumber",
    "MonitorSelfCPUUsage",
    "MonitorSelfImageSize",
    "MonitorSelfResidentSetSize",
    "MonitorSelfAge",
    "Master",
    "MasterIpAddr",
    "TotalRunningJobs",
    "TotalIdleJobs",
    "TotalHeldJobs",
    "NumUsers",
    "MaxJobsRunning",
    "TotalSlots",
    "TotalCpus",
    "TotalMemory",
    "State",
    "Activity",
    "RunningJobs",
    "IdleJobs",
    "HostsTotal",
    "HostsClaimed",
    "HostsUnclaimed",
    "LastNegotiationCycleEnd0",
    "LastNegotiationCycleDuration0",
    "DaemonShutdown",
    "Arch",
    "OpSys",
    "OpSysAndVer",
    "UidDomain",
    # A startd's own ad (MyType StartD) carries its drain as its slots do.
    "Draining",
    "DrainReason",
    "DrainingRequestId",
    "LastDrainStartTime",
    "LastDrainStopTime",
)


@dataclass(frozen=True)
class DaemonInfo:
    kind: str
    name: str
    machine: str
    address: str
    version: str
    platform: str
    start_time: datetime | None
    subsystem: str
    # For masters: child subsystem -> "up" / "down" (from the master ad).
    children: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """A daemon as the console reaches it: its address and kind (and name, for messages)."""

    address: str
    kind: str
    name: str = ""

    def __post_init__(self) -> None:
        validate_address(self.address)
        if self.kind not in DAEMON_KINDS:
            raise InvalidInput(f"{self.kind!r} is not a daemon kind condorweb knows.")


@dataclass(frozen=True)
class Credentials:
    """How the console reaches one pool.

    ``token_file`` is the path of an IDTOKEN file; the token itself never
    passes through this module's callers. ``config_val`` is the command that
    runs HTCondor's ``condor_config_val`` for this pool (empty: the one on
    PATH, if any); it serves what the bindings cannot do.
    """

    token_file: str = ""
    config_val: tuple[str, ...] = ()

    def check(self) -> list[str]:
        """Warnings an operator should see about the token file: the pool form's rule, applied to the file as it is now."""
        if not self.token_file:
            return []
        try:
            validate_token_file(self.token_file)
        except InvalidInput as exc:
            return [f"The token file needs attention: {exc}"]
        return []


@dataclass(frozen=True)
class AuthorizationCheck:
    level: str
    authorized: bool
    identity: str


@dataclass(frozen=True)
class LocalKnob:
    name: str
    value: str | int | float | bool
    type: str  # "int", "bool", "float" or "str": the parameter table's type
    # Seen as a subsystem: the SUBSYSTEM.NAME entry the value comes from, and the bare NAME's value it
    # overrides (None: there is no bare entry).
    prefixed: str = ""
    overrides: str | None = None


@dataclass(frozen=True)
class ClientDefaults:
    """The knobs the console's HTCondor client defines by itself, with their default values (typed as
    ``LocalKnob``), those it defines whose default it cannot tell, and its ``$CondorVersion``."""

    values: dict[str, str | int | float | bool]
    without_default: frozenset[str]
    version: str

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.values) | self.without_default


NOT_DEFINED = "Not defined"


class DrainSpeed(StrEnum):
    """How much time a drain gives running jobs (``condor_drain -graceful/-quick/-fast``)."""

    GRACEFUL = "graceful"  # MaxJobRetirementTime and MaxVacateTime are honoured
    QUICK = "quick"  # MaxVacateTime only: jobs are soft-killed at once
    FAST = "fast"  # neither: jobs are hard-killed at once


class DrainCompletion(StrEnum):
    """What the startd does once every slot is drained."""

    NOTHING = "nothing"  # stay drained until cancelled
    RESUME = "resume"
    EXIT = "exit"  # the startd exits and the master does not restart it
    RESTART = "restart"
    RECONFIG = "reconfig"


# HowFast and OnCompletion as the startd reads them (condor_commands.h).
DRAIN_SPEED_IDS = {DrainSpeed.GRACEFUL: 0, DrainSpeed.QUICK: 10, DrainSpeed.FAST: 20}
DRAIN_COMPLETION_IDS = {
    DrainCompletion.NOTHING: 0,
    DrainCompletion.RESUME: 1,
    DrainCompletion.EXIT: 2,
    DrainCompletion.RESTART: 3,
    DrainCompletion.RECONFIG: 4,
}
# The first startd version that understands each completion (HTCondor's git
# history): ResumeOnCompletion came in 7.9.1, exit and restart in 8.9.12
# (condor_drain refuses them for older startds), reconfig in 9.12.0. Older
# startds misread the newer values (9.11 restarts on "reconfig", 8.9.11 resumes
# on anything but "nothing"), so a page never offers what a startd lacks.
_COMPLETION_SINCE = (
    (DrainCompletion.NOTHING, (0, 0, 0)),
    (DrainCompletion.RESUME, (7, 9, 1)),
    (DrainCompletion.EXIT, (8, 9, 12)),
    (DrainCompletion.RESTART, (8, 9, 12)),
    (DrainCompletion.RECONFIG, (9, 12, 0)),
)
# For a version the console cannot read: every startd the console can reach
# with an IDTOKEN is 8.9.2 or later, so resume is safe and exit/restart/
# reconfig may not be.
_OLDEST_COMPLETIONS = (DrainCompletion.NOTHING, DrainCompletion.RESUME)
_VERSION_RE = re.compile(r"\$CondorVersion:\s*(\d{1,4})\.(\d{1,4})\.(\d{1,4})\b")


def drain_completions(version: str) -> tuple[DrainCompletion, ...]:
    """The completions a startd of this ``$CondorVersion: 23.9.6 ... $`` string supports, in menu order."""
    found = _VERSION_RE.match(version) if isinstance(version, str) else None
    if not found:
        return _OLDEST_COMPLETIONS
    release = tuple(int(part) for part in found.groups())
    return tuple(choice for choice, since in _COMPLETION_SINCE if release >= since)


@dataclass(frozen=True)
class DrainRequest:
    """One drain as ``condor_drain`` would send it; validated when built, so a bad one never reaches a worker.

    ``check`` must be true on every slot ad or the startd refuses the drain;
    ``start`` replaces START while a graceful drain runs (HTCondor uses it
    for graceful drains only). Both are ClassAd expressions, parsed in the
    worker before anything is sent.
    """

    speed: DrainSpeed
    reason: str
    on_completion: DrainCompletion = DrainCompletion.NOTHING
    check: str = ""
    start: str = ""

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "speed", DrainSpeed(self.speed))
        except ValueError:
            raise InvalidInput(f"{str(self.speed)[:40]!r} is not a drain speed (graceful, quick or fast).") from None
        try:
            object.__setattr__(self, "on_completion", DrainCompletion(self.on_completion))
        except ValueError:
            raise InvalidInput(
                f"{str(self.on_completion)[:40]!r} is not something a drain can do on completion."
            ) from None
        object.__setattr__(self, "reason", validate_drain_reason(self.reason))
        for name in ("check", "start"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise InvalidInput(f"The {name} expression must be text.")
            if value.strip():
                object.__setattr__(self, name, validate_constraint(value, what=f"{name} expression"))
            else:
                object.__setattr__(self, name, "")


# What SlotInfo reads from a slot ad: the collector sends only these (a full
# slot ad is about 200 attributes and 8 KiB; see client.slots).
SLOT_FIELDS = (
    "Name",
    "Machine",
    "MyAddress",
    "SlotType",
    "PartitionableSlot",
    "DynamicSlot",
    "ParentSlotId",
    "State",
    "Activity",
    "EnteredCurrentState",
    "EnteredCurrentActivity",
    "Cpus",
    "Memory",
    "Disk",
    "GPUs",
    "TotalSlotCpus",
    "TotalSlotMemory",
    "TotalSlotDisk",
    "TotalSlotGPUs",
    "GlobalJobId",
    "JobId",
    "RemoteUser",
    "RemoteOwner",
    "Draining",
    "DrainingRequestId",
    "DrainReason",
    "LastDrainStartTime",
)
# Shown as text where a slot ad has them (SlotInfo.attributes). While a
# graceful drain with a start expression runs, Start is that expression.
# Requirements (False while a drain without one runs) is left out: the
# collector sends WithinResourceLimits with it, which made a query of 10,000
# slots 0.37 s slower here.
SLOT_ATTRIBUTES = (
    "Start",
    "AcceptedWhileDraining",
    "DrainingDeadline",
    "LastDrainStopTime",
    "ExpectedMachineGracefulDrainingCompletion",
    "ExpectedMachineQuickDrainingCompletion",
    "ExpectedMachineGracefulDrainingBadput",
    "ExpectedMachineQuickDrainingBadput",
    "TotalMachineDrainingBadput",
    "TotalMachineDrainingUnclaimedTime",
    "MaxJobRetirementTime",
    "MachineMaxVacateTime",
    "RetirementTimeRemaining",
    "NumDynamicSlots",
)


@dataclass(frozen=True)
class SlotInfo:
    """One slot ad from the collector, read defensively: a daemon's ad is untrusted input."""

    name: str  # "slot1@host", "slot1_1@exec01@host"
    startd: str  # the Name of the startd advertising it: the slot name after its first "@"
    machine: str
    slot_type: str  # "Partitionable", "Dynamic" or "Static"
    parent: str  # a dynamic slot's partitionable slot, else ""
    state: str
    activity: str
    entered_state: datetime | None
    entered_activity: datetime | None
    # What the slot holds; for a partitionable slot, what is left unclaimed.
    cpus: int
    memory_mb: int
    disk_kb: int
    gpus: int
    # The partitionable slot's totals (TotalSlot*), else the same as above.
    total_cpus: int
    total_memory_mb: int
    total_disk_kb: int
    total_gpus: int
    job: str  # GlobalJobId, else JobId, of a claimed slot's job
    user: str  # RemoteUser, else RemoteOwner
    draining: bool
    drain_request_id: str
    drain_reason: str
    drain_started: datetime | None  # LastDrainStartTime while draining
    attributes: dict[str, str] = field(default_factory=dict)
    address: str = ""  # MyAddress: the startd's, shared by all its slots (a drain's Target)
