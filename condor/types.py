"""Plain values the condor package takes and hands back: no binding object leaves a worker process.

Callers build a ``Target`` and ``Credentials`` (``Daemon.target`` and
``Pool.credentials`` on the models do it from the inventory) and get
``DaemonInfo``, ``AuthorizationCheck`` and ``LocalKnob`` back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from condor.errors import InvalidInput
from condor.validation import validate_address, validate_token_file

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


NOT_DEFINED = "Not defined"
