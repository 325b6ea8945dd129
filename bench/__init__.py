"""``make bench``: every speed and memory figure, each beside its target and anchor.

Each area is a module here with ``run(context) -> list[Row]``; ``__main__``
runs them all in one process, one after another, and prints one table.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Row:
    figure: str  # what was measured, e.g. "pool page p50 (10,000 daemons)"
    value: float
    unit: str  # "ms", "s", "lines/s", "queries", ...
    target: str  # the target, e.g. "<= 100 ms"
    met: bool | None  # None where there is no target
    anchor: str = ""  # what it is compared with, measured in the same run, e.g. "condor_config_val -dump"
    anchor_value: float | None = None
    note: str = ""


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3f}"
    return f"{text} {unit}".strip()


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time ``pid`` has used so far (0 once it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
