"""Slots at scale: a pool of 10,000 slots (400 startds of 25) against the same pages with 100 slots.

The machine board's figures are on the pool's page and its machines page;
both are measured through Django's test client, logged in as a viewer, as
``bench/inventory.py`` measures the daemon pages. A refresh rewrites every
slot of the pool, so its database side is measured too (the collector's
answer simulated: ``condor.client.slots`` on the dev pool is in the drain rows).
"""

from __future__ import annotations

from bench import Row, percentile
from bench.context import BenchContext
from bench.inventory import collector_answer, page_rows, repeat, viewer_client

BIG = 10_000
SMALL = 100
SLOTS_PER_STARTD = 25
BOARDS = ("claimed", "claimed", "unclaimed", "claimed", "draining")


def run(context: BenchContext) -> list[Row]:
    from django.utils import timezone

    from daemons.inventory import services
    from daemons.models import Pool
    from tests.helpers import add_daemons

    client = viewer_client()

    pools = {}
    for size in (SMALL, BIG):
        pool = services.pool_save(name=f"bench-slots-{size}", collector="127.0.0.1:9")
        add_daemons(pool, size // SLOTS_PER_STARTD, machines=size // SLOTS_PER_STARTD, prefix="exec")
        _add_slots(pool)
        pools[size] = pool
    Pool.objects.update(last_refreshed_at=timezone.now())

    big, small = pools[BIG], pools[SMALL]
    rows: list[Row] = []
    pages = (
        ("pool page with its machine board", ""),
        ("machines page", "machines/"),
        ("machines page, claimed only", "machines/?board=claimed"),
    )
    for what, path in pages:
        rows += page_rows(
            client, what, f"/pool/{big.pk}/{path}", f"/pool/{small.pk}/{path}", big=BIG, small=SMALL, noun="slots"
        )
    rows += _refresh_rows(big)
    return rows


def _add_slots(pool: object) -> None:
    from daemons.models import Slot

    Slot.objects.bulk_create(
        (
            Slot(
                pool=pool,
                startd=startd,
                name=f"slot1_{n}@{startd.name}",
                machine=startd.machine,
                slot_type="Dynamic",
                parent=f"slot1@{startd.name}",
                state="Claimed",
                activity="Busy",
                board=BOARDS[n % len(BOARDS)],
                cpus=1,
                memory_mb=2048,
            )
            for startd in pool.daemons.all()  # type: ignore[attr-defined]
            for n in range(SLOTS_PER_STARTD)
        ),
        batch_size=2000,
    )


def _refresh_rows(pool: object) -> list[Row]:
    """A refresh's database side: a minute later most slots are as they were; after a wave of new jobs, none."""

    import condor.client
    from daemons.inventory import services
    from daemons.models import Slot
    from tests.helpers import slot_info

    daemons = collector_answer(pool)
    stored = list(Slot.objects.filter(pool=pool).select_related("startd"))

    def answer(job: str) -> list[object]:
        return [
            slot_info(
                s.name,
                startd=s.startd.name,
                state="Claimed",
                activity="Busy",
                slot_type="Dynamic",
                parent=s.parent,
                job=job,
            )
            for s in stored
        ]

    first, second = answer("1.0"), answer("2.0")
    real_discover, real_slots = condor.client.discover, condor.client.slots
    condor.client.discover = lambda collector, credentials: daemons
    try:
        condor.client.slots = lambda collector, credentials: first
        services.pool_refresh(pool=pool)
        same_ms = repeat(lambda: services.pool_refresh(pool=pool), 3)
        answers = iter([second, first, second])
        condor.client.slots = lambda collector, credentials: next(answers)
        changed_ms = repeat(lambda: services.pool_refresh(pool=pool), 3)
    finally:
        condor.client.discover, condor.client.slots = real_discover, real_slots
    note = "collector answer simulated; a worker's job, never a request"
    return [
        Row(
            f"refresh write of {BIG:,} slots on {len(daemons)} startds, none changed, p50",
            percentile(same_ms, 50),
            "ms",
            "-",
            None,
            "every slot changed",
            percentile(changed_ms, 50),
            note=note,
        ),
    ]
