"""Run every benchmark area and print one table (see bench/__init__.py)."""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time

import django

from bench import Row, fmt

# Areas, in the order the table shows them; each is bench/<name>.py with run(context).
AREAS = ["config", "inventory", "slots", "drains", "logs", "commands", "engine", "load"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; an area that is not in AREAS is an error naming those that are."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--only",
        nargs="*",
        default=None,
        choices=AREAS,
        metavar="AREA",
        help=f"areas to run, of {', '.join(AREAS)} (default: all)",
    )
    parser.add_argument("--markdown", default="", help="also write the table to this file")
    return parser.parse_args(argv)


def main() -> int:
    args = parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "condorweb.settings")
    django.setup()

    from bench.context import BenchContext

    rows: list[Row] = []
    started = time.monotonic()
    with BenchContext() as context:
        for area in args.only or AREAS:
            module = importlib.import_module(f"bench.{area}")
            print(f"-- running {area} ...", file=sys.stderr, flush=True)
            rows.extend(module.run(context))
    table = render(rows)
    header = f"condorweb benchmarks: {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}, {time.monotonic() - started:.0f} s"
    print(header)
    print(table)
    if args.markdown:
        with open(args.markdown, "w") as handle:
            handle.write(f"{header}\n\n{table}\n")
    return 0 if all(r.met is not False for r in rows) else 1


def render(rows: list[Row]) -> str:
    lines = [
        "| figure | measured | target | met | anchor (same run) | anchor | note |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        met = {True: "yes", False: "NO", None: "-"}[r.met]
        lines.append(
            f"| {r.figure} | {fmt(r.value, r.unit)} | {r.target} | {met} | {r.anchor} | {fmt(r.anchor_value, r.unit)} | {r.note} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
