"""A pool and a daemon in the inventory say how the condor package reaches them."""

from __future__ import annotations

import pytest

from condor.errors import InvalidInput
from condor.types import Credentials, Target
from daemons.models import Daemon, Pool


def test_a_pools_credentials_carry_its_token_file_and_its_condor_config_val_as_one_word() -> None:
    pool = Pool(token_file="/srv/condorweb/pool.token", config_val="/opt/condor wrapper/condor_config_val")
    assert pool.credentials == Credentials(
        token_file="/srv/condorweb/pool.token", config_val=("/opt/condor wrapper/condor_config_val",)
    )


def test_a_pool_without_a_condor_config_val_command_leaves_the_tools_to_path() -> None:
    assert Pool(token_file="").credentials == Credentials()


def test_a_daemons_target_is_its_address_kind_and_name() -> None:
    daemon = Daemon(kind="schedd", name="schedd@node1", address="<10.0.0.1:9618?sock=schedd_1>")
    assert daemon.target == Target(address="<10.0.0.1:9618?sock=schedd_1>", kind="schedd", name="schedd@node1")


def test_a_daemon_without_an_address_has_no_target() -> None:
    with pytest.raises(InvalidInput):
        Daemon(kind="schedd", name="schedd@node1", address="").target  # noqa: B018 - the property raises
