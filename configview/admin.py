"""Snapshots and shares in the Django admin: for reading only.

Snapshots are written by the console's services and never edited; a share's
link cannot be shown because only a hash of its secret is stored.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from condorweb.admin import ReadOnlyAdmin
from configview.models import ConfigSnapshot, Share


@admin.register(ConfigSnapshot)
class ConfigSnapshotAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "source",
        "pool_name",
        "daemon_name",
        "subsystem",
        "status",
        "knob_count",
        "requested_by_name",
        "created_at",
    )
    list_filter = ("status", "source", "pool_name")
    search_fields = ("daemon_name", "pool_name", "requested_by_name")
    date_hierarchy = "created_at"
    fields = (
        "source",
        "daemon",
        "pool_name",
        "daemon_name",
        "daemon_kind",
        "daemon_address",
        "subsystem",
        "status",
        "error",
        "progress_done",
        "progress_total",
        "knob_count",
        "requested_by_name",
        "created_at",
        "completed_at",
        "sources_note",
        "values",
        "types",
        "sources",
        "hashes",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[ConfigSnapshot]:
        # A page of the change list would otherwise load megabytes of knobs it never shows;
        # one snapshot's page loads them field by field.
        return super().get_queryset(request).defer(*ConfigSnapshot.PAYLOAD)


@admin.register(Share)
class ShareAdmin(ReadOnlyAdmin):
    list_display = ("id", "title", "created_by_name", "created_at", "expires_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("title", "created_by_name")
    fields = ("title", "left", "right", "created_by_name", "created_at", "expires_at", "revoked_at")
