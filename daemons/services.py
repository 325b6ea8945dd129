"""Writes for the daemons app. Keyword-only, one transaction each."""

from __future__ import annotations

from django.db import transaction

from daemons.models import Pool


@transaction.atomic
def pool_upsert(
    *,
    name: str,
    collector: str,
    token_file: str = "",
    log_path_from: str = "/",
    log_path_to: str = "/",
    config_val: str = "",
    description: str = "",
) -> Pool:
    """Create the pool called ``name`` or update it to these settings."""
    pool, _ = Pool.objects.update_or_create(
        name=name,
        defaults={
            "collector": collector,
            "token_file": token_file,
            "log_path_from": log_path_from,
            "log_path_to": log_path_to,
            "config_val": config_val,
            "description": description,
        },
    )
    return pool
