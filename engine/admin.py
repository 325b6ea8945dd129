"""The engine in the Django admin: workers and failed jobs, for auditors; written by the workers only."""

from __future__ import annotations

from django.contrib import admin

from condorweb.admin import ReadOnlyAdmin
from engine.models import JobFailure, Worker


@admin.register(Worker)
class WorkerAdmin(ReadOnlyAdmin):
    list_display = ("name", "host", "pid", "started_at", "beat_at", "stopped_at")
    search_fields = ("name", "host")


@admin.register(JobFailure)
class JobFailureAdmin(ReadOnlyAdmin):
    list_display = ("failed_at", "task", "arguments", "error", "worker")
    list_filter = ("task",)
    search_fields = ("task", "error")
