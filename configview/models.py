from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone

from daemons.models import Daemon


class ConfigSnapshot(models.Model):
    """Every knob of one configuration at one moment: a daemon's, or the console host's own.

    Written only by ``configview.services``: created pending, filled in by a
    fetch on the task queue, and never changed once complete. Secret values are
    stored as a marker plus a keyed hash (see ``configview.redaction``).
    """

    class Source(models.TextChoices):
        DAEMON = "daemon", "A daemon"
        LOCAL = "local", "The console host"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to start"
        RUNNING = "running", "Fetching"
        COMPLETE = "complete", "Complete"
        FAILED = "failed", "Failed"

    source = models.CharField(max_length=16, choices=Source.choices)
    daemon = models.ForeignKey(
        Daemon, null=True, blank=True, on_delete=models.SET_NULL, related_name="config_snapshots"
    )
    # Kept as they were, so a snapshot still says whose it is after the daemon or pool is gone.
    pool_name = models.CharField(max_length=100, blank=True)
    daemon_name = models.CharField(max_length=255, blank=True)
    daemon_kind = models.CharField(max_length=32, blank=True)
    daemon_address = models.CharField(max_length=2048, blank=True)
    subsystem = models.CharField(
        max_length=64, blank=True, help_text="The subsystem whose view of the configuration this is."
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by_name = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # The worker filling the snapshot: if it stops, the fetch is marked failed with that reason.
    claimed_by = models.CharField(max_length=200, blank=True, editable=False)
    knob_count = models.PositiveIntegerField(default=0)
    # name -> value (None: not defined), name -> declared type, name -> where the value comes from,
    # name -> keyed hash of a hidden value.
    values = models.JSONField(default=dict, blank=True)
    types = models.JSONField(default=dict, blank=True)
    sources = models.JSONField(default=dict, blank=True)
    sources_note = models.TextField(blank=True, help_text="Why sources were not recorded, if they were not.")
    hashes = models.JSONField(default=dict, blank=True)

    # Columns every list needs; the knob payloads are loaded only to show or diff one snapshot.
    PAYLOAD = ("values", "types", "sources", "hashes")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["daemon", "status", "-created_at"])]
        permissions = [("reload_local_config", "Can make the console reread its own HTCondor configuration")]

    def __str__(self) -> str:
        return f"{self.label} at {self.created_at:%Y-%m-%d %H:%M:%S}"

    @property
    def label(self) -> str:
        if self.source == self.Source.LOCAL:
            return f"console host (as {self.subsystem})"
        return f"{self.daemon_kind} {self.daemon_name} in {self.pool_name}"

    @property
    def is_complete(self) -> bool:
        return self.status == self.Status.COMPLETE

    @property
    def in_progress(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.RUNNING)


# A share link's token: LOOKUP_LENGTH characters to find the row, then the secret.
LOOKUP_LENGTH = 11  # secrets.token_urlsafe(8)


def share_secret_digest(secret: str) -> str:
    # The secret carries 256 random bits, so a fast hash cannot be searched.
    return hashlib.sha256(secret.encode()).hexdigest()


class Share(models.Model):
    """A stored comparison of two snapshots, opened by a link.

    The link is ``lookup`` followed by a secret; only a hash of the secret is
    stored, so neither the database nor the admin can reproduce a link.
    """

    lookup = models.CharField(max_length=16, unique=True, help_text="The non-secret start of the link.")
    secret_hash = models.CharField(max_length=64)
    left = models.ForeignKey(ConfigSnapshot, on_delete=models.PROTECT, related_name="+")
    right = models.ForeignKey(ConfigSnapshot, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="config_shares"
    )
    created_by_name = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title or f"{self.left.label} vs {self.right.label}"

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def active(self) -> bool:
        return self.revoked_at is None and not self.expired
