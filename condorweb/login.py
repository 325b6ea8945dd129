"""Logging in without putting a secret in the address bar: a share link's path waits in the session.

Django's LoginRequiredMiddleware sends an anonymous visitor to
``/login/?next=<path>``. For a share link the path is the secret itself, and
the login page's address ends up in browser history, proxy logs and the
Referer of whatever the page loads. Views marked with ``next_in_session``
keep the path in the (server-side) session instead; the login view sends the
user there once logged in. Django's login keeps session data when it
rotates the session key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme

SESSION_KEY = "condorweb_next"

View = Callable[..., HttpResponse]


def next_in_session(view: View) -> View:
    """Mark ``view`` as one whose address must not appear in the login page's ``?next=``."""
    view.next_in_session = True  # type: ignore[attr-defined]
    return view


class LoginRequired(LoginRequiredMiddleware):
    def handle_no_permission(self, request: HttpRequest, view_func: Any) -> HttpResponse:
        if not getattr(view_func, "next_in_session", False):
            return super().handle_no_permission(request, view_func)
        request.session[SESSION_KEY] = request.get_full_path()
        return HttpResponseRedirect(resolve_url(self.get_login_url(view_func)))


class LoginView(auth_views.LoginView):
    def get_default_redirect_url(self) -> str:
        waiting = self.request.session.pop(SESSION_KEY, "")
        if waiting and url_has_allowed_host_and_scheme(waiting, allowed_hosts=None):
            return waiting
        return super().get_default_redirect_url()
