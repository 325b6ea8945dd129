"""``manage.py devpool up|down|status``: a real HTCondor pool on loopback for development."""

from __future__ import annotations

import pwd
import shlex
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from daemons.inventory import services
from devtools import devpool


class Command(BaseCommand):
    help = "Start, stop or inspect the real HTCondor dev pool and register it in the console."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["up", "down", "status"])
        parser.add_argument("--name", default="dev", help="Instance name (default: dev).")
        parser.add_argument("--port", type=int, default=9618, help="Collector port (default: 9618).")
        parser.add_argument(
            "--execute-nodes",
            type=int,
            default=0,
            help="Execute nodes besides minicondor's own startd, each one partitionable slot (default: 0).",
        )
        parser.add_argument(
            "--token-owner",
            default="",
            help="The user the console runs as, who gets the console's token (default: it keeps its owner).",
        )

    def handle(
        self, *args: Any, action: str, name: str, port: int, execute_nodes: int, token_owner: str, **options: Any
    ) -> None:
        if action == "down":
            devpool.down(name)
            self.stdout.write(f"Dev pool {name!r} stopped.")
            return
        if action == "status":
            for key, value in devpool.status(name).items():
                self.stdout.write(f"{key}: {value}")
            return
        self.stdout.write(
            f"Starting the HTCondor dev pool {name!r} on 127.0.0.1:{port} (the first run bootstraps it)..."
        )
        try:
            pool_info = devpool.up(name, port, execute_nodes=execute_nodes, token_owner=_user(token_owner))
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        except devpool.DevPoolUnavailable as exc:
            raise CommandError(f"The dev pool cannot run on this machine: {exc}") from None
        except (RuntimeError, TimeoutError) as exc:
            raise CommandError(f"The dev pool did not start: {exc}") from None
        pool = services.pool_save(
            name=name,
            collector=pool_info.collector,
            token_file=pool_info.token_file,
            log_path_from="/",
            log_path_to=pool_info.host_root.rstrip("/") + "/" if pool_info.host_root else "/",
            config_val=shlex.join(pool_info.config_val),
            description=f"Development pool started by condorweb ({pool_info.route}).",
        )
        pool = services.pool_refresh(pool=pool)
        found = pool.daemons.count()
        if pool.last_refresh_error:
            raise CommandError(f"The dev pool started but the console cannot read it: {pool.last_refresh_error}")
        self.stdout.write(
            self.style.SUCCESS(f"Dev pool {name!r} is up at {pool_info.collector}: {found} daemons registered.")
        )
        if pool_info.execute_nodes:
            self.stdout.write(f"Execute nodes: {', '.join(pool_info.execute_nodes)}.")


def _user(name: str) -> tuple[int, int] | None:
    if not name:
        return None
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise CommandError(f"There is no user {name!r} to own the console's token.") from None
    return entry.pw_uid, entry.pw_gid
