from __future__ import annotations

from django.conf import settings
from django.db import models

from condor.types import Credentials, Target


class Pool(models.Model):
    """An HTCondor pool the console knows, reached through its collector(s)."""

    name = models.CharField(max_length=100, unique=True)
    collector = models.CharField(
        max_length=1024, help_text="host[:port] of the collector; several for HA pools, comma-separated."
    )
    token_file = models.CharField(
        max_length=1024,
        blank=True,
        help_text="Path of an IDTOKEN file readable by the console. The token itself is never stored here.",
    )
    log_path_from = models.CharField(
        max_length=1024,
        default="/",
        help_text="Prefix of daemon log paths as the daemons see them.",
    )
    log_path_to = models.CharField(
        max_length=1024,
        default="/",
        help_text="What that prefix becomes on the console host (same host: /; a shared mount or chroot: its path).",
    )
    config_val = models.CharField(
        max_length=1024,
        blank=True,
        help_text="Absolute path of the executable that runs condor_config_val for this pool, run without a shell; blank: condor_config_val on PATH.",
    )
    description = models.TextField(blank=True)
    last_refreshed_at = models.DateTimeField(null=True, blank=True)
    last_refresh_error = models.TextField(blank=True)
    last_refresh_ms = models.FloatField(null=True, blank=True, help_text="How long the last refresh took.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def credentials(self) -> Credentials:
        """How the condor package reaches this pool: the token file's path and the condor_config_val command."""
        # The command is one executable's path, run without a shell (PoolForm.clean_config_val).
        return Credentials(token_file=self.token_file, config_val=(self.config_val,) if self.config_val else ())


class DrainState(models.TextChoices):
    """Where a startd is in a drain, as its slot ads say; a state change back to "" reads "resumed"."""

    NONE = "", "Not draining"
    DRAINING = "draining", "Draining"
    DRAINED = "drained", "Drained"


class Daemon(models.Model):
    """A daemon seen in a pool's collector. Never deleted by a refresh: audit rows point here."""

    class State(models.TextChoices):
        UP = "up", "Up"
        DOWN = "down", "Down"
        MISSING = "missing", "Missing from the collector"

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="daemons")
    kind = models.CharField(max_length=32, db_index=True)
    name = models.CharField(max_length=255)
    machine = models.CharField(max_length=255, blank=True)
    address = models.CharField(max_length=2048, blank=True)
    subsystem = models.CharField(max_length=64, blank=True)
    version = models.CharField(max_length=255, blank=True)
    platform = models.CharField(max_length=255, blank=True)
    start_time = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.UP)
    # For startds, from their slot ads at each refresh: "" (not draining), draining or drained.
    drain_state = models.CharField(max_length=16, choices=DrainState.choices, blank=True, default="")
    # For masters: child subsystem -> "up" / "down".
    children = models.JSONField(default=dict, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["machine", "kind", "name"]
        constraints = [models.UniqueConstraint(fields=["pool", "kind", "name"], name="daemon_unique_in_pool")]
        indexes = [
            models.Index(fields=["pool", "state"]),
            models.Index(fields=["pool", "machine", "kind", "name"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"

    @property
    def target(self) -> Target:
        """The daemon as the condor package reaches it; InvalidInput if the inventory holds no usable address."""
        return Target(address=self.address, kind=self.kind, name=self.name)


class Slot(models.Model):
    """A startd's slot as the collector's slot ad showed it at the last refresh, which replaces them all.

    Nothing points at a slot: the audit trail names startds, which are never deleted.
    """

    class Board(models.TextChoices):
        """The machine board's columns: a draining startd's slots count as draining until they are drained."""

        UNCLAIMED = "unclaimed", "Unclaimed"
        CLAIMED = "claimed", "Claimed"
        DRAINING = "draining", "Draining"
        DRAINED = "drained", "Drained"
        OWNER = "owner", "Owner"
        OTHER = "other", "Other"

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="slots")
    startd = models.ForeignKey(Daemon, null=True, blank=True, on_delete=models.CASCADE, related_name="slots")
    name = models.CharField(max_length=255)
    machine = models.CharField(max_length=255, blank=True)
    slot_type = models.CharField(max_length=16, blank=True)
    parent = models.CharField(max_length=255, blank=True, help_text="A dynamic slot's partitionable slot.")
    # As long as condor.child lets a slot ad's State and Activity be.
    state = models.CharField(max_length=64, blank=True)
    activity = models.CharField(max_length=64, blank=True)
    board = models.CharField(max_length=16, choices=Board.choices)
    entered_state = models.DateTimeField(null=True, blank=True)
    entered_activity = models.DateTimeField(null=True, blank=True)
    cpus = models.IntegerField(default=0)
    memory_mb = models.BigIntegerField(default=0)
    disk_kb = models.BigIntegerField(default=0)
    gpus = models.IntegerField(default=0)
    total_cpus = models.IntegerField(default=0)
    total_memory_mb = models.BigIntegerField(default=0)
    total_disk_kb = models.BigIntegerField(default=0)
    total_gpus = models.IntegerField(default=0)
    job = models.CharField(max_length=255, blank=True)
    user = models.CharField(max_length=255, blank=True)
    draining = models.BooleanField(default=False)
    drain_request_id = models.CharField(max_length=255, blank=True)
    drain_reason = models.CharField(max_length=1024, blank=True)
    drain_started = models.DateTimeField(null=True, blank=True)
    attributes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["machine", "name"]
        constraints = [models.UniqueConstraint(fields=["pool", "name"], name="slot_unique_in_pool")]
        indexes = [models.Index(fields=["pool", "board"]), models.Index(fields=["startd", "name"])]

    def __str__(self) -> str:
        return self.name


class DaemonStateChange(models.Model):
    """A daemon's state (or a startd's drain state) as one refresh found it different from the last: the pool
    timeline's other half.

    Written by ``daemons.inventory.services.pool_refresh`` alone, never edited.
    """

    class Aspect(models.TextChoices):
        STATE = "state", "State"
        DRAIN = "drain", "Drain"

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="+")
    daemon = models.ForeignKey(Daemon, on_delete=models.CASCADE, related_name="state_changes")
    aspect = models.CharField(max_length=8, choices=Aspect.choices, default=Aspect.STATE)
    # Daemon.State values, or for the drain aspect DrainState values ("" once it no longer drains).
    old_state = models.CharField(max_length=16, blank=True)
    new_state = models.CharField(max_length=16, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["pool", "-at"])]

    def __str__(self) -> str:
        return f"{self.daemon} {self.old_state} → {self.new_state}"


# The audit trail's names for a drain and its cancel, beside HTCondor's admin commands (condor.commands).
DRAIN = "Drain"
CANCEL_DRAIN = "CancelDrain"
DRAIN_COMMANDS = (DRAIN, CANCEL_DRAIN)


class CommandRecord(models.Model):
    """One attempt to change a daemon: written before sending, completed after.

    Rows are never edited after completion nor deleted, by the console or the admin.
    The permissions in Meta are the ones the command forms check.
    """

    class Outcome(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        UNKNOWN = "unknown", "Outcome unknown"
        REFUSED = "refused", "Refused by HTCondor"
        UNAUTHORIZED = "unauthorized", "Not authorized by HTCondor"
        UNREACHABLE = "unreachable", "Daemon unreachable"
        TIMEOUT = "timeout", "Timed out"
        INVALID = "invalid", "Invalid input"
        FORBIDDEN = "forbidden", "Forbidden by the console"
        ERROR = "error", "Error"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    username = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    pool = models.ForeignKey(Pool, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    pool_name = models.CharField(max_length=100, blank=True)
    daemon = models.ForeignKey(Daemon, null=True, blank=True, on_delete=models.SET_NULL, related_name="commands")
    daemon_name = models.CharField(max_length=255, blank=True)
    daemon_address = models.CharField(max_length=2048, blank=True)
    daemon_kind = models.CharField(max_length=32, blank=True)
    command = models.CharField(max_length=64, db_index=True)
    target = models.CharField(max_length=64, blank=True, help_text="Subsystem the command names, if any.")
    knob = models.CharField(max_length=256, blank=True)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.PENDING, db_index=True)
    error = models.TextField(blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    batch = models.UUIDField(
        null=True,
        blank=True,
        editable=False,
        db_index=True,
        help_text="Shared by the rows of one command sent to several daemons at once.",
    )
    # Drain and CancelDrain: the request's id (HTCondor's answer to a drain;
    # what a cancel names), its reason, and its other options.
    request_id = models.CharField(max_length=255, blank=True)
    reason = models.CharField(max_length=1024, blank=True)
    options = models.JSONField(default=dict, blank=True)
    # The worker that took a batch's row to send it (a conditional UPDATE, so
    # one worker only): if it stops before the outcome is written, the row's
    # outcome is unknown, and it is never sent again.
    claimed_by = models.CharField(max_length=200, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["pool", "-created_at"]), models.Index(fields=["daemon", "-created_at"])]
        permissions = [
            ("send_reconfig", "Can send Reconfig"),
            ("send_daemon_on", "Can start a daemon (DaemonOn, DaemonsOn)"),
            ("send_daemon_off", "Can stop a daemon gracefully (DaemonOff, DaemonOffPeaceful, SetPeacefulShutdown)"),
            ("send_daemon_off_fast", "Can stop a daemon at once (DaemonOffFast, SetForceShutdown)"),
            ("send_daemons_off", "Can stop every daemon of a master (DaemonsOff*)"),
            ("send_restart", "Can restart a master (Restart, RestartPeaceful)"),
            ("send_shutdown", "Can shut a daemon itself down (Off*)"),
            ("send_drain", "Can drain startds and cancel their drains"),
            ("set_runtime_config", "Can set and unset runtime configuration"),
            ("view_logs", "Can watch daemon logs"),
            ("manage_diagnostics", "Can switch the console's HTCondor client logging"),
        ]

    def __str__(self) -> str:
        return f"{self.command} {self.daemon_name} by {self.username} ({self.outcome})"

    # The one place a command's outcome is put into words: the messages after a
    # POST, the command panel, the pool's timeline and the live log's notices.

    @property
    def what(self) -> str:
        """The command as recorded: its name, and the subsystem or knob it names."""
        speed = self.options.get("speed", "") if isinstance(self.options, dict) else ""
        return " ".join(part for part in (self.command, self.target, self.knob, speed) if part)

    @property
    def outcome_text(self) -> str:
        """A sentence for whoever sent it."""
        to = f"{self.daemon_kind} {self.daemon_name}"
        if self.outcome == self.Outcome.SENT and self.command in DRAIN_COMMANDS:
            # Unlike admin commands, a drain request is answered: accepted, with its id, or refused.
            request = f" (request {self.request_id})" if self.request_id else ""
            return f"{self.what} accepted by {to}{request}. Its slots show the progress."
        if self.outcome == self.Outcome.SENT:
            return f"{self.what} sent to {to}. HTCondor does not answer commands: its log shows the reaction."
        return f"{self.what} to {to}: {self.get_outcome_display()}. {self.error}".rstrip()

    @property
    def notice_text(self) -> str:
        """A line for everyone else: who sent what to which daemon, and how it went."""
        text = f"{self.what} by {self.username} to {self.daemon_kind} {self.daemon_name}: {self.get_outcome_display()}"
        return f"{text} ({self.error})" if self.error else text
