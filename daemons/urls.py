from django.urls import path

from daemons import command_views, log_views, views

app_name = "daemons"
urlpatterns = [
    path("", views.pool_list, name="pool_list"),
    path("pool/add/", views.pool_add, name="pool_add"),
    path("pool/<int:pool_id>/", views.pool_detail, name="pool_detail"),
    path("pool/<int:pool_id>/edit/", views.pool_edit, name="pool_edit"),
    path("pool/<int:pool_id>/refresh/", views.pool_refresh, name="pool_refresh"),
    path("daemon/<int:daemon_id>/", views.daemon_detail, name="daemon_detail"),
    # Live logs
    path("daemon/<int:daemon_id>/log/", log_views.daemon_log, name="daemon_log"),
    path("daemon/<int:daemon_id>/log/download/", log_views.daemon_log_download, name="daemon_log_download"),
    path("diagnostics/", log_views.diagnostics, name="diagnostics"),
    path("diagnostics/client-log/download/", log_views.client_log_download, name="client_log_download"),
    # Commands and their audit trail
    path("daemon/<int:daemon_id>/command/", command_views.daemon_command, name="daemon_command"),
    path("pool/<int:pool_id>/commands/", command_views.pool_commands, name="pool_commands"),
    path("pool/<int:pool_id>/commands/<uuid:batch>/", command_views.pool_command_batch, name="pool_command_batch"),
    path("audit/", command_views.audit, name="audit"),
]
