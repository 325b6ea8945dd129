"""The audit trail comes first and stays as written: no row, no command; no page edits a row."""

from __future__ import annotations

import pytest
from django.contrib import admin as admin_site
from django.contrib.auth.models import User
from django.db import DatabaseError
from django.test import RequestFactory

from configview import services
from daemons.models import CommandRecord
from daemons.services import ClientInfo
from tests.configview_helpers import htcondor, make_daemon  # noqa: F401 - fixture


def test_a_change_whose_audit_row_cannot_be_written_is_not_sent(
    operator: User, htcondor, monkeypatch: pytest.MonkeyPatch  # noqa: ANN001
) -> None:
    daemon = make_daemon()

    def fail(**fields: object) -> CommandRecord:
        raise DatabaseError("disk full")

    monkeypatch.setattr(CommandRecord.objects, "create", fail)
    with pytest.raises(DatabaseError):
        services.runtime_config_change(
            user=operator, daemon=daemon, knob="UPDATE_INTERVAL", value="60", reconfig=True, client=ClientInfo()
        )
    assert [s for s in htcondor.sent if s[0] != "get"] == []


def test_the_admin_offers_no_way_to_add_change_or_delete_an_audit_row(admin: User) -> None:
    model_admin = admin_site.site._registry.get(CommandRecord)
    if model_admin is None:
        return  # not in the admin at all
    request = RequestFactory().get("/admin/")
    request.user = User.objects.create_superuser("root", password="x")
    record = CommandRecord(command="Reconfig")
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, record)
    assert not model_admin.has_delete_permission(request, record)
