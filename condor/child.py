"""The worker process: the one module of the console that imports ``htcondor2`` and ``classad2``.

``condor.workers`` starts ``main`` in a fresh (spawned) process with one
pool's credentials. It sets HTCondor's process-wide client configuration
(``CONDOR_CONFIG``, the token directory) before it imports the bindings,
then answers calls by name from its pipe until the pipe closes. Answers are
plain values or ``condor.errors`` exceptions; nothing from the bindings
crosses the pipe.
"""

from __future__ import annotations

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
)
from condor.tools import run_tool
from condor.types import INTERESTING_ATTRIBUTES, KIND_BY_MYTYPE, NOT_DEFINED, SUBSYSTEM_BY_KIND


def main(conn: multiprocessing.connection.Connection, environment: dict[str, Any], logging_: tuple[str, str]) -> None:
    token_dir = _prepare_environment(environment)
    # HTCondor's client library prints connection failures on stderr; the
    # console reports them as exceptions instead (and in TOOL_LOG when asked).
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
    try:
        import htcondor2

        handlers = _handlers(htcondor2)
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

    def discover(collector: str) -> list[dict[str, Any]]:
        try:
            coll = htcondor2.Collector(collector)
            ads = coll.query(
                htcondor2.AdType.Any,
                constraint="member(MyType, {" + ", ".join(f'"{t}"' for t in KIND_BY_MYTYPE) + "})",
            )
        except HTCondorException as exc:
            host = collector.split(",")[0]
            addr = host if ":" in host else f"{host}:9618"
            if not reachable(f"<{addr}>"):
                raise DaemonUnreachable(
                    f"Cannot connect to the collector at {collector}.",
                    hint="Check the address and that the collector is running and reachable from the console.",
                ) from None
            raise NotAuthorized(f"The collector at {collector} refused the query: {exc}", hint=READ_HINT) from None
        return [_daemon_row(ad) for ad in ads]

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
            raise Refused(f"The daemon refused to set {knob}: {exc}", hint=RUNTIME_CONFIG_HINT) from None

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
                raise Refused(f"The daemon refused the runtime change: {text}", hint=RUNTIME_CONFIG_HINT)
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

    def local_config(subsystem: str) -> list[tuple[str, Any, str]]:
        htcondor2.set_subsystem(subsystem)
        rows = []
        for name in sorted(set(htcondor2.param.keys())):
            if not name:
                continue
            try:
                value = htcondor2.param[name]
            except Exception:
                continue
            rows.append((name, value, _type_name(value)))
        return rows

    def local_reload() -> None:
        htcondor2.reload_config()

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
        "local_config": local_config,
        "local_reload": local_reload,
        "apply_logging": apply_logging,
    }


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
        "start_time": _epoch(ad.get("DaemonStartTime", ad.get("CollectorStartTime", ad.get("StartdStartTime")))),
        "subsystem": SUBSYSTEM_BY_KIND.get(kind, str(ad.get("Name", "")).split("@")[0].upper()),
        "children": children,
        "attributes": attributes,
    }
