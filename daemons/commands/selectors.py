"""Reads of commands: what a user may send, to which daemons, and the audit trail."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet

from condor.commands import Command, commands_for_kind
from condor.types import DAEMON_KINDS
from daemons.access import allows, may_send
from daemons.inventory.selectors import pools_for_user
from daemons.models import CommandRecord, Daemon, Pool

# What a command means beyond its own description, where the daemon's kind matters.
_MASTER_OFF = (
    " On a master this stops the master itself and every daemon it runs: condorweb cannot start it again "
    "remotely; someone has to start condor_master on the host."
)
_CHILD_OFF = " To bring it back, send DaemonOn for its subsystem from its master's page."
_STOPS_ITSELF = frozenset({Command.OffGraceful, Command.OffPeaceful, Command.OffFast, Command.OffForce})
HISTORY_LENGTH = 10
# Rows one bulk command writes at most; it also bounds how long its sends hold a worker thread.
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


def command_records(
    user: AbstractBaseUser | AnonymousUser, filters: AuditFilter = AuditFilter()
) -> QuerySet[CommandRecord]:
    """Recorded commands ``user`` may see, newest first; those of deleted pools stay visible to auditors."""
    if not allows(user, "daemons.view_commandrecord"):
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
            Q(daemon_name__icontains=filters.q)
            | Q(daemon_address__icontains=filters.q)
            | Q(target__icontains=filters.q)
            | Q(error__icontains=filters.q)
            | Q(knob__icontains=filters.q)
        )
    if filters.since:
        records = records.filter(created_at__date__gte=filters.since)
    if filters.until:
        records = records.filter(created_at__date__lte=filters.until)
    return records.order_by("-created_at", "-id")


@dataclass(frozen=True)
class CommandBatch:
    id: uuid.UUID
    records: list[CommandRecord]
    sent: int
    # Waiting for a worker, or being sent now.
    pending: int
    # Claimed by a worker that stopped before it wrote the outcome.
    unknown: int


def command_batch(pool: Pool, batch: uuid.UUID) -> CommandBatch | None:
    """One command sent to several of ``pool``'s daemons: its rows in the order they were chosen, or None."""
    records = list(CommandRecord.objects.filter(pool=pool, batch=batch).select_related("daemon").order_by("id"))
    if not records:
        return None
    outcomes = [r.outcome for r in records]
    return CommandBatch(
        id=batch,
        records=records,
        sent=outcomes.count(CommandRecord.Outcome.SENT),
        pending=outcomes.count(CommandRecord.Outcome.PENDING) + outcomes.count(CommandRecord.Outcome.SENDING),
        unknown=outcomes.count(CommandRecord.Outcome.UNKNOWN),
    )


def batches_unfinished(pool_id: int) -> int:
    """Bulk commands to ``pool_id`` with rows not sent yet: the pool's share of the queue's bulk work."""
    return (
        CommandRecord.objects.filter(
            pool_id=pool_id,
            batch__isnull=False,
            outcome__in=[CommandRecord.Outcome.PENDING, CommandRecord.Outcome.SENDING],
        )
        .values("batch")
        .distinct()
        .count()
    )
