"""Reads for the daemons app."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from condor.commands import Command, commands_for_kind
from condor.types import DAEMON_KINDS
from daemons.models import CommandRecord, Daemon, DaemonStateChange, Pool
from daemons.permissions import may_send

# Seconds a bulk command's sends may wait for a background thread before its pending rows count as stalled.
STALLED_MARGIN = 120
# Cells in a pool's status grid; a larger pool shows its problems first and says how many more there are.
GRID_LIMIT = 120
PROBLEM_STATES = (Daemon.State.DOWN, Daemon.State.MISSING)
# Columns the inventory tables show; the ad's attributes and children stay in the database.
_LISTED_FIELDS = ("id", "pool_id", "kind", "name", "machine", "address", "version", "state", "start_time", "last_seen_at")


def pools_for_user(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Pool]:
    if not user.has_perm("daemons.view_pool"):
        return Pool.objects.none()
    return Pool.objects.all()


def pools_with_health(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Pool]:
    """Every pool the user may see, each with its daemons counted by state in the same query."""
    return pools_for_user(user).annotate(
        n_up=Count("daemons", filter=Q(daemons__state=Daemon.State.UP)),
        n_down=Count("daemons", filter=Q(daemons__state=Daemon.State.DOWN)),
        n_missing=Count("daemons", filter=Q(daemons__state=Daemon.State.MISSING)),
    )


@dataclass(frozen=True)
class DaemonFilter:
    kind: str = ""
    state: str = ""
    machine: str = ""
    q: str = ""


def pool_daemons(pool: Pool, filters: DaemonFilter = DaemonFilter()) -> QuerySet[Daemon]:
    """The pool's daemons matching ``filters``, machine by machine."""
    daemons = Daemon.objects.filter(pool=pool).only(*_LISTED_FIELDS)
    if filters.kind:
        daemons = daemons.filter(kind=filters.kind)
    if filters.state:
        daemons = daemons.filter(state=filters.state)
    if filters.machine:
        daemons = daemons.filter(machine=filters.machine)
    if filters.q:
        daemons = daemons.filter(
            Q(name__icontains=filters.q) | Q(machine__icontains=filters.q) | Q(address__icontains=filters.q)
        )
    return daemons.order_by("machine", "kind", "name")


@dataclass(frozen=True)
class PoolOverview:
    counts: dict[str, int]
    page: Page
    # Problems first, at most GRID_LIMIT cells.
    grid: list[Daemon]
    grid_hidden: int


def pool_overview(pool: Pool, filters: DaemonFilter, *, page: str | int | None, per_page: int) -> PoolOverview:
    """What a pool's page shows, in a number of queries that does not grow with the pool."""
    counts = {state: 0 for state in Daemon.State.values}
    for row in Daemon.objects.filter(pool=pool).values("state").annotate(n=Count("id")).order_by():
        counts[row["state"]] = row["n"]
    counts["total"] = sum(counts.values())
    daemons = pool_daemons(pool, filters)
    current = Paginator(daemons, per_page).get_page(page)
    # Two bounded queries, each able to use an index, rather than sorting every row by severity.
    grid = list(daemons.filter(state__in=PROBLEM_STATES)[:GRID_LIMIT])
    if len(grid) < GRID_LIMIT:
        grid += daemons.filter(state=Daemon.State.UP)[: GRID_LIMIT - len(grid)]
    return PoolOverview(counts=counts, page=current, grid=grid, grid_hidden=current.paginator.count - len(grid))


@dataclass(frozen=True)
class Child:
    """A daemon a master runs, as the master reports it, with its own inventory row if it has one."""

    subsystem: str
    state: str
    daemon: Daemon | None


@dataclass(frozen=True)
class Neighbours:
    master: Daemon | None
    children: list[Child]
    # Daemons on the same machine other than the master.
    others: list[Daemon]


def daemon_neighbours(daemon: Daemon) -> Neighbours:
    """The other daemons on the same machine: its master, and for a master the children it reports."""
    same_machine = list(
        Daemon.objects.filter(pool_id=daemon.pool_id, machine=daemon.machine)
        .exclude(pk=daemon.pk)
        .only(*_LISTED_FIELDS, "subsystem")
    )
    master = next((d for d in same_machine if d.kind == "master"), None)
    children: list[Child] = []
    if daemon.kind == "master":
        by_subsystem = {d.subsystem: d for d in same_machine}
        children = [
            Child(subsystem=sub, state=state, daemon=by_subsystem.get(sub))
            for sub, state in sorted(daemon.children.items())
        ]
    return Neighbours(master=master, children=children, others=[d for d in same_machine if d is not master])


def pool_token_warnings(pool: Pool) -> list[str]:
    """What is wrong with the pool's token file as the console finds it now (too open, gone)."""
    return pool.credentials.check()


# --------------------------------------------------------------------------
# Commands and their audit trail.
# --------------------------------------------------------------------------

# What a command means beyond its own description, where the daemon's kind matters.
_MASTER_OFF = (
    " On a master this stops the master itself and every daemon it runs: condorweb cannot start it again "
    "remotely; someone has to start condor_master on the host."
)
_CHILD_OFF = " To bring it back, send DaemonOn for its subsystem from its master's page."
_STOPS_ITSELF = frozenset({Command.OffGraceful, Command.OffPeaceful, Command.OffFast, Command.OffForce})
HISTORY_LENGTH = 10
# Rows one bulk command writes at most; it also bounds how long its sends hold a background thread.
BULK_LIMIT = 200


@dataclass(frozen=True)
class CommandOption:
    """One command form on a daemon's page."""

    command: Command
    explanation: str
    # For commands that name a subsystem: the ones this master runs, each with the state it reports.
    subsystems: tuple[tuple[str, str], ...] = ()

    @property
    def name(self) -> str:
        return self.command.name


@dataclass(frozen=True)
class CommandPanel:
    daemon: Daemon
    options: list[CommandOption]
    history: list[CommandRecord]


def command_explanation(command: Command, kind: str) -> str:
    if command in _STOPS_ITSELF:
        return command.description + (_MASTER_OFF if kind == "master" else _CHILD_OFF)
    return command.description


def command_options(user: AbstractBaseUser | AnonymousUser, daemon: Daemon) -> list[CommandOption]:
    """The commands ``daemon`` accepts that ``user`` may send, in HTCondor's order."""
    subsystems = tuple(sorted(daemon.children.items())) if daemon.kind == "master" else ()
    return [
        CommandOption(
            command=command,
            explanation=command_explanation(command, daemon.kind),
            subsystems=subsystems if command.needs_target else (),
        )
        for command in commands_for_kind(daemon.kind)
        if may_send(user, command) and (subsystems or not command.needs_target)
    ]


def command_history(daemon: Daemon, *, limit: int = HISTORY_LENGTH) -> list[CommandRecord]:
    return list(CommandRecord.objects.filter(daemon=daemon).order_by("-created_at", "-id")[:limit])


def command_panel(user: AbstractBaseUser | AnonymousUser, daemon: Daemon) -> CommandPanel:
    """What a daemon's command panel shows: the forms ``user`` may use and the daemon's recent commands."""
    return CommandPanel(daemon=daemon, options=command_options(user, daemon), history=command_history(daemon))


def sendable_commands(user: AbstractBaseUser | AnonymousUser) -> list[Command]:
    return [command for command in Command if may_send(user, command)]


@dataclass(frozen=True)
class TargetFilter:
    kind: str = ""
    machine: str = ""
    q: str = ""


def bulk_targets(pool: Pool, command: Command, filters: TargetFilter) -> list[Daemon]:
    """The daemons of ``pool`` that match ``filters`` and accept ``command``, at most BULK_LIMIT + 1."""
    kinds = [kind for kind in DAEMON_KINDS if command in commands_for_kind(kind)]
    daemons = Daemon.objects.filter(pool=pool, kind__in=kinds).select_related("pool")
    if filters.kind:
        daemons = daemons.filter(kind=filters.kind)
    if filters.machine:
        daemons = daemons.filter(machine__icontains=filters.machine)
    if filters.q:
        daemons = daemons.filter(name__icontains=filters.q)
    return list(daemons.order_by("machine", "kind", "name")[: BULK_LIMIT + 1])


@dataclass(frozen=True)
class AuditFilter:
    pool: Pool | None = None
    command: str = ""
    outcome: str = ""
    username: str = ""
    q: str = ""
    since: date | None = None
    until: date | None = None


def command_records(user: AbstractBaseUser | AnonymousUser, filters: AuditFilter = AuditFilter()) -> QuerySet[CommandRecord]:
    """Recorded commands ``user`` may see, newest first; those of deleted pools stay visible to auditors."""
    if not user.has_perm("daemons.view_commandrecord"):
        return CommandRecord.objects.none()
    records = CommandRecord.objects.filter(Q(pool__in=pools_for_user(user)) | Q(pool__isnull=True))
    if filters.pool is not None:
        records = records.filter(pool=filters.pool)
    if filters.command:
        records = records.filter(command=filters.command)
    if filters.outcome:
        records = records.filter(outcome=filters.outcome)
    if filters.username:
        records = records.filter(username=filters.username)
    if filters.q:
        records = records.filter(
            Q(daemon_name__icontains=filters.q) | Q(daemon_address__icontains=filters.q)
            | Q(target__icontains=filters.q) | Q(error__icontains=filters.q) | Q(knob__icontains=filters.q)
        )
    if filters.since:
        records = records.filter(created_at__date__gte=filters.since)
    if filters.until:
        records = records.filter(created_at__date__lte=filters.until)
    return records.order_by("-created_at", "-id")


# Entries in a pool's timeline: enough for an incident's last hour, few enough to read at a glance.
TIMELINE_LIMIT = 15


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a pool's timeline: a command sent to one of its daemons, or a daemon's state change."""

    at: datetime
    daemon_id: int | None
    daemon: str
    # For a command: the command (and its target subsystem), who sent it, its outcome.
    command: str = ""
    username: str = ""
    outcome: str = ""
    outcome_label: str = ""
    error: str = ""
    # For a state change.
    old_state: str = ""
    new_state: str = ""

    @property
    def is_command(self) -> bool:
        return bool(self.command)


def pool_timeline(pool: Pool, *, limit: int = TIMELINE_LIMIT) -> list[TimelineEntry]:
    """The pool's latest commands and state changes, newest first: two bounded queries, merged."""
    outcomes = dict(CommandRecord.Outcome.choices)
    commands = [
        TimelineEntry(
            at=record.created_at,
            daemon_id=record.daemon_id,
            daemon=f"{record.daemon_kind} {record.daemon_name}",
            command=f"{record.command} {record.target}".strip(),
            username=record.username,
            outcome=record.outcome,
            outcome_label=outcomes.get(record.outcome, record.outcome),
            error=record.error,
        )
        for record in CommandRecord.objects.filter(pool=pool).only(
            "created_at", "daemon_id", "daemon_kind", "daemon_name", "command", "target", "username", "outcome", "error"
        )[:limit]
    ]
    changes = [
        TimelineEntry(
            at=change.at,
            daemon_id=change.daemon_id,
            daemon=f"{change.daemon.kind} {change.daemon.name}",
            old_state=change.old_state,
            new_state=change.new_state,
        )
        for change in DaemonStateChange.objects.filter(pool=pool)
        .select_related("daemon")
        .only("at", "daemon_id", "old_state", "new_state", "daemon__kind", "daemon__name")[:limit]
    ]
    return sorted(commands + changes, key=lambda entry: entry.at, reverse=True)[:limit]


@dataclass(frozen=True)
class CommandBatch:
    id: uuid.UUID
    records: list[CommandRecord]
    sent: int
    pending: int
    # Rows still pending past every bound on their sends: the process sending them stopped.
    stalled: bool


def command_batch(pool: Pool, batch: uuid.UUID) -> CommandBatch | None:
    """One command sent to several of ``pool``'s daemons: its rows in the order they were chosen, or None."""
    records = list(CommandRecord.objects.filter(pool=pool, batch=batch).select_related("daemon").order_by("id"))
    if not records:
        return None
    pending = [r for r in records if r.outcome == CommandRecord.Outcome.PENDING]
    # Each round of sends ends within the HTCondor timeout; the margin covers a job queued behind others.
    rounds = math.ceil(len(records) / settings.CONDORWEB_WORKERS_PER_POOL)
    bound = timedelta(seconds=(rounds + 1) * settings.CONDORWEB_HTCONDOR_TIMEOUT + STALLED_MARGIN)
    return CommandBatch(
        id=batch,
        records=records,
        sent=sum(1 for r in records if r.outcome == CommandRecord.Outcome.SENT),
        pending=len(pending),
        stalled=bool(pending) and timezone.now() - min(r.created_at for r in pending) > bound,
    )


def daemon_health(daemon_id: int) -> tuple[str, str] | None:
    """The daemon's state as the inventory last saw it, and why its pool cannot be read now ("" if it can)."""
    return Daemon.objects.filter(pk=daemon_id).values_list("state", "pool__last_refresh_error").first()
