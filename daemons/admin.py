"""Pools, daemons and the audit trail in the Django admin."""

from __future__ import annotations

import csv

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from condorweb.admin import ReadOnlyAdmin
from daemons.inventory.forms import PoolForm
from daemons.inventory.selectors import with_health
from daemons.models import CommandRecord, Daemon, DaemonStateChange, Pool


@admin.register(Pool)
class PoolAdmin(admin.ModelAdmin):
    # The same validation as the console's pool form; the token file is a path, its contents never shown.
    form = PoolForm
    list_display = (
        "name",
        "collector",
        "daemons_up",
        "daemons_down",
        "daemons_missing",
        "last_refreshed_at",
        "refresh_error",
    )
    list_filter = ("last_refreshed_at",)
    search_fields = ("name", "collector", "description")
    readonly_fields = ("last_refreshed_at", "last_refresh_error", "created_at", "updated_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Pool]:
        return with_health(super().get_queryset(request))

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
class DaemonAdmin(ReadOnlyAdmin):
    """Read-only: the inventory is written by refreshes alone (daemons.inventory.services.pool_refresh)."""

    list_display = ("name", "kind", "machine", "pool", "state", "version", "last_seen_at")
    list_filter = ("state", "kind", "pool")
    search_fields = ("name", "machine", "address", "version")
    list_select_related = ("pool",)
    ordering = ("pool__name", "machine", "kind", "name")
    show_full_result_count = False


# Columns of the CSV export, in the order an auditor reads them.
CSV_FIELDS = (
    "id",
    "created_at",
    "completed_at",
    "username",
    "pool_name",
    "daemon_kind",
    "daemon_name",
    "daemon_address",
    "command",
    "target",
    "knob",
    "old_value",
    "new_value",
    "outcome",
    "error",
    "duration_ms",
    "client_address",
    "user_agent",
    "batch",
)


@admin.register(CommandRecord)
class CommandRecordAdmin(ReadOnlyAdmin):
    """The audit trail: readable by whoever may view it, changed by nobody, superusers included."""

    list_display = (
        "created_at",
        "username",
        "pool_name",
        "daemon_kind",
        "daemon_name",
        "command",
        "target",
        "outcome",
        "duration_ms",
    )
    list_filter = ("outcome", "command", "pool", "user", "created_at")
    search_fields = (
        "username",
        "pool_name",
        "daemon_name",
        "daemon_address",
        "command",
        "target",
        "knob",
        "error",
        "client_address",
    )
    # Not editable, so shown only when named: it ties the rows of one bulk command together.
    readonly_fields = ("batch",)
    date_hierarchy = "created_at"
    actions = ["export_csv"]
    show_full_result_count = False

    @admin.action(description="Export the selected records as CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[CommandRecord]) -> HttpResponse:
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="condorweb-commands-{stamp}.csv"'
        writer = csv.writer(response)
        writer.writerow(CSV_FIELDS)
        for row in queryset.order_by("created_at", "id").values_list(*CSV_FIELDS):
            writer.writerow([_csv_safe(value) for value in row])
        return response


def _csv_safe(value: object) -> object:
    # A cell starting with = + - @ runs as a formula in spreadsheets; error texts and user agents come from outside.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@admin.register(DaemonStateChange)
class DaemonStateChangeAdmin(ReadOnlyAdmin):
    """Read-only: state changes are written by refreshes alone, as history."""

    list_display = ("at", "pool", "daemon", "old_state", "new_state")
    list_filter = ("new_state", "pool")
    search_fields = ("daemon__name", "daemon__machine")
    list_select_related = ("pool", "daemon")
    date_hierarchy = "at"
    show_full_result_count = False
