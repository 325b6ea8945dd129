"""The audit trail comes first: a runtime change whose row cannot be written is not sent.

(Commands: tests/commands/test_daemon_command_service.py; the read-only admin: tests/commands/test_command_admin.py.)
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import DatabaseError

from configview import services
from daemons.commands.services import ClientInfo
from daemons.models import CommandRecord
from tests.configview.helpers import make_daemon


def test_a_change_whose_audit_row_cannot_be_written_is_not_sent(
    operator: User, htcondor, monkeypatch: pytest.MonkeyPatch
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
