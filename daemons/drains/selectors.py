"""Reads for draining: what a startd's drain panel offers, and which startds a bulk drain would reach."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

import condor.client
from daemons.access import SEND_DRAIN, allows
from daemons.commands.selectors import BULK_LIMIT
from daemons.drains.forms import DrainSelectForm
from daemons.models import DRAIN_COMMANDS, CommandRecord, Daemon, Pool

# Drains and cancels a startd's panel lists.
HISTORY_LENGTH = 5


@dataclass(frozen=True)
class DrainPanel:
    """A startd's drain forms (for those who may drain) and its latest drains and cancels; its drain state is
    in the page's live part, with its slots."""

    may_drain: bool
    history: list[CommandRecord]


def drain_panel(user: AbstractBaseUser | AnonymousUser, daemon: Daemon) -> DrainPanel:
    return DrainPanel(
        may_drain=allows(user, SEND_DRAIN),
        history=list(
            CommandRecord.objects.filter(daemon=daemon, command__in=DRAIN_COMMANDS).order_by("-created_at", "-id")[
                :HISTORY_LENGTH
            ]
        ),
    )


@dataclass(frozen=True)
class DrainPreview:
    """The startds a bulk drain would reach, as listed before anything is sent."""

    startds: list[Daemon]
    # Startds the collector matched that the inventory does not know yet (a refresh adds them).
    unknown: list[str]

    @property
    def too_many(self) -> bool:
        return len(self.startds) > BULK_LIMIT


def drain_preview(pool: Pool, select: DrainSelectForm) -> DrainPreview:
    """The startds ``select`` chooses; a constraint is evaluated by the pool's collector (ProtocolError if it
    cannot), on the slot ads, as ``condor_drain -constraint`` does."""
    if select.cleaned_data["by"] != DrainSelectForm.BY_CONSTRAINT:
        return DrainPreview(startds=select.matching(), unknown=[])
    names = condor.client.startds_matching(pool.collector, select.cleaned_data["constraint"], pool.credentials)
    known = {d.name: d for d in Daemon.objects.filter(pool=pool, kind="startd", name__in=names).select_related("pool")}
    return DrainPreview(
        startds=[known[name] for name in names if name in known], unknown=[name for name in names if name not in known]
    )
