"""What the task queue's workers say of themselves: who is alive, and which jobs failed."""

from __future__ import annotations

from django.db import models


class Worker(models.Model):
    """One `manage.py worker` process, from its start to its stop (or its last heartbeat)."""

    name = models.CharField(max_length=200, unique=True, help_text="host:pid:start, as rows it claims name it.")
    host = models.CharField(max_length=200)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField(auto_now_add=True)
    beat_at = models.DateTimeField(db_index=True)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return self.name


class JobFailure(models.Model):
    """A job that raised: kept for the diagnostics page (the last hour) and the admin."""

    task = models.CharField(max_length=100)
    arguments = models.CharField(max_length=500, blank=True)
    error = models.TextField()
    worker = models.CharField(max_length=200)
    failed_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-failed_at"]

    def __str__(self) -> str:
        return f"{self.task} at {self.failed_at:%Y-%m-%d %H:%M:%S}"
