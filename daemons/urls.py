from django.urls import path

from daemons import views

app_name = "daemons"
urlpatterns = [
    path("", views.pool_list, name="pool_list"),
    path("pool/add/", views.pool_add, name="pool_add"),
    path("pool/<int:pool_id>/", views.pool_detail, name="pool_detail"),
    path("pool/<int:pool_id>/edit/", views.pool_edit, name="pool_edit"),
    path("pool/<int:pool_id>/refresh/", views.pool_refresh, name="pool_refresh"),
    path("daemon/<int:daemon_id>/", views.daemon_detail, name="daemon_detail"),
]
