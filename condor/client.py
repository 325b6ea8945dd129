"""The public calls of the condor package: plain values in, plain values out.

Each call validates its input (``condor.validation``), runs on one of the
pool's worker processes (``condor.workers``), and raises ``condor.errors``
exceptions. Calls block: each waits its turn for one of its pool's workers
(``workers.Settings.queue_wait``), then for the answer within
``CONDORWEB_HTCONDOR_TIMEOUT`` (more where said). Call them from a thread,
never from an event loop.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

from condor import tools, workers
from condor.commands import Command, commands_for_kind
from condor.errors import InvalidInput
from condor.settable import (
    PINGABLE_LEVELS,
    SETTABLE_LEVELS,
    RuntimeConfigCheck,
    runtime_enabled,
    settable_list,
    wildcards_anchored,
)
from condor.tools import parse_config_dump_sources, parse_runtime_values
from condor.types import (
    DRAIN_COMPLETION_IDS,
    DRAIN_SPEED_IDS,
    SEND_MYTYPE,
    AuthorizationCheck,
    ClientDefaults,
    Credentials,
    DaemonInfo,
    DrainRequest,
    LocalKnob,
    SlotInfo,
    Target,
)
from condor.validation import (
    validate_collector,
    validate_constraint,
    validate_knob,
    validate_log_name,
    validate_request_id,
    validate_subsystem,
    validate_value,
)


def discover(collector: str, credentials: Credentials) -> list[DaemonInfo]:
    """Every daemon the pool's collector knows, with what a console shows."""
    collector = validate_collector(collector)
    rows = workers.pool_for(credentials).call("discover", (collector,))
    return [DaemonInfo(**row) for row in rows]


def check_authorization(target: Target, level: str, credentials: Credentials) -> AuthorizationCheck:
    """Ask the daemon whether the console may act at ``level``; changes nothing."""
    if level not in PINGABLE_LEVELS:
        raise InvalidInput(f"{level!r} is not an authorization level.")
    row = workers.pool_for(credentials).call("ping", (target.address, level))
    return AuthorizationCheck(**row)


def remote_config_names(target: Target, credentials: Credentials) -> list[str]:
    return workers.pool_for(credentials).call("names", (target.address,))


def remote_config_value(target: Target, name: str, credentials: Credentials) -> str | None:
    """One knob's value, or None where the daemon says it is not defined."""
    validate_knob(name)
    return workers.pool_for(credentials).call("get_many", (target.address, [name]))[name]


def remote_config_values(target: Target, names: list[str], credentials: Credentials) -> dict[str, str | None]:
    """Several knobs' values in one call to a worker (None: not defined)."""
    for name in names:
        validate_knob(name)
    return workers.pool_for(credentials).call("get_many", (target.address, list(names)))


def runtime_config_check(
    target: Target, knob: str, credentials: Credentials, *, version: str = ""
) -> RuntimeConfigCheck:
    """What decides whether the daemon takes a runtime set of ``knob`` from the console (``condor.settable``).

    Reads ENABLE_RUNTIME_CONFIG and every SETTABLE_ATTRS_<level>, then pings
    each level whose list has the knob; changes nothing. ``version`` is the
    daemon's ``$CondorVersion`` string (how it matches wildcards).
    """
    validate_knob(knob)
    names = ["ENABLE_RUNTIME_CONFIG", *(f"SETTABLE_ATTRS_{level}" for level in SETTABLE_LEVELS)]
    values = remote_config_values(target, names, credentials)
    lists = {
        level: items for level in SETTABLE_LEVELS if (items := settable_list(values.get(f"SETTABLE_ATTRS_{level}")))
    }
    check = RuntimeConfigCheck(
        knob=knob,
        enabled=runtime_enabled(values.get("ENABLE_RUNTIME_CONFIG")),
        lists=lists,
        anchored=wildcards_anchored(version),
    )
    pings = [check_authorization(target, level, credentials) for level in check.listing if level in PINGABLE_LEVELS]
    return dataclasses.replace(
        check,
        authorized=frozenset(ping.level for ping in pings if ping.authorized),
        unknown=frozenset(level for level in check.listing if level not in PINGABLE_LEVELS),
        identity=next((ping.identity for ping in pings if ping.identity), ""),
    )


def remote_config_all(
    target: Target,
    credentials: Credentials,
    *,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, str | None]:
    """Every knob the daemon lists, with its value (None: not defined).

    The master answers one knob per connection, so the names are split over
    several worker processes to overlap the round trips.
    """
    pool = workers.pool_for(credentials)
    names = pool.call("names", (target.address,))
    size = workers.settings.fetch_chunk
    chunks = [(target.address, names[i : i + size]) for i in range(0, len(names), size)]
    values: dict[str, str | None] = {}

    def collect(part: dict[str, str | None]) -> None:
        values.update(part)
        if on_progress:
            on_progress(len(values), len(names))

    if on_progress:
        on_progress(0, len(names))
    pool.map(
        "get_many",
        chunks,
        parallel=workers.settings.fetch_workers,
        timeout=workers.settings.fetch_timeout,
        on_chunk=collect,
    )
    return dict(sorted(values.items()))


def remote_config_set(target: Target, name: str, value: str, credentials: Credentials) -> None:
    """Set a runtime value; it takes effect after the daemon's next Reconfig."""
    validate_knob(name)
    validate_value(value)
    workers.pool_for(credentials).call("set", (target.address, name, value))


def remote_config_unset(target: Target, name: str, credentials: Credentials) -> None:
    """Remove a runtime value, as ``condor_config_val -runset NAME`` does.

    The bindings' ``del`` stores an empty override instead of removing the
    entry, and they cannot send the empty assignment that removes it, so this
    goes through ``condor_config_val`` with the pool's credentials.
    """
    validate_knob(name)
    workers.pool_for(credentials).call(
        "config_val", (tools.config_val_command(credentials), ["-address", target.address, "-runset", name])
    )


def remote_config_sources(target: Target, credentials: Credentials) -> dict[str, str]:
    """Where each knob's value comes from ("file, line N", "<Default>", ...).

    Needs ``condor_config_val``; raises ToolsUnavailable where it is not installed.
    """
    return parse_config_dump_sources(_config_dump(target, credentials))


def fetch_log(target: Target, log: str, credentials: Credentials) -> bytes:
    """The whole of one of the daemon's logs, through ``condor_fetchlog`` (needs ADMINISTRATOR).

    ``log`` names it as condor_fetchlog does: MASTER for MASTER_LOG. The
    bindings have no log fetch, and the tool has no offset or tail.
    """
    validate_log_name(log)
    return workers.pool_for(credentials).call(
        "fetchlog", (tools.fetchlog_command(credentials), target.address, log), timeout=_tool_timeout()
    )


def remote_runtime_values(target: Target, credentials: Credentials) -> list[tuple[str, str]]:
    """The daemon's runtime values as of its last Reconfig, in the order of its list: ``(knob, raw value)``.

    The daemon files each runtime value under ``<runtime>, line N``, N being
    its place in the list. Raises Refused when a place is missing (a value
    hidden by a later one for the same knob), since the console could then
    not say what lies where.
    """
    return parse_runtime_values(_config_dump(target, credentials))


def _config_dump(target: Target, credentials: Credentials) -> str:
    """``condor_config_val -dump -verbose`` of the daemon: every knob, its raw value and where it comes from."""
    return workers.pool_for(credentials).call(
        "config_val",
        (tools.config_val_command(credentials), ["-address", target.address, "-dump", "-verbose"]),
        timeout=_tool_timeout(),
    )


def _tool_timeout() -> float:
    # A tool call gets at least 30 s whatever CONDORWEB_HTCONDOR_TIMEOUT says:
    # condor_config_val -dump -verbose takes about 0.8 s on loopback (longer
    # on real networks) and condor_fetchlog prints a whole log.
    return max(workers.settings.timeout, 30.0)


def send_command(target: Target, command: Command, credentials: Credentials, *, subsystem: str = "") -> None:
    """Send an admin command. HTCondor sends no reply: success means "delivered"."""
    if not isinstance(command, Command):
        raise InvalidInput("Unknown command.")
    if command.needs_target:
        validate_subsystem(subsystem)
    elif subsystem:
        raise InvalidInput(f"{command.name} takes no subsystem.")
    if command not in commands_for_kind(target.kind):
        raise InvalidInput(f"A {target.kind} does not accept {command.name}; send it to the master.")
    workers.pool_for(credentials).call(
        "send", (target.address, SEND_MYTYPE.get(target.kind, "Generic"), command.command_id, subsystem or None)
    )


def slots(collector: str, credentials: Credentials, *, constraint: str = "") -> list[SlotInfo]:
    """Every slot ad the collector holds (those matching ``constraint``, a ClassAd expression it evaluates).

    The collector sends only the attributes SlotInfo reads (types.SLOT_FIELDS
    and SLOT_ATTRIBUTES), not whole ads.
    """
    collector = validate_collector(collector)
    constraint = validate_constraint(constraint) if not isinstance(constraint, str) or constraint.strip() else ""
    rows = workers.pool_for(credentials).call("slots", (collector, constraint))
    return [SlotInfo(**row) for row in rows]


def startds_matching(collector: str, constraint: str, credentials: Credentials) -> list[str]:
    """The Names of the startds with a slot ad matching ``constraint`` (evaluated by the collector), sorted, once each.

    What a bulk drain by constraint would reach: condor_drain itself takes
    one startd, so this is ``condor_status -constraint ...`` folded to the
    startds that advertise the slots (a slot is named slotN@<startd name>).
    """
    collector = validate_collector(collector)
    constraint = validate_constraint(constraint)
    return workers.pool_for(credentials).call("startds_matching", (collector, constraint))


def drain(target: Target, request: DrainRequest, credentials: Credentials) -> str:
    """Ask a startd to drain (needs ADMINISTRATOR); the startd's request id for it.

    The startd answers at once: draining goes on after the call, and the slot
    ads show it from the startd's next update (UPDATE_INTERVAL). A startd
    runs one drain at a time: a second request is Refused. Offer only the
    completions ``types.drain_completions`` gives for the startd's version.
    """
    _require_startd(target)
    if not isinstance(request, DrainRequest):
        raise InvalidInput("A drain needs a DrainRequest.")
    return workers.pool_for(credentials).call(
        "drain",
        (
            target.address,
            DRAIN_SPEED_IDS[request.speed],
            DRAIN_COMPLETION_IDS[request.on_completion],
            request.check,
            request.start,
            request.reason,
        ),
    )


def cancel_drain(target: Target, credentials: Credentials, *, request_id: str = "") -> None:
    """Stop a startd's drain: whichever it runs, or only request ``request_id`` (Refused if that is not the one).

    A startd that is not draining accepts a cancel without a request id and
    does nothing.
    """
    _require_startd(target)
    if request_id:
        validate_request_id(request_id)
    workers.pool_for(credentials).call("cancel_drain", (target.address, request_id))


def _require_startd(target: Target) -> None:
    if target.kind != "startd":
        raise InvalidInput(f"Only a startd drains; {target.name or target.address} is a {target.kind}.")


def local_config(subsystem: str = "TOOL") -> list[LocalKnob]:
    """The console host's own configuration, typed, as ``subsystem`` sees it."""
    if subsystem != "TOOL":
        validate_subsystem(subsystem)
    rows = workers.pool_for(workers.LOCAL).call("local_config", (subsystem,))
    return [LocalKnob(*row) for row in rows]


@functools.cache
def client_defaults() -> ClientDefaults:
    """What the console's HTCondor client defines by itself (its parameter table, no configuration file read),
    and its ``$CondorVersion``: a property of the installed wheel, read once."""
    values, without_default, version = workers.pool_for(Credentials()).call("client_defaults", ())
    return ClientDefaults(values=values, without_default=frozenset(without_default), version=version)


def local_reload() -> None:
    """Reread the console host's configuration files."""
    workers.pool_for(workers.LOCAL).call("local_reload", ())
