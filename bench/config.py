"""Configuration figures: a full fetch against its anchors, and the diff page.

On the bench pool's master, in one run and interleaved so load affects all
alike: the console's full fetch (condor.client.remote_config_all), the bindings'
plain sequential RemoteParam loop, and ``condor_config_val -address <master> -dump``.
Then the diff page of two stored 1,200-knob snapshots through Django's test
client (server time, no network).
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable
from typing import Any

from bench import Row, cpu_seconds, percentile
from tests.servers import child_processes

RUNS = 7
PAGE_RUNS = 40

# The anchor uses the bindings the plain way in a process of its own: inside
# the console only condor/child.py imports them.
_REMOTE_PARAM_LOOP = (
    "import sys, time\n"
    "htcondor2 = __import__('htcondor2')\n"
    "classad2 = __import__('classad2')\n"
    "ad = classad2.ClassAd({'MyAddress': sys.argv[1], 'MyType': 'DaemonMaster'})\n"
    "started = time.perf_counter()\n"
    "param = htcondor2.RemoteParam(ad)\n"
    "values = {key: param[key] for key in param.keys()}\n"
    "print(len(values), time.perf_counter() - started)\n"
)

# The same loop's share of one of several processes, started together on a
# signal: the best a client built on the bindings can do on this machine.
_REMOTE_PARAM_SHARE = (
    "import sys\n"
    "htcondor2 = __import__('htcondor2')\n"
    "classad2 = __import__('classad2')\n"
    "ad = classad2.ClassAd({'MyAddress': sys.argv[1], 'MyType': 'DaemonMaster'})\n"
    "param = htcondor2.RemoteParam(ad)\n"
    "share = sorted(param.keys())[int(sys.argv[2])::int(sys.argv[3])]\n"
    "print('ready', flush=True)\n"
    "sys.stdin.readline()\n"
    "print(len({key: param[key] for key in share}))\n"
)


def run(context: Any) -> list[Row]:
    # Snapshots first: every knob read is a connection, and the tens of
    # thousands the fetch comparison leaves in TIME_WAIT slow every connect to
    # the same master for a minute (a snapshot after them took 3 s, not 0.7).
    snapshot = _snapshot_rows(context)
    return _fetch_rows(context) + snapshot + _diff_page_rows() + _share_miss_rows()


# --------------------------------------------------------------------------
# A full fetch, three ways.
# --------------------------------------------------------------------------


def _fetch_rows(context: Any) -> list[Row]:
    import condor.client
    from condor.types import Target
    from devtools import devpool

    master = next(d for d in condor.client.discover(context.pool.collector, context.credentials) if d.kind == "master")
    target = Target(address=master.address, kind="master", name=master.name)
    condor.client.remote_config_all(target, context.credentials)  # start the worker processes first
    # Every connection to the master passes through condor_shared_port, so both daemons' CPU counts.
    master_pid = devpool.master_pid(context.pool.name)
    daemons = [master_pid, *(pid for pid, name in child_processes(master_pid).items() if name == "condor_shared_port")]
    console, loop, split, dump = [], [], [], []
    console_cpu: dict[str, list[float]] = {"daemons": [], "workers": []}
    dump_cpu: dict[str, list[float]] = {"daemons": [], "tool": []}
    knobs = {}
    for _ in range(RUNS):
        daemons_before, workers_before = _cpu(daemons), _cpu(child_processes(os.getpid()))
        started = time.perf_counter()
        knobs["console"] = len(condor.client.remote_config_all(target, context.credentials))
        console.append(time.perf_counter() - started)
        console_cpu["daemons"].append(_cpu(daemons) - daemons_before)
        console_cpu["workers"].append(_cpu(child_processes(os.getpid())) - workers_before)
        knobs["loop"], seconds = _remote_param_loop(context, master.address)
        loop.append(seconds)
        knobs["split"], seconds = _remote_param_split(context, master.address)
        split.append(seconds)
        daemons_before, tool_before = _cpu(daemons), _waited_children_cpu()
        started = time.perf_counter()
        output = subprocess.run(
            # -address, not -master: the pool's tool reads a client configuration that names no
            # collector nor local master (devtools/devpool.py), so -master finds nothing.
            [*context.pool.config_val, "-address", master.address, "-dump"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        dump.append(time.perf_counter() - started)
        dump_cpu["daemons"].append(_cpu(daemons) - daemons_before)
        dump_cpu["tool"].append(_waited_children_cpu() - tool_before)
        knobs["dump"] = sum(1 for line in output.splitlines() if " = " in line and not line.startswith("#"))
    anchor = statistics.median(dump)
    fetch = statistics.median(console)
    daemons_cpu, workers_cpu = (statistics.median(console_cpu[k]) for k in ("daemons", "workers"))
    cores = os.cpu_count() or 1
    return [
        Row(
            figure=f"full config fetch, console (remote_config_all), median of {RUNS}",
            value=fetch,
            unit="s",
            target="<= 1/2 of condor_config_val -dump",
            met=fetch <= anchor / 2,
            anchor="condor_config_val -address <master> -dump",
            anchor_value=anchor,
            note=f"{knobs['console']} knobs; {fetch / anchor:.0%} of the anchor; "
            f"load average {os.getloadavg()[0]:.1f} on {cores} cores",
        ),
        Row(
            figure=f"  CPU a console fetch costs the machine: master and shared_port, plus the console's workers; median of {RUNS}",
            value=daemons_cpu + workers_cpu,
            unit="s",
            target="-",
            met=None,
            anchor="the same for condor_config_val -address <master> -dump",
            anchor_value=statistics.median(dump_cpu["daemons"]) + statistics.median(dump_cpu["tool"]),
            note=f"daemons {daemons_cpu:.2f} s + workers {workers_cpu:.2f} s; spread perfectly over {cores} cores "
            f"a fetch cannot take less than {(daemons_cpu + workers_cpu) / cores:.2f} s here; "
            f"the tool: daemons {statistics.median(dump_cpu['daemons']):.2f} s + itself {statistics.median(dump_cpu['tool']):.2f} s",
        ),
        Row(
            figure=f"full config fetch, bindings' sequential RemoteParam loop, median of {RUNS}",
            value=statistics.median(loop),
            unit="s",
            target="-",
            met=None,
            anchor="condor_config_val -address <master> -dump",
            anchor_value=anchor,
            note=f"{knobs['loop']} knobs; timed inside its process (no interpreter start-up)",
        ),
        Row(
            figure=f"  the same loop split over {cores} processes started together (no console), median of {RUNS}",
            value=statistics.median(split),
            unit="s",
            target="-",
            met=None,
            anchor="condor_config_val -address <master> -dump",
            anchor_value=anchor,
            note=f"{knobs['split']} knobs; {statistics.median(split) / anchor:.0%} of the anchor: "
            "the best a client on the bindings does here",
        ),
        Row(
            figure=f"condor_config_val -address <master> -dump, median of {RUNS}",
            value=anchor,
            unit="s",
            target="-",
            met=None,
            note=f"{knobs['dump']} knobs; whole process",
        ),
    ]


def _cpu(pids: Iterable[int]) -> float:
    return sum(cpu_seconds(pid) for pid in pids)


def _waited_children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _bindings_environment(context: Any) -> dict[str, str]:
    return {
        **os.environ,
        "CONDOR_CONFIG": "/dev/null",
        "_CONDOR_SEC_TOKEN_DIRECTORY": os.path.dirname(context.pool.token_file),
        "_CONDOR_SEC_CLIENT_AUTHENTICATION_METHODS": "IDTOKENS",
    }


def _remote_param_loop(context: Any, address: str) -> tuple[int, float]:
    output = subprocess.run(
        [sys.executable, "-c", _REMOTE_PARAM_LOOP, address],
        env=_bindings_environment(context),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout.split()
    return int(output[0]), float(output[1])


def _remote_param_split(context: Any, address: str) -> tuple[int, float]:
    """Knobs read and seconds from the signal until the last process has its share.

    Each process has its names and security session before the signal, as
    the console's warmed workers have their sessions: a lower bound.
    """
    processes = os.cpu_count() or 1
    shares = [
        subprocess.Popen(
            [sys.executable, "-c", _REMOTE_PARAM_SHARE, address, str(index), str(processes)],
            env=_bindings_environment(context),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for index in range(processes)
    ]
    try:
        for share in shares:
            if share.stdout is None or share.stdout.readline().strip() != "ready":
                raise RuntimeError("a process of the split RemoteParam loop did not start")
        started = time.perf_counter()
        for share in shares:
            if share.stdin is not None:
                share.stdin.write("go\n")
                share.stdin.flush()
        knobs = sum(int(share.communicate(timeout=120)[0]) for share in shares)
        return knobs, time.perf_counter() - started
    finally:
        for share in shares:
            share.kill()
            share.wait()


# --------------------------------------------------------------------------
# A whole snapshot as the console stores it.
# --------------------------------------------------------------------------


def _snapshot_rows(context: Any) -> list[Row]:
    import shlex

    from django.contrib.auth.models import User

    from bench.context import run_queued
    from configview import services as configview_services
    from configview.models import ConfigSnapshot
    from daemons.inventory import services
    from daemons.models import Daemon

    pool = services.pool_save(
        name=context.pool.name,
        collector=context.pool.collector,
        token_file=context.pool.token_file,
        config_val=shlex.join(context.pool.config_val),
    )
    services.pool_refresh(pool=pool)
    run_queued()  # the refresh pool_save queued for a new pool
    master = Daemon.objects.get(pool=pool, kind="master")
    user, _ = User.objects.get_or_create(username="bench-operator")
    seconds = []
    for _ in range(RUNS):
        started = time.perf_counter()
        snapshot = configview_services.config_snapshot_fetch(user=user, daemon=master)
        # The queued config_fetch job, run here at once as a worker would (queue latency: bench/engine.py).
        assert run_queued() == 1
        seconds.append(time.perf_counter() - started)
    snapshot.refresh_from_db()
    assert snapshot.status == ConfigSnapshot.Status.COMPLETE, snapshot.error
    return [
        Row(
            figure=f"whole snapshot: request, then its queued job (values, sources from condor_config_val -dump -verbose, types) run in-process, stored; median of {RUNS}",
            value=statistics.median(seconds),
            unit="s",
            target="-",
            met=None,
            note=f"{snapshot.knob_count} knobs; sources are read beside the values, "
            "but the daemon answers both one request at a time; no queue wait (see the engine rows)",
        )
    ]


# --------------------------------------------------------------------------
# The diff page.
# --------------------------------------------------------------------------


def _diff_page_rows() -> list[Row]:
    from django.contrib.auth.models import Group, User
    from django.test import Client
    from django.urls import reverse

    from daemons.permissions import VIEWERS

    left, right = _stored_pair(1200)
    user, _ = User.objects.get_or_create(username="bench-viewer")
    user.groups.add(Group.objects.get(name=VIEWERS))
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    rows = []
    for show, label in (("differences", "only differences (default)"), ("all", "every knob")):
        query = {"left": left.pk, "right": right.pk, "show": show}
        for _ in range(3):
            client.get(reverse("configview:diff"), query)
        samples = []
        for _ in range(PAGE_RUNS):
            started = time.perf_counter()
            response = client.get(reverse("configview:diff"), query)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        p50 = percentile(samples, 50)
        rows.append(
            Row(
                figure=f"diff page, two stored 1,200-knob snapshots, {label}, p50 of {PAGE_RUNS}",
                value=p50,
                unit="ms",
                target="<= 50 ms",
                met=p50 <= 50,
                note=f"p95 {percentile(samples, 95):.1f} ms; {len(response.content) // 1024} KiB; Django test client",
            )
        )
    return rows


def _stored_pair(size: int) -> tuple[Any, Any]:
    """Two snapshots of one daemon, typed like a master's, 5 % of the knobs changed, a few added and removed."""
    from configview import redaction
    from configview.models import ConfigSnapshot

    kinds = ["int", "bool", "str", "str", "float"]
    types = {f"BENCH_KNOB_{i:04d}": kinds[i % len(kinds)] for i in range(size)}
    base = {
        name: {"int": str(i), "bool": "true", "str": f"/var/lib/condor/{i}", "float": "0.5"}[kind]
        for i, (name, kind) in enumerate(types.items())
    }
    changed = dict(base)
    for i, name in enumerate(types):
        if i % 20 == 0:
            changed[name] = f"{base[name]}-changed"
    for i in range(10):
        changed.pop(f"BENCH_KNOB_{i * 7 + 3:04d}", None)
        changed[f"BENCH_ADDED_{i}"] = "new"
    base["BENCH_PASSWORD"] = "one secret"
    changed["BENCH_PASSWORD"] = "another secret"

    def stored(values: dict[str, str]) -> ConfigSnapshot:
        clear, hashes = redaction.redact(values, types)
        return ConfigSnapshot.objects.create(
            source=ConfigSnapshot.Source.DAEMON,
            pool_name="bench",
            daemon_name="master@bench",
            daemon_kind="master",
            subsystem="MASTER",
            requested_by_name="bench",
            status=ConfigSnapshot.Status.COMPLETE,
            values=clear,
            hashes=hashes,
            types={n: t for n, t in types.items() if n in values},
            sources={n: f"/etc/condor/config.d/{hash(n) % 9}.conf, line {i}" for i, n in enumerate(values)},
            knob_count=len(values),
        )

    return stored(base), stored(changed)


def _share_miss_rows() -> list[Row]:
    """A share link with a lookup that exists and a wrong secret, beside a random one: same cost, or it leaks."""
    import secrets

    from django.contrib.auth.models import User
    from django.test import Client
    from django.urls import reverse

    from configview import services
    from configview.models import LOOKUP_LENGTH
    from configview.selectors import SideChoice

    left, right = _stored_pair(1200)
    user, _ = User.objects.get_or_create(username="bench-viewer")
    _, token = services.share_create(user=user, left=SideChoice(left), right=SideChoice(right), title="bench")
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    kinds = {
        "near miss": lambda: token[:LOOKUP_LENGTH] + secrets.token_urlsafe(32),
        "random": lambda: secrets.token_urlsafe(8)[:LOOKUP_LENGTH] + secrets.token_urlsafe(32),
    }
    samples: dict[str, list[float]] = {kind: [] for kind in kinds}
    # Interleaved, so the machine's noise falls on both alike.
    for _ in range(3 + PAGE_RUNS):
        for kind, make in kinds.items():
            url = reverse("configview:share_open", args=[make()])
            started = time.perf_counter()
            assert client.get(url).status_code == 404
            samples[kind].append((time.perf_counter() - started) * 1000)
    near, far = (statistics.median(samples[kind][3:]) for kind in kinds)
    return [
        Row(
            figure=f"share link miss, lookup exists (near miss), median of {PAGE_RUNS}",
            value=near,
            unit="ms",
            target="same as a random token",
            met=abs(near - far) <= max(0.1 * far, 0.3),
            anchor="random token",
            anchor_value=far,
            note=f"difference {near - far:+.2f} ms; 1,200-knob snapshots behind the share; Django test client",
        )
    ]
