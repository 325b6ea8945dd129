from django.urls import path

from configview import views

app_name = "configview"
urlpatterns = [
    path("", views.index, name="index"),
    path("local/", views.local, name="local"),
    path("local/reload/", views.local_reload, name="local_reload"),
    path("local/capture/", views.local_capture, name="local_capture"),
    path("daemon/<int:daemon_id>/", views.daemon_snapshots, name="daemon_snapshots"),
    path("daemon/<int:daemon_id>/fetch/", views.snapshot_fetch, name="snapshot_fetch"),
    path("daemon/<int:daemon_id>/runtime/", views.runtime_edit, name="runtime_edit"),
    path("snapshot/<int:snapshot_id>/", views.snapshot_detail, name="snapshot_detail"),
    path("diff/", views.diff, name="diff"),
    path("shares/", views.share_list, name="share_list"),
    path("shares/new/", views.share_create, name="share_create"),
    path("shares/<int:share_id>/revoke/", views.share_revoke, name="share_revoke"),
    path("s/<str:token>/", views.share_open, name="share_open"),
]
