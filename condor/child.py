"""The worker process: the one module of the console that imports ``htcondor2`` and ``classad2``.

``condor.workers`` starts ``main`` in a fresh (spawned) process with one
pool's credentials. It sets HTCondor's process-wide client configuration
(``CONDOR_CONFIG``, the token directory) before it imports the bindings,
then answers calls by name from its pipe until the pipe closes. Answers are
plain values or ``condor.errors`` exceptions; nothing from the bindings
crosses the pipe.
"""

from __future__ import annotations

import json
import multiprocessing.connection
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from condor.errors import (
    ADMINISTRATOR_HINT,
    READ_HINT,
    RUNTIME_CONFIG_HINT,
    DaemonUnreachable,
    InvalidInput,
    NotAuthorized,
    ProtocolError,
    Refused,
    RuntimeConfigRefused,
)
from condor.tools import run_tool
from condor.types import (
    INTERESTING_ATTRIBUTES,
    KIND_BY_MYTYPE,
    NOT_DEFINED,
    SLOT_ATTRIBUTES,
    SLOT_FIELDS,
    SUBSYSTEM_BY_KIND,
)
from condor.validation import describe_parse_problem


def main(conn: multiprocessing.connection.Connection, environment: dict[str, Any], logging_: tuple[str, str]) -> None:
    token_dir = _prepare_environment(environment)
    # HTCondor's client library prints connection failures on stderr; the
    # console reports them as exceptions instead (and in TOOL_LOG when asked).
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
    try:
        import htcondor2

        handlers = _handlers(htcondor2)
        if environment["local"]:
            # The console host's configuration is what its files say: the console's own diagnostic
            # settings (TOOL_DEBUG, TOOL_LOG set in this process) would show in it, and stay after being
            # switched off. Reading local knobs sends nothing worth a client log.
            handlers["apply_logging"] = lambda debug, log_path: None
        handlers["apply_logging"](*logging_)
        while True:
            try:
                func, args = conn.recv()
            except (EOFError, OSError, KeyboardInterrupt):
                return
            try:
                conn.send((True, handlers[func](*args)))
            except ProtocolError as exc:
                conn.send((False, exc))
            except Exception as exc:
                conn.send((False, ProtocolError(f"HTCondor client error: {exc}")))
    finally:
        if token_dir:
            shutil.rmtree(token_dir, ignore_errors=True)


def _prepare_environment(environment: dict[str, Any]) -> str:
    """Set the process-wide HTCondor client configuration before importing it; the token directory made, if any."""
    token_file, local_config_file = environment["token_file"], environment["local_config_file"]
    if environment["local"]:
        # The console host's own configuration: the operator's file, else
        # HTCondor's usual search (which the bindings end at /dev/null).
        if local_config_file:
            os.environ["CONDOR_CONFIG"] = local_config_file
        return ""
    # Talking to pools does not depend on the console host's configuration.
    os.environ["CONDOR_CONFIG"] = "/dev/null"
    # One directory holding only this pool's token, so no other token (the
    # user's ~/.condor/tokens.d, /etc/condor/tokens.d) is ever offered.
    token_dir = tempfile.mkdtemp(prefix="condorweb-tokens-")
    empty_dir = os.path.join(token_dir, "system")
    os.mkdir(empty_dir, 0o700)
    user_dir = os.path.join(token_dir, "pool")
    os.mkdir(user_dir, 0o700)
    if token_file:
        os.symlink(os.path.abspath(token_file), os.path.join(user_dir, "token"))
    os.environ["_CONDOR_SEC_TOKEN_DIRECTORY"] = user_dir
    os.environ["_CONDOR_SEC_TOKEN_SYSTEM_DIRECTORY"] = empty_dir
    os.environ["_CONDOR_SEC_CLIENT_AUTHENTICATION_METHODS"] = "IDTOKENS" if token_file else "FS, IDTOKENS"
    return token_dir


def _handlers(htcondor2: Any) -> dict[str, Callable[..., Any]]:
    import classad2

    HTCondorException = htcondor2.HTCondorException

    def location(address: str, my_type: str = "Generic") -> Any:
        return classad2.ClassAd({"MyAddress": address, "MyType": my_type})

    def reachable(address: str) -> bool:
        match = re.match(r"<([^:>?]+):(\d+)", address)
        if not match:
            return False
        try:
            with socket.create_connection((match.group(1), int(match.group(2))), timeout=2):
                return True
        except OSError:
            return False

    def failure(exc: Exception, address: str, *, hint: str) -> ProtocolError:
        if not reachable(address):
            return DaemonUnreachable(
                f"Cannot connect to the daemon at {address}.",
                hint="Check that it is running and that the console can reach its host and port.",
            )
        return NotAuthorized(f"The daemon refused the console: {exc}", hint=hint)

    def collector_failure(exc: Exception, collector: str) -> ProtocolError:
        host = collector.split(",")[0]
        addr = host if ":" in host else f"{host}:9618"
        if not reachable(f"<{addr}>"):
            return DaemonUnreachable(
                f"Cannot connect to the collector at {collector}.",
                hint="Check the address and that the collector is running and reachable from the console.",
            )
        return NotAuthorized(f"The collector at {collector} refused the query: {exc}", hint=READ_HINT)

    def discover(collector: str) -> list[dict[str, Any]]:
        try:
            coll = htcondor2.Collector(collector)
            ads = coll.query(
                htcondor2.AdType.Any,
                constraint="member(MyType, {" + ", ".join(f'"{t}"' for t in KIND_BY_MYTYPE) + "})",
            )
        except HTCondorException as exc:
            raise collector_failure(exc, collector) from None
        return [_daemon_row(ad) for ad in ads]

    def expression(text: str, what: str) -> None:
        """InvalidInput unless HTCondor's parser reads ``text`` (validated: validate_constraint) as one expression."""
        before = classad2.lastError()
        try:
            # The bindings parse an expression the same way (ExprTree): as the
            # value of an attribute of a ClassAd written around it.
            parsed = set(classad2.ClassAd(f"[expression = {text}]").keys()) == {"expression"}
        except Exception:
            parsed = False
        if not parsed:
            after = classad2.lastError()
            problem = describe_parse_problem(text, after if after != before else "")
            raise InvalidInput(
                f"The {what} is not an expression HTCondor can read: {problem}.",
                hint='Write a ClassAd expression, e.g. Machine == "exec01.example.org" && Cpus >= 8.',
            )

    def query_slots(collector: str, constraint: str, projection: list[str]) -> list[Any]:
        if constraint:
            expression(constraint, "constraint")
        try:
            return htcondor2.Collector(collector).query(
                htcondor2.AdType.Startd, constraint=constraint, projection=projection
            )
        except HTCondorException as exc:
            raise collector_failure(exc, collector) from None

    def slots(collector: str, constraint: str) -> list[dict[str, Any]]:
        ads = query_slots(collector, constraint, [*SLOT_FIELDS, *SLOT_ATTRIBUTES])
        return [_slot_row(_ad_values(ad)) for ad in ads]

    def startds_matching(collector: str, constraint: str) -> list[str]:
        ads = query_slots(collector, constraint, ["Name", "Machine"])
        return sorted({_startd_of(_text(ad.get("Name")), _text(ad.get("Machine"))) for ad in ads} - {""})

    def authorized(address: str, level: str) -> bool:
        try:
            return bool(htcondor2.ping(address, level).get("AuthorizationSucceeded", False))
        except HTCondorException:
            return False

    def live_slot_ads(address: str) -> list[Any]:
        """The startd's own slot ads, asked of the startd itself (``condor_status -direct``): newer than the collector's."""
        try:
            return htcondor2.Collector(address).query(htcondor2.AdType.Startd)
        except HTCondorException:
            return []

    def drain_refusal(address: str, what: str) -> ProtocolError | None:
        """Why a drain command failed, where it was not the startd's own decision; None if it was.

        The bindings drop the startd's answer ("Startd failed to start
        draining jobs." whatever it said), so the console asks again, without
        side effects: can it connect, may it administer.
        """
        if not reachable(address):
            return DaemonUnreachable(
                f"Cannot connect to the startd at {address}.",
                hint="Check that it is running and that the console can reach its host and port.",
            )
        if not authorized(address, "ADMINISTRATOR"):
            return NotAuthorized(
                f"The startd refused to {what}: it needs ADMINISTRATOR access.", hint=ADMINISTRATOR_HINT
            )
        return None

    def drain(address: str, speed: int, completion: int, check: str, start: str, reason: str) -> str:
        if check:
            expression(check, "check expression")
        if start:
            expression(start, "start expression")
        startd = htcondor2.Startd(location(address, "Machine"))
        try:
            request_id = startd.drainJobs(
                htcondor2.DrainType(speed), htcondor2.CompletionType(completion), check or None, start or None, reason
            )
        except HTCondorException:
            raise drain_refusal(address, "drain") or _drain_refused(classad2, live_slot_ads(address), check) from None
        return _text(request_id, 32)

    def cancel_drain(address: str, request_id: str) -> None:
        try:
            htcondor2.Startd(location(address, "Machine")).cancelDrainJobs(request_id or None)
        except HTCondorException:
            raise drain_refusal(address, "cancel a drain") or _cancel_refused(
                live_slot_ads(address), request_id
            ) from None

    def ping(address: str, level: str) -> dict[str, Any]:
        try:
            result = htcondor2.ping(address, level)
        except HTCondorException:
            if not reachable(address):
                raise DaemonUnreachable(
                    f"Cannot connect to the daemon at {address}.",
                    hint="Check that it is running and that the console can reach its host and port.",
                ) from None
            # The daemon would not even start the command: not authorized at this level.
            return {"level": level, "authorized": False, "identity": ""}
        return {
            "level": level,
            "authorized": bool(result.get("AuthorizationSucceeded", False)),
            "identity": str(result.get("MyRemoteUserName", "")),
        }

    def names(address: str) -> list[str]:
        try:
            return sorted(htcondor2.RemoteParam(location(address)).keys())
        except HTCondorException as exc:
            raise failure(exc, address, hint=READ_HINT) from None

    def get_many(address: str, knobs: list[str]) -> dict[str, str | None]:
        from htcondor2.htcondor2_impl import _remote_param_get

        ad = location(address)
        out: dict[str, str | None] = {}
        for knob in knobs:
            try:
                value = _remote_param_get(ad._handle, knob)
            except HTCondorException as exc:
                raise failure(exc, address, hint=READ_HINT) from None
            out[knob] = None if value == NOT_DEFINED else value
        return out

    def set_(address: str, knob: str, value: str) -> None:
        from htcondor2.htcondor2_impl import _remote_param_set

        try:
            # The daemon files runtime entries under the name exactly as sent,
            # and condor_config_val (which removes them: see unset) sends it
            # lower-cased. Knob names are case-insensitive, so lower-case
            # keeps both tools addressing the same entry.
            _remote_param_set(location(address)._handle, knob.lower(), value)
        except HTCondorException as exc:
            if not reachable(address):
                raise DaemonUnreachable(f"Cannot connect to the daemon at {address}.") from None
            raise RuntimeConfigRefused(f"The daemon refused to set {knob}: {exc}", hint=RUNTIME_CONFIG_HINT) from None

    def config_val(argv: list[str], args: list[str]) -> str:
        # Runs in this worker so a host-installed condor_config_val sees this
        # pool's token directory and nothing else.
        status, output, last = run_tool("condor_config_val", [*argv, *args])
        if status != 0:
            text = last or f"exit status {status}"
            address = args[args.index("-address") + 1] if "-address" in args else ""
            if address and not reachable(address):
                raise DaemonUnreachable(f"Cannot connect to the daemon at {address}.")
            if "-runset" in args or "-rset" in args:
                raise RuntimeConfigRefused(f"The daemon refused the runtime change: {text}", hint=RUNTIME_CONFIG_HINT)
            raise NotAuthorized(f"condor_config_val failed: {text}", hint=READ_HINT)
        return output.decode()

    def fetchlog(argv: list[str], address: str, log: str) -> bytes:
        status, output, last = run_tool("condor_fetchlog", [*argv, address, log])
        if status != 0:
            if "no log file by that name" in last:
                raise InvalidInput(f"The daemon has no {log} log for condor_fetchlog.")
            if not reachable(address):
                raise DaemonUnreachable(f"Cannot connect to the daemon at {address}.")
            raise NotAuthorized(f"condor_fetchlog failed: {last or status}", hint=ADMINISTRATOR_HINT)
        return output

    def send(address: str, my_type: str, command_id: int, subsystem: str | None) -> None:
        from htcondor2.htcondor2_impl import _send_command

        ad = location(address, my_type)
        daemon_type = {
            "DaemonMaster": htcondor2.DaemonType.Master,
            "Scheduler": htcondor2.DaemonType.Schedd,
            "Machine": htcondor2.DaemonType.Startd,
            "Collector": htcondor2.DaemonType.Collector,
            "Negotiator": htcondor2.DaemonType.Negotiator,
            "CredD": htcondor2.DaemonType.Credd,
            "HAD": htcondor2.DaemonType.HAD,
            "PlacementD": htcondor2.DaemonType.Placementd,
        }.get(my_type, htcondor2.DaemonType.Generic)
        try:
            # The binding passes the id to C as a plain integer, so the
            # console's own (correct) numbers go through unchanged.
            _send_command(ad._handle, daemon_type, command_id, subsystem)
        except HTCondorException as exc:
            raise failure(exc, address, hint=ADMINISTRATOR_HINT) from None

    def local_config(subsystem: str) -> list[tuple[str, Any, str, str, str | None]]:
        names = sorted({name for name in htcondor2.param.keys() if name})
        # NAME as SUBSYSTEM comes from a SUBSYSTEM.NAME entry where there is one; what that entry overrides
        # is NAME as a subsystem with no entries of its own sees it.
        prefix = subsystem.upper() + "."
        prefixed = {name[len(prefix) :].upper(): name for name in names if name.upper().startswith(prefix)}
        htcondor2.set_subsystem(UNPREFIXED_SUBSYSTEM)
        overridden = {bare: htcondor2.param.get(bare) for bare in prefixed}
        htcondor2.set_subsystem(subsystem)
        rows = []
        # A knob set only as SUBSYSTEM.NAME stays that one row: the bindings' param["NAME"] is a KeyError
        # without a bare NAME entry (25.14.1), though a daemon's C++ lookup would find it.
        for name in names:
            try:
                value = htcondor2.param[name]
            except Exception:
                continue
            entry = prefixed.get(name.upper(), "")
            below = overridden.get(name.upper()) if entry else None
            rows.append((name, value, _type_name(value), entry, None if below is None else str(below)))
        return rows

    def local_reload() -> None:
        htcondor2.reload_config()

    def client_defaults() -> tuple[dict[str, Any], list[str], str]:
        # In a pool's worker CONDOR_CONFIG is /dev/null: the knobs are those the client's own parameter
        # table defines (975 in the 25.14.1 wheel), with its defaults, whatever the console host's files
        # set. The few this worker sets itself through _CONDOR_ variables (the token directories) are
        # named without a value: theirs here is not the default.
        own = {key[len("_CONDOR_") :].upper() for key in os.environ if key.startswith("_CONDOR_")}
        values: dict[str, Any] = {}
        for name in htcondor2.param.keys():
            if name and name.upper() not in own:
                try:
                    values[name] = htcondor2.param[name]
                except Exception:
                    continue
        return values, sorted(own), htcondor2.version()

    def apply_logging(debug: str, log_path: str) -> None:
        if debug and log_path:
            htcondor2.param["TOOL_DEBUG"] = debug
            htcondor2.param["TOOL_LOG"] = log_path
            htcondor2.enable_log()
        else:
            htcondor2.disable_debug()

    return {
        "discover": discover,
        "ping": ping,
        "names": names,
        "get_many": get_many,
        "set": set_,
        "config_val": config_val,
        "fetchlog": fetchlog,
        "send": send,
        "slots": slots,
        "startds_matching": startds_matching,
        "drain": drain,
        "cancel_drain": cancel_drain,
        "local_config": local_config,
        "local_reload": local_reload,
        "client_defaults": client_defaults,
        "apply_logging": apply_logging,
    }


# A subsystem name no configuration prefixes (HTCondor takes any): as it, NAME reads its bare entry.
UNPREFIXED_SUBSYSTEM = "NO_SUCH_SUBSYSTEM"


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return "str"


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _epoch(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _start_time(ad: Any) -> datetime | None:
    """When the daemon started: its own start time attribute, else its age at the ad's time.

    A 23.9 collector advertises neither DaemonStartTime nor CollectorStartTime, only MonitorSelfAge
    (seconds since it started) beside MyCurrentTime.
    """
    for attr in ("DaemonStartTime", "CollectorStartTime", "StartdStartTime"):
        if (started := _epoch(ad.get(attr))) is not None:
            return started
    # A collector just started advertises MonitorSelfAge = 0; before its first self-monitoring, none.
    now, age = _as_int(ad.get("MyCurrentTime")), ad.get("MonitorSelfAge")
    if now <= 0 or isinstance(age, bool) or not isinstance(age, int) or age < 0:
        return None
    return _epoch(now - age)


def _daemon_row(ad: Any) -> dict[str, Any]:
    my_type = str(ad.get("MyType", ""))
    kind = KIND_BY_MYTYPE.get(my_type, "generic")
    children: dict[str, str] = {}
    if kind == "master":
        # The master advertises <SUBSYS>_StartTime for each child it manages:
        # 0 while that child is not running.
        for key in ad.keys():
            if key.endswith("_StartTime"):
                subsystem = key[: -len("_StartTime")].upper()
                if subsystem != "MASTER":
                    children[subsystem] = "up" if _as_int(ad.get(key)) > 0 else "down"
    attributes = {}
    for attr in INTERESTING_ATTRIBUTES:
        if attr in ad:
            try:
                attributes[attr] = str(ad.eval(attr))
            except Exception:
                attributes[attr] = str(ad.lookup(attr))
    return {
        "kind": kind,
        "name": str(ad.get("Name", "")),
        "machine": str(ad.get("Machine", "")),
        "address": str(ad.get("MyAddress", "")),
        "version": str(ad.get("CondorVersion", "")),
        "platform": str(ad.get("CondorPlatform", "")),
        "start_time": _start_time(ad),
        "subsystem": SUBSYSTEM_BY_KIND.get(kind, str(ad.get("Name", "")).split("@")[0].upper()),
        "children": children,
        "attributes": attributes,
    }


# Bounds on what a slot ad may put in the console's pages and database: a
# daemon's ad is untrusted input.
_NAME_CHARS = 255
_TEXT_CHARS = 1024
# Slot sizes: Disk is in KiB (80 GB is 8e7 here); nothing real comes near 2**53.
_MAX_COUNT = 2**53


def _text(value: Any, limit: int = _NAME_CHARS) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _count(value: Any) -> int:
    """A slot's size from an ad: whole, 0..2**53; 0 for anything else (a bool, a string, NaN, an expression)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    try:
        return min(max(int(value), 0), _MAX_COUNT)
    except (ValueError, OverflowError):
        return 0


_SLOT_NAME_RE = re.compile(r"slot\d+(?:_\d+)?@(.+)", re.DOTALL)


def _startd_of(slot_name: str, machine: str) -> str:
    """The Name of the startd advertising a slot: the startd names it ``slotN[_M]@<its own Name>``.

    Several startds on one host differ in that Name (slot1@exec01@host).
    Before 9.7.0 a startd with a single slot gave it the startd's Name alone
    (Resource.cpp).
    """
    found = _SLOT_NAME_RE.match(slot_name)
    return found.group(1) if found else slot_name or machine


def _ad_values(ad: Any) -> dict[str, Any]:
    """A ClassAd's attributes as plain values, in one call into the bindings: JSON literals, expressions as text.

    One ``printJson`` and ``json.loads`` cost about 45 µs for a projected
    slot ad here; reading its 40 attributes one by one through the bindings
    cost about 140 µs.
    """
    try:
        values = json.loads(ad.printJson())
    except Exception:
        return {}
    return values if isinstance(values, dict) else {}


def _expression_text(value: Any) -> str:
    """An attribute's value as the ad writes it: printJson wraps an expression as "/Expr(...)/"."""
    if isinstance(value, str):
        return value[6:-2] if value.startswith("/Expr(") and value.endswith(")/") else value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def _slot_row(ad: dict[str, Any]) -> dict[str, Any]:
    """A SlotInfo's fields from a slot ad's values (``_ad_values``), whatever odd types or sizes they have."""
    name = _text(ad.get("Name"))
    machine = _text(ad.get("Machine"))
    startd = _startd_of(name, machine)
    slot_type = _text(ad.get("SlotType"))
    if slot_type not in ("Partitionable", "Dynamic", "Static"):
        is_p, is_d = ad.get("PartitionableSlot") is True, ad.get("DynamicSlot") is True
        slot_type = "Partitionable" if is_p else "Dynamic" if is_d else "Static"
    parent_id = _count(ad.get("ParentSlotId"))
    own = {key: _count(ad.get(key)) for key in ("Cpus", "Memory", "Disk", "GPUs")}
    totals = {key: _count(ad[f"TotalSlot{key}"]) if f"TotalSlot{key}" in ad else own[key] for key in own}
    draining = ad.get("Draining") is True
    return {
        "name": name,
        "startd": startd,
        "machine": machine,
        "slot_type": slot_type,
        "parent": f"slot{parent_id}@{startd}"[:_NAME_CHARS] if slot_type == "Dynamic" and parent_id else "",
        "state": _text(ad.get("State"), 64),
        "activity": _text(ad.get("Activity"), 64),
        "entered_state": _epoch(_count(ad.get("EnteredCurrentState")) or None),
        "entered_activity": _epoch(_count(ad.get("EnteredCurrentActivity")) or None),
        "cpus": own["Cpus"],
        "memory_mb": own["Memory"],
        "disk_kb": own["Disk"],
        "gpus": own["GPUs"],
        "total_cpus": totals["Cpus"],
        "total_memory_mb": totals["Memory"],
        "total_disk_kb": totals["Disk"],
        "total_gpus": totals["GPUs"],
        "job": _text(ad.get("GlobalJobId")) or _text(ad.get("JobId")),
        "user": _text(ad.get("RemoteUser")) or _text(ad.get("RemoteOwner")),
        "draining": draining,
        "drain_request_id": _text(ad.get("DrainingRequestId"), 32) if draining else "",
        "drain_reason": _text(ad.get("DrainReason"), _TEXT_CHARS) if draining else "",
        "drain_started": _epoch(_count(ad.get("LastDrainStartTime")) or None) if draining else None,
        "attributes": {key: _expression_text(ad[key])[:_TEXT_CHARS] for key in SLOT_ATTRIBUTES if key in ad},
        "address": _text(ad.get("MyAddress"), 2048),
    }


def _drain_refused(classad2: Any, ads: list[Any], check: str) -> ProtocolError:
    """Refused, with the startd's reason as ResMgr::startDraining words it, read back from its live slot ads."""
    for ad in ads:
        if ad.get("Draining") is True:
            return Refused(
                f"The startd is already draining (request {_text(ad.get('DrainingRequestId'), 32) or '?'}: "
                f"{_text(ad.get('DrainReason'), _TEXT_CHARS)!r}).",
                hint="A startd runs one drain at a time: cancel that drain first, or wait until it completes.",
            )
    if check:
        expr = classad2.ExprTree(check)
        for ad in ads:
            try:
                value = expr.eval(scope=ad)
            except Exception:
                value = None
            name = _text(ad.get("Name"))
            if value is False:
                return Refused(
                    f"The startd refused the drain: the check expression is false on {name}.",
                    hint="HTCondor drains only if the check is true on every slot; nothing was changed.",
                )
            if value is not True:
                return Refused(
                    f"The startd refused the drain: the check expression is not true or false on {name} "
                    "(an attribute it uses may be undefined there).",
                    hint="HTCondor drains only if the check is true on every slot; nothing was changed.",
                )
    return Refused(
        "The startd refused the drain.",
        hint="The HTCondor bindings do not pass on its reason: its StartLog has it ('Failed to start draining').",
    )


def _cancel_refused(ads: list[Any], request_id: str) -> ProtocolError:
    current = sorted({_text(ad.get("DrainingRequestId"), 32) for ad in ads if ad.get("Draining") is True} - {""})
    if request_id:
        now = f"its drain is request {', '.join(current)}" if current else "it is not draining"
        return Refused(
            f"The startd has no drain request {request_id}: {now}.",
            hint="Cancel without a request id to stop whatever drain it runs.",
        )
    return Refused(
        "The startd refused to cancel its drain.",
        hint="The HTCondor bindings do not pass on its reason: its StartLog has it ('Failed to cancel draining').",
    )
