"""Two refreshes of one pool at the same moment (a worker's job beside ``manage.py devpool up``) on PostgreSQL:
the second waits for the first and updates the daemons it added, rather than adding them again."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

import condor.client
from condor.types import DaemonInfo
from daemons.inventory import services
from daemons.models import Daemon, Pool
from tests.helpers import daemon_info

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_two_refreshes_that_both_find_a_new_daemon_record_it_once(monkeypatch: pytest.MonkeyPatch) -> None:
    assert connection.vendor == "postgresql", "the race needs a database that writes concurrently"
    pool = Pool.objects.create(name="cluster", collector="cm.example.org:9618")
    both_read = threading.Barrier(2, timeout=10)
    schedd = daemon_info("schedd", "node1")

    def discover(collector: str, credentials: object) -> list[DaemonInfo]:
        both_read.wait()  # neither writes before both have read the collector
        return [schedd]

    monkeypatch.setattr(condor.client, "discover", discover)
    monkeypatch.setattr(condor.client, "slots", lambda collector, credentials: [])
    errors: list[BaseException] = []

    def refresh() -> None:
        try:
            services.pool_refresh(pool=Pool.objects.get(pk=pool.pk))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert list(Daemon.objects.values_list("kind", "name")) == [("schedd", "node1")]
    pool.refresh_from_db()
    assert pool.last_refresh_error == ""
