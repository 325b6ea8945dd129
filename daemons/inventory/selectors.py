"""Reads of the inventory: pools, their daemons, a pool's timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet

from daemons.access import VIEW_POOL, allows
from daemons.models import DRAIN, CommandRecord, Daemon, DaemonStateChange, DrainState, Pool, Slot
from engine import queue

# Cells in a pool's status grid; a larger pool shows its problems first and says how many more there are.
GRID_LIMIT = 120
PROBLEM_STATES = (Daemon.State.DOWN, Daemon.State.MISSING)
# Columns the inventory tables show; the ad's attributes and children stay in the database.
_LISTED_FIELDS = (
    "id",
    "pool_id",
    "kind",
    "name",
    "machine",
    "address",
    "version",
    "state",
    "start_time",
    "last_seen_at",
)


def pools_for_user(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Pool]:
    if not allows(user, VIEW_POOL):
        return Pool.objects.none()
    return Pool.objects.all()


def with_health(pools: QuerySet[Pool]) -> QuerySet[Pool]:
    """``pools``, each with its daemons counted by state (``n_up``, ``n_down``, ``n_missing``) in the same query."""
    return pools.annotate(
        n_up=Count("daemons", filter=Q(daemons__state=Daemon.State.UP)),
        n_down=Count("daemons", filter=Q(daemons__state=Daemon.State.DOWN)),
        n_missing=Count("daemons", filter=Q(daemons__state=Daemon.State.MISSING)),
    )


def pools_with_health(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Pool]:
    """Every pool the user may see, with its health (``with_health``)."""
    return with_health(pools_for_user(user))


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
    # For a state change: Daemon.State values, or for a drain DrainState values ("not-draining" and "resumed"
    # where the startd does not drain).
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
            command=record.what,
            username=record.username,
            outcome=record.outcome,
            outcome_label=outcomes.get(record.outcome, record.outcome),
            error=record.error,
        )
        for record in CommandRecord.objects.filter(pool=pool).only(
            "created_at",
            "daemon_id",
            "daemon_kind",
            "daemon_name",
            "command",
            "target",
            "knob",
            "username",
            "outcome",
            "error",
        )[:limit]
    ]
    changes = [
        TimelineEntry(
            at=change.at,
            daemon_id=change.daemon_id,
            daemon=f"{change.daemon.kind} {change.daemon.name}",
            old_state=change.old_state or "not-draining",
            new_state=change.new_state or "resumed",
        )
        for change in DaemonStateChange.objects.filter(pool=pool)
        .select_related("daemon")
        .only("at", "daemon_id", "aspect", "old_state", "new_state", "daemon__kind", "daemon__name")[:limit]
    ]
    return sorted(commands + changes, key=lambda entry: entry.at, reverse=True)[:limit]


def daemon_health(daemon_id: int) -> tuple[str, str] | None:
    """The daemon's state as the inventory last saw it, and why its pool cannot be read now ("" if it can)."""
    return Daemon.objects.filter(pk=daemon_id).values_list("state", "pool__last_refresh_error").first()


def refresh_key(pool_id: int) -> str:
    """The queue's key of a pool's refresh asked for (Refresh, a saved pool), while it waits to start."""
    return f"pool-{int(pool_id)}-refresh"


def pools_refreshing(pool_ids: list[int]) -> set[int]:
    """Those of ``pool_ids`` with a refresh waiting in the queue or running now."""
    return {
        pool_id
        for pool_id in pool_ids
        if queue.is_queued(refresh_key(pool_id)) or queue.is_locked(pool_id=pool_id, lock="refresh")
    }


@dataclass(frozen=True)
class PoolWatch:
    """A pool as the diagnostics page shows the watch: its last reading, and its work in the queue."""

    pool: Pool
    refreshing: bool
    batches_waiting: int


def pools_watched() -> list[PoolWatch]:
    pools = list(Pool.objects.order_by("name"))
    waiting = dict(
        CommandRecord.objects.filter(
            batch__isnull=False, outcome__in=[CommandRecord.Outcome.PENDING, CommandRecord.Outcome.SENDING]
        )
        .values("pool_id")
        .annotate(batches=Count("batch", distinct=True))
        .values_list("pool_id", "batches")
    )
    refreshing = pools_refreshing([pool.pk for pool in pools])
    return [PoolWatch(pool, pool.pk in refreshing, waiting.get(pool.pk, 0)) for pool in pools]


# Slots a startd's page lists at most: a big execute node has a few hundred.
SLOT_LIMIT = 500


@dataclass(frozen=True)
class SlotGroup:
    """A slot as a startd's page lists it: a partitionable slot with its dynamic slots under it."""

    slot: Slot
    children: list[Slot]


@dataclass(frozen=True)
class DrainInfo:
    """A startd's drain as its slot ads say, with the console's own request where it made it."""

    state: str
    request_id: str
    reason: str
    started: datetime | None
    # The console's Drain row with this request id: who asked, how fast, the expressions.
    asked: CommandRecord | None


@dataclass(frozen=True)
class StartdSlots:
    groups: list[SlotGroup]
    counts: dict[str, int]
    hidden: int
    drain: DrainInfo | None


def startd_slots(daemon: Daemon) -> StartdSlots:
    """A startd's slots (partitionable ones with their dynamic slots), counted by board column, and its drain."""
    slots = list(Slot.objects.filter(startd=daemon).order_by("name")[: SLOT_LIMIT + 1])
    hidden = max(0, len(slots) - SLOT_LIMIT)
    slots = slots[:SLOT_LIMIT]
    counts = {column: 0 for column in Slot.Board.values}
    for slot in slots:
        counts[slot.board] += 1
    children: dict[str, list[Slot]] = {}
    for slot in slots:
        if slot.parent:
            children.setdefault(slot.parent, []).append(slot)
    listed = {slot.name for slot in slots}
    # A dynamic slot whose partitionable slot is not listed (past SLOT_LIMIT, or an odd ad) stands alone.
    groups = [
        SlotGroup(slot=slot, children=children.get(slot.name, []))
        for slot in slots
        if not slot.parent or slot.parent not in listed
    ]
    return StartdSlots(groups=groups, counts=counts, hidden=hidden, drain=_drain_info(daemon, slots))


def _drain_info(daemon: Daemon, slots: list[Slot]) -> DrainInfo | None:
    draining = next((slot for slot in slots if slot.draining), None)
    if draining is None and not daemon.drain_state:
        return None
    request_id = draining.drain_request_id if draining else ""
    asked = None
    if request_id:
        asked = (
            CommandRecord.objects.filter(daemon=daemon, command=DRAIN, request_id=request_id)
            .order_by("-created_at")
            .first()
        )
    return DrainInfo(
        state=daemon.drain_state or DrainState.DRAINING,
        request_id=request_id,
        reason=draining.drain_reason if draining else "",
        started=draining.drain_started if draining else None,
        asked=asked,
    )


@dataclass(frozen=True)
class MachineFilter:
    board: str = ""
    q: str = ""


@dataclass(frozen=True)
class MachineRow:
    """One execute node on the machine board: its startd and its slots counted by column."""

    startd: Daemon
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class MachineBoard:
    counts: SlotCounts
    page: Page


@dataclass(frozen=True)
class SlotCounts:
    """The pool's slots by machine board column (and "total"), and its startds, all and draining."""

    slots: dict[str, int]
    machines: int
    machines_draining: int

    @property
    def columns(self) -> list[tuple[str, int]]:
        """The board's columns in order, with their counts; "other" (Matched, Preempting...) only when there are."""
        return [(c, self.slots[c]) for c in Slot.Board.values if c != Slot.Board.OTHER or self.slots[c]]


def slot_counts(pool: Pool) -> SlotCounts:
    """The machine board's figures: two queries, however many slots (``make bench`` measures 10,000)."""
    counts = {column: 0 for column in Slot.Board.values}
    for row in Slot.objects.filter(pool=pool).values("board").annotate(n=Count("id")).order_by():
        counts[row["board"]] = row["n"]
    counts["total"] = sum(counts.values())
    machines = Daemon.objects.filter(pool=pool, kind="startd").aggregate(
        n=Count("id"), draining=Count("id", filter=~Q(drain_state=DrainState.NONE) & Q(state=Daemon.State.UP))
    )
    return SlotCounts(slots=counts, machines=machines["n"], machines_draining=machines["draining"])


def machine_board(pool: Pool, filters: MachineFilter, *, page: str | int | None, per_page: int) -> MachineBoard:
    """The pool's slot counts, and its execute nodes a page at a time with their slots counted by column: five
    queries however many slots."""
    startds = Daemon.objects.filter(pool=pool, kind="startd").only(*_LISTED_FIELDS, "drain_state")
    if filters.board:
        startds = startds.filter(pk__in=Slot.objects.filter(pool=pool, board=filters.board).values("startd_id"))
    if filters.q:
        startds = startds.filter(Q(name__icontains=filters.q) | Q(machine__icontains=filters.q))
    current = Paginator(startds.order_by("machine", "name"), per_page).get_page(page)
    listed = list(current.object_list)
    per_startd: dict[int, dict[str, int]] = {d.pk: {column: 0 for column in Slot.Board.values} for d in listed}
    for row in Slot.objects.filter(startd__in=listed).values("startd_id", "board").annotate(n=Count("id")).order_by():
        per_startd[row["startd_id"]][row["board"]] = row["n"]
    current.object_list = [MachineRow(startd=d, counts=per_startd[d.pk]) for d in listed]
    return MachineBoard(counts=slot_counts(pool), page=current)
