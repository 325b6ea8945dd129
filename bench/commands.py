"""What the console adds to a daemon command: form POST to response, audit row included, against a bare send.

On the bench pool's master, interleaved so load affects both alike: a bare
``condor.client.send_command``, and the same command posted to the daemon's command
form through Django's test client (session, CSRF-exempt test client,
permission check, form, audit row written before and completed after,
the command_recorded broadcast sent on that commit, follow-up refreshes
queued on the task queue (in memory here; no worker runs them), redirect). The overhead is
the difference of the two medians. The parts are then timed alone to show
where the overhead goes.

Two commands: DaemonOn SCHEDD while the schedd runs, which the master only
notes, and Reconfig, which sets the bench pool's five daemons rereading their
configuration. That pool shares this machine's cores with the console, so
whatever the console does after a Reconfig's send runs slower; the first
measures the console alone, the second shows what the pool's reaction adds
here.
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

from bench import Row, percentile

RUNS = 100
WARMUP = 5
TARGET_MS = 10.0


def run(context: Any) -> list[Row]:
    import shlex

    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.test import Client
    from django.urls import reverse
    from huey.contrib.djhuey import HUEY as huey

    import condor.client
    from condor.commands import Command
    from daemons import events
    from daemons.commands.audit import ClientInfo, audited
    from daemons.inventory import services
    from daemons.models import CommandRecord, Daemon
    from daemons.permissions import OPERATORS

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    pool = services.pool_save(
        name=f"{context.pool.name}-commands",
        collector=context.pool.collector,
        token_file=context.pool.token_file,
        config_val=shlex.join(context.pool.config_val),
    )
    services.pool_refresh(pool=pool)
    master = Daemon.objects.select_related("pool").get(pool=pool, kind="master")
    target = master.target
    credentials = pool.credentials
    operator, _ = User.objects.get_or_create(username="bench-commands-operator")
    operator.groups.add(Group.objects.get(name=OPERATORS))
    client = Client()
    client.force_login(operator)
    url = reverse("daemons:daemon_command", args=[master.pk])

    reconfig = {"command": "Reconfig"}
    daemon_on = {"command": "DaemonOn", "subsystem": "SCHEDD"}

    def bare(post: dict[str, str]) -> None:
        command = Command[post["command"]]
        condor.client.send_command(target, command, credentials, subsystem=post.get("subsystem", ""))

    def form(post: dict[str, str], htmx: bool = False) -> None:
        extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
        response = client.post(url, post, **extra)
        assert response.status_code == (200 if htmx else 302), response.status_code

    def refused() -> None:
        # The same request stack (session, user, permissions, daemon, form, redirect) with nothing recorded or sent.
        assert client.post(url, {"command": "NoSuchCommand"}).status_code == 302

    # Two phases, so no Reconfig's aftermath falls on the first.
    phases = [
        {
            "bare": lambda: bare(daemon_on),
            "form": lambda: form(daemon_on),
            "htmx": lambda: form(daemon_on, htmx=True),
            "refused": refused,
        },
        {"bare reconfig": lambda: bare(reconfig), "form reconfig": lambda: form(reconfig)},
    ]
    samples: dict[str, list[float]] = {name: [] for calls in phases for name in calls}
    # CPU time of the request's own thread: what the console spends, whatever else the machine runs.
    cpu_ms: dict[str, list[float]] = {name: [] for name in samples}
    for calls in phases:
        for _ in range(WARMUP):
            for call in calls.values():
                call()
        for _ in range(RUNS):
            for name, call in calls.items():
                started, cpu = time.perf_counter(), time.thread_time()
                call()
                samples[name].append((time.perf_counter() - started) * 1000)
                cpu_ms[name].append((time.thread_time() - cpu) * 1000)
    failed = CommandRecord.objects.exclude(outcome=CommandRecord.Outcome.SENT).count()
    assert failed == 0, f"{failed} benchmark commands were not sent"

    # The pieces of the overhead, each timed alone.
    client_info = ClientInfo(address="127.0.0.1", user_agent="bench")
    audit_only, broadcast_only = [], []
    for _ in range(RUNS):
        started = time.perf_counter()
        audited(user=operator, daemon=master, client=client_info, command="BenchNoop", action=lambda: None)
        audit_only.append((time.perf_counter() - started) * 1000)
        record = CommandRecord.objects.select_related("daemon").latest("id")
        started = time.perf_counter()
        events.command_recorded(record)
        broadcast_only.append((time.perf_counter() - started) * 1000)

    # The follow-up refreshes the commands queued (scheduled, in the bench's in-memory queue): a worker's
    # work, not the request's; dropped unrun.
    queued = huey.scheduled_count() + huey.pending_count()
    huey.storage.flush_all()
    p50 = {name: statistics.median(values) for name, values in samples.items()}
    cpu_p50 = {name: statistics.median(values) for name, values in cpu_ms.items()}
    overhead = p50["form"] - p50["bare"]
    htmx_overhead = p50["htmx"] - p50["bare"]
    reconfig_overhead = p50["form reconfig"] - p50["bare reconfig"]
    # Each round's own difference, which drift in the machine's load affects less than a difference of medians.
    paired = statistics.median(f - b for f, b in zip(samples["form"], samples["bare"], strict=True))
    return [
        Row(
            figure=f"command overhead: DaemonOn SCHEDD form POST to redirect, minus a bare send_command; p50 of {RUNS}",
            value=overhead,
            unit="ms",
            target=f"<= {TARGET_MS:g} ms",
            met=overhead <= TARGET_MS,
            anchor="bare condor.client.send_command(DaemonOn, SCHEDD)",
            anchor_value=p50["bare"],
            note=f"form p50 {p50['form']:.2f} ms, p95 {percentile(samples['form'], 95):.2f} ms; "
            f"bare p95 {percentile(samples['bare'], 95):.2f} ms; median of per-round differences {paired:.2f} ms; "
            f"CPU of the request's thread {cpu_p50['form'] - cpu_p50['bare']:.2f} ms more than the bare send's",
        ),
        Row(
            figure=f"command overhead: the same via htmx (panel re-rendered with history), minus a bare send; p50 of {RUNS}",
            value=htmx_overhead,
            unit="ms",
            target=f"<= {TARGET_MS:g} ms",
            met=htmx_overhead <= TARGET_MS,
            anchor="bare condor.client.send_command(DaemonOn, SCHEDD)",
            anchor_value=p50["bare"],
            note=f"htmx p50 {p50['htmx']:.2f} ms, p95 {percentile(samples['htmx'], 95):.2f} ms",
        ),
        Row(
            figure=f"command overhead: Reconfig form POST to redirect, minus a bare send_command; p50 of {RUNS}",
            value=reconfig_overhead,
            unit="ms",
            target="-",
            met=None,
            anchor="bare condor.client.send_command(Reconfig)",
            anchor_value=p50["bare reconfig"],
            note=f"CPU of the request's thread {cpu_p50['form reconfig'] - cpu_p50['bare reconfig']:.2f} ms more than "
            "the bare send's; the rest is the bench pool's daemons rereading their configuration on the same "
            f"{os.cpu_count()} cores while the request finishes",
        ),
        Row(
            figure=f"  of which: Django's request stack alone (session, user, permissions, form, redirect; nothing sent); p50 of {RUNS}",
            value=p50["refused"],
            unit="ms",
            target="-",
            met=None,
            note="the same POST with an unknown command: refused by the form, nothing recorded",
        ),
        Row(
            figure=f"  of which: audit row written and completed (two transactions, the broadcast sent on the second's commit); p50 of {RUNS}",
            value=statistics.median(audit_only),
            unit="ms",
            target="-",
            met=None,
            note=f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}",
        ),
        Row(
            figure=f"    of which: the command_recorded broadcast alone (daemons.commands.audit.complete sends it on commit); p50 of {RUNS}",
            value=statistics.median(broadcast_only),
            unit="ms",
            target="-",
            met=None,
            note=f"channel layer: {settings.CHANNEL_LAYERS['default']['BACKEND'].rsplit('.', 1)[-1]}; "
            f"{queued} follow-up refresh jobs queued by the commands, not run",
        ),
    ]
