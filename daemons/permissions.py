"""Which console permission each HTCondor command needs, and the default groups."""

from __future__ import annotations

from typing import Any

from condor.commands import Command

COMMAND_PERMISSIONS: dict[Command, str] = {
    Command.Reconfig: "daemons.send_reconfig",
    Command.DaemonOn: "daemons.send_daemon_on",
    Command.DaemonsOn: "daemons.send_daemon_on",
    Command.DaemonOff: "daemons.send_daemon_off",
    Command.DaemonOffPeaceful: "daemons.send_daemon_off",
    Command.SetPeacefulShutdown: "daemons.send_daemon_off",
    Command.DaemonOffFast: "daemons.send_daemon_off_fast",
    Command.SetForceShutdown: "daemons.send_daemon_off_fast",
    Command.DaemonsOff: "daemons.send_daemons_off",
    Command.DaemonsOffFast: "daemons.send_daemons_off",
    Command.DaemonsOffPeaceful: "daemons.send_daemons_off",
    Command.Restart: "daemons.send_restart",
    Command.RestartPeaceful: "daemons.send_restart",
    Command.OffGraceful: "daemons.send_shutdown",
    Command.OffPeaceful: "daemons.send_shutdown",
    Command.OffFast: "daemons.send_shutdown",
    Command.OffForce: "daemons.send_shutdown",
}


VIEWERS = "Viewers"
OPERATORS = "Operators"
ADMINISTRATORS = "Administrators"

# Codenames per group, as "app_label.codename". Operators get what can be
# undone from the console; Administrators get everything.
_VIEW = [
    "daemons.view_pool",
    "daemons.view_daemon",
    "daemons.view_logs",
    "configview.view_configsnapshot",  # local config, snapshots, diffs
    "configview.add_share",
]
_OPERATE = [
    "daemons.send_reconfig",
    "daemons.send_daemon_on",
    "daemons.send_daemon_off",
    "daemons.set_runtime_config",
    "daemons.send_drain",  # a drain is cancelled as easily as it is asked for
    "configview.add_configsnapshot",  # fetch a daemon's configuration, capture the local one
    "configview.reload_local_config",
]
_ADMINISTER = [
    "daemons.send_daemon_off_fast",
    "daemons.send_daemons_off",
    "daemons.send_restart",
    "daemons.send_shutdown",
    "daemons.manage_diagnostics",
    "daemons.add_pool",
    "daemons.change_pool",
    "daemons.delete_pool",
    "daemons.view_commandrecord",
    "daemons.view_daemonstatechange",  # the pools' state history, in the Django admin
    "configview.view_share",  # every share, in the Django admin
]
GROUP_PERMISSIONS: dict[str, list[str]] = {
    VIEWERS: _VIEW,
    OPERATORS: _VIEW + _OPERATE,
    ADMINISTRATORS: _VIEW + _OPERATE + _ADMINISTER,
}


def sync_default_groups(apps: Any) -> None:
    """Give the default groups every permission listed above that exists now.

    Called by data migrations (with their historical ``apps``) whenever an app
    adds permissions, so this table stays the one place that says who may do what.
    """
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        # Permissions are normally created after all migrations have run;
        # create_permissions skips app configs without a models module.
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for perm in perms:
            app_label, codename = perm.split(".")
            found = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if found is not None:
                group.permissions.add(found)
