from django.urls import path

from daemons import views

app_name = "daemons"
urlpatterns = [
    path("", views.pool_list, name="pool_list"),
]
