from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path

from condorweb.login import LoginView

urlpatterns = [
    path("login/", login_not_required(LoginView.as_view()), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("config/", include("configview.urls")),
    path("", include("daemons.urls")),
]

handler500 = "condorweb.errors.server_error"
