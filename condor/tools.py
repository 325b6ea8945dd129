"""HTCondor's command-line tools: finding them, running them within bounds, reading what they print.

The bindings cannot remove a runtime value, say where a value comes from, or
fetch a log, so ``condor_config_val`` and ``condor_fetchlog`` do those.
``run_tool`` runs in a worker process (``condor.child``), so a host-installed
tool sees that worker's pool token and nothing else; finding the tools and
parsing their output happens in the console's process.
"""

from __future__ import annotations

import os
import re
import selectors
import shutil
import subprocess
import time
from collections.abc import Iterator

from condor.errors import OutputTooLarge, ProtocolTimeout, Refused, ToolsUnavailable
from condor.types import Credentials

# condor_config_val -dump -verbose takes about 0.8 s on loopback; leave room for real networks.
TOOL_TIMEOUT = 60.0
# The most a tool's output may hold. condor_config_val -dump -verbose of a
# master prints about 250 KiB; condor_fetchlog prints a whole log (HTCondor
# rotates them at 10 MiB by default), which a hostile daemon could make
# endless: the console stops reading and kills the tool past this.
TOOL_OUTPUT_LIMIT = 64 * 2**20


def run_tool(tool: str, argv: list[str]) -> tuple[int, bytes, str]:
    """``argv`` run within the tools' bound: its exit status, its output, and the last line it printed."""
    try:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except FileNotFoundError:
        raise ToolsUnavailable(f"{argv[0]} is not installed on the console host.") from None
    with process:
        try:
            stdout, stderr = _bounded_output(tool, process)
        finally:
            if process.poll() is None:
                process.kill()
    printed = (stderr or stdout).decode(errors="replace").strip().splitlines()
    return process.returncode, stdout, printed[-1] if printed else ""


def _bounded_output(tool: str, process: subprocess.Popen) -> tuple[bytes, bytes]:
    """What ``process`` prints on stdout and stderr until it exits, within the tools' time and size bounds."""
    deadline = time.monotonic() + TOOL_TIMEOUT
    printed = {process.stdout: bytearray(), process.stderr: bytearray()}
    with selectors.DefaultSelector() as selector:
        for stream in printed:
            selector.register(stream, selectors.EVENT_READ)
        while selector.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                raise ProtocolTimeout(f"{tool} did not finish in time.")
            for key, _ in selector.select(left):
                data = os.read(key.fd, 64 * 1024)
                if not data:
                    selector.unregister(key.fileobj)
                    continue
                printed[key.fileobj] += data
                if len(printed[key.fileobj]) > TOOL_OUTPUT_LIMIT:
                    raise OutputTooLarge(
                        f"{tool} printed more than {TOOL_OUTPUT_LIMIT // 2**20} MiB; the console stopped reading it.",
                        hint="Read the log on the daemon's host, or give the pool a log-path mapping so the "
                        "console reads the file itself.",
                    )
    try:
        process.wait(timeout=max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        raise ProtocolTimeout(f"{tool} did not finish in time.") from None
    return bytes(printed[process.stdout]), bytes(printed[process.stderr])


def config_val_command(credentials: Credentials) -> list[str]:
    """The pool's condor_config_val command, else the one on PATH."""
    if credentials.config_val:
        return list(credentials.config_val)
    return _on_path("condor_config_val")


def fetchlog_command(credentials: Credentials) -> list[str]:
    """condor_fetchlog beside the pool's condor_config_val command, else on PATH."""
    argv = list(credentials.config_val)
    if argv and os.path.basename(argv[-1]) == "condor_config_val":
        return [*argv[:-1], os.path.join(os.path.dirname(argv[-1]), "condor_fetchlog")]
    return _on_path("condor_fetchlog")


def _on_path(tool: str) -> list[str]:
    found = shutil.which(tool)
    if not found:
        raise ToolsUnavailable(
            f"HTCondor's {tool} is not installed on the console host.",
            hint="Install HTCondor's command-line tools next to the console, or set the pool's condor_config_val command.",
        )
    return [found]


def tools_available(credentials: Credentials) -> bool:
    try:
        config_val_command(credentials)
    except ToolsUnavailable:
        return False
    return True


def fetchlog_available(credentials: Credentials) -> bool:
    try:
        fetchlog_command(credentials)
    except ToolsUnavailable:
        return False
    return True


_RUNTIME_SOURCE_RE = re.compile(r"<runtime>, line (\d+)\Z")


def parse_runtime_values(output: str) -> list[tuple[str, str]]:
    """The ``<runtime>`` entries of ``condor_config_val -dump -verbose`` output, in the daemon's list order."""
    places: dict[int, tuple[str, str]] = {}
    for name, value, source in _dump_entries(output):
        found = _RUNTIME_SOURCE_RE.match(source)
        if found:
            places[int(found.group(1))] = (name, value)
    if sorted(places) != list(range(len(places))):
        raise Refused(
            "The daemon holds runtime values the console cannot see (one hidden by a later value for the same knob), "
            "so it cannot remove one safely.",
            hint="Restart the daemon to drop every runtime value, then set again those you need.",
        )
    return [places[place] for place in sorted(places)]


def parse_config_dump_sources(output: str) -> dict[str, str]:
    """Read ``condor_config_val -dump -verbose``: each ``NAME = value`` is followed by `` # at: SOURCE``."""
    return {name: source for name, _value, source in _dump_entries(output)}


def _dump_entries(output: str) -> Iterator[tuple[str, str, str]]:
    """``(name, raw value, source)`` of each knob in ``condor_config_val -dump -verbose`` output."""
    current: tuple[str, str] | None = None
    for line in output.splitlines():
        if line.startswith(" # at: ") and current:
            yield (*current, line[len(" # at: ") :].strip())
            current = None
        elif line and not line.startswith((" ", "#")) and " = " in line:
            name, value = line.split(" = ", 1)
            current = (name.strip(), value)
        elif line and not line.startswith((" ", "#")) and line.rstrip().endswith(" ="):
            current = (line.rstrip()[:-2].strip(), "")
