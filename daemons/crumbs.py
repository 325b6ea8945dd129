"""Breadcrumbs to the inventory's pages, for every app whose pages hang below a pool or a daemon."""

from __future__ import annotations

from django.urls import reverse

from daemons.models import Daemon, Pool

Crumb = dict[str, str]


def pools_crumb() -> Crumb:
    return {"label": "Pools", "url": reverse("daemons:pool_list")}


def pool_crumb(pool: Pool) -> Crumb:
    return {"label": pool.name, "url": reverse("daemons:pool_detail", args=[pool.pk])}


def daemon_crumb(daemon: Daemon) -> Crumb:
    return {"label": f"{daemon.kind} {daemon.name}", "url": reverse("daemons:daemon_detail", args=[daemon.pk])}


def daemon_trail(daemon: Daemon) -> list[Crumb]:
    """Pools › the daemon's pool › the daemon."""
    return [pools_crumb(), pool_crumb(daemon.pool), daemon_crumb(daemon)]
