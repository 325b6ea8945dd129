"""What the engine tells the apps above it, which it does not import."""

from __future__ import annotations

from django.dispatch import Signal

# Sent as the embedded queue's worker starts, before it runs a job: any lock
# held now a stopped worker left (the embedded queue serves one process), so
# each app frees the locks it names (engine.queue.flush_locks).
embedded_worker_starting = Signal()
