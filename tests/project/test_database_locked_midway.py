"""A database that locks up in the middle of a change: a clear 503 and nothing half-written."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from configview.models import ConfigSnapshot, Share
from tests.configview.helpers import make_daemon, make_snapshot
from tests.project.test_database_unavailable import _locked


def test_a_share_of_the_live_config_leaves_no_captured_snapshot_when_the_share_cannot_be_stored(
    logged_in: Client, htcondor, monkeypatch: pytest.MonkeyPatch
) -> None:
    after = make_snapshot(make_daemon(), {"UPDATE_INTERVAL": "5"})
    snapshots = ConfigSnapshot.objects.count()
    monkeypatch.setattr(Share.objects, "create", _locked)

    response = logged_in.post(reverse("configview:share_create"), {"left": "local", "right": after.pk})

    assert response.status_code == 503
    assert "The database is busy with another change." in response.text
    assert ConfigSnapshot.objects.count() == snapshots
    assert Share.objects.count() == 0
