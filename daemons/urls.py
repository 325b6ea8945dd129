from django.urls import path

from daemons.commands import views as commands
from daemons.drains import views as drains
from daemons.inventory import views as inventory
from daemons.logs import views as logs

app_name = "daemons"
urlpatterns = [
    path("", inventory.pool_list, name="pool_list"),
    path("pool/add/", inventory.pool_add, name="pool_add"),
    path("pool/<int:pool_id>/", inventory.pool_detail, name="pool_detail"),
    path("pool/<int:pool_id>/edit/", inventory.pool_edit, name="pool_edit"),
    path("pool/<int:pool_id>/refresh/", inventory.pool_refresh, name="pool_refresh"),
    path("pool/<int:pool_id>/machines/", inventory.pool_machines, name="pool_machines"),
    path("daemon/<int:daemon_id>/", inventory.daemon_detail, name="daemon_detail"),
    # Live logs
    path("daemon/<int:daemon_id>/log/", logs.daemon_log, name="daemon_log"),
    path("daemon/<int:daemon_id>/log/download/", logs.daemon_log_download, name="daemon_log_download"),
    path("diagnostics/", logs.diagnostics, name="diagnostics"),
    path("diagnostics/client-log/download/", logs.client_log_download, name="client_log_download"),
    # Commands and their audit trail
    path("daemon/<int:daemon_id>/command/", commands.daemon_command, name="daemon_command"),
    path("pool/<int:pool_id>/commands/", commands.pool_commands, name="pool_commands"),
    path("pool/<int:pool_id>/commands/<uuid:batch>/", commands.pool_command_batch, name="pool_command_batch"),
    path("audit/", commands.audit, name="audit"),
    # Draining startds
    path("daemon/<int:daemon_id>/drain/", drains.daemon_drain, name="daemon_drain"),
    path("daemon/<int:daemon_id>/drain/cancel/", drains.daemon_drain_cancel, name="daemon_drain_cancel"),
    path("pool/<int:pool_id>/drain/", drains.pool_drain, name="pool_drain"),
]
