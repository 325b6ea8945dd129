"""Pools and daemons in the Django admin. The audit trail's admin lives with the audit pages."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from daemons.forms import PoolForm
from daemons.models import Daemon, DaemonStateChange, Pool


@admin.register(Pool)
class PoolAdmin(admin.ModelAdmin):
    # The same validation as the console's pool form; the token file is a path, its contents never shown.
    form = PoolForm
    list_display = ("name", "collector", "daemons_up", "daemons_down", "daemons_missing", "last_refreshed_at", "refresh_error")
    list_filter = ("last_refreshed_at",)
    search_fields = ("name", "collector", "description")
    readonly_fields = ("last_refreshed_at", "last_refresh_error", "created_at", "updated_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Pool]:
        return super().get_queryset(request).annotate(
            n_up=Count("daemons", filter=Q(daemons__state=Daemon.State.UP)),
            n_down=Count("daemons", filter=Q(daemons__state=Daemon.State.DOWN)),
            n_missing=Count("daemons", filter=Q(daemons__state=Daemon.State.MISSING)),
        )

    @admin.display(description="up", ordering="n_up")
    def daemons_up(self, pool: Pool) -> int:
        return pool.n_up

    @admin.display(description="down", ordering="n_down")
    def daemons_down(self, pool: Pool) -> int:
        return pool.n_down

    @admin.display(description="missing", ordering="n_missing")
    def daemons_missing(self, pool: Pool) -> int:
        return pool.n_missing

    @admin.display(description="last refresh error")
    def refresh_error(self, pool: Pool) -> str:
        return pool.last_refresh_error[:120]


@admin.register(Daemon)
class DaemonAdmin(admin.ModelAdmin):
    """Read-only: the inventory is written by refreshes alone (services.pool_refresh)."""

    list_display = ("name", "kind", "machine", "pool", "state", "version", "last_seen_at")
    list_filter = ("state", "kind", "pool")
    search_fields = ("name", "machine", "address", "version")
    list_select_related = ("pool",)
    ordering = ("pool__name", "machine", "kind", "name")
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Daemon | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Daemon | None = None) -> bool:
        return False


@admin.register(DaemonStateChange)
class DaemonStateChangeAdmin(admin.ModelAdmin):
    """Read-only: state changes are written by refreshes alone, as history."""

    list_display = ("at", "pool", "daemon", "old_state", "new_state")
    list_filter = ("new_state", "pool")
    search_fields = ("daemon__name", "daemon__machine")
    list_select_related = ("pool", "daemon")
    date_hierarchy = "at"
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: DaemonStateChange | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: DaemonStateChange | None = None) -> bool:
        return False
