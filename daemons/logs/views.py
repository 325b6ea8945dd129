"""Live-log pages: a daemon's log, its download, and the console's own client log (Diagnostics)."""

from __future__ import annotations

import dataclasses
import os
import re

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

import condor.workers
from daemons import access
from daemons.crumbs import daemon_trail
from daemons.inventory import selectors as inventory_selectors
from daemons.logs import logstream, services
from daemons.logs.forms import ClientLoggingForm, LogChoiceForm
from daemons.models import Daemon
from engine import selectors as engine_selectors

VIEW_LOGS = "daemons.view_logs"
DIAGNOSTICS = "daemons.manage_diagnostics"


def _chosen_key(request: HttpRequest, daemon: Daemon) -> tuple[LogChoiceForm, str, logstream.LogUnavailable | None]:
    """The log the request names, among those the daemon's configuration lists (its own log by default)."""
    try:
        keys = logstream.log_keys(daemon)
        problem = None
    except logstream.LogUnavailable as exc:
        keys, problem = [logstream.default_key(daemon)], exc
    form = LogChoiceForm({"log": request.GET.get("log") or keys[0]}, keys=keys)
    return form, form.cleaned_data["log"] if form.is_valid() else keys[0], problem


@require_GET
def daemon_log(request: HttpRequest, daemon_id: int) -> HttpResponse:
    daemon = access.daemon_for(request.user, daemon_id, perm=VIEW_LOGS)
    form, key, problem = _chosen_key(request, daemon)
    viewer = logstream.daemon_log_view(daemon, key, with_tail=problem is None)
    if problem is not None:
        viewer = dataclasses.replace(viewer, problem=problem)
    context = {
        "daemon": daemon,
        "pool": daemon.pool,
        "form": form,
        "viewer": viewer,
        "nav": "pools",
        "breadcrumbs": [*daemon_trail(daemon), {"label": "Live log", "url": ""}],
    }
    return render(request, "daemons/daemon_log.html", context)


@require_GET
def daemon_log_download(request: HttpRequest, daemon_id: int) -> HttpResponse:
    daemon = access.daemon_for(request.user, daemon_id, perm=VIEW_LOGS)
    _form, key, problem = _chosen_key(request, daemon)
    try:
        if problem is not None:
            raise problem
        location = logstream.locate(daemon, key)
        handle = logstream.open_log(location)
    except logstream.LogUnavailable as exc:
        messages.error(request, f"The log cannot be downloaded: {exc}")
        return redirect(reverse("daemons:daemon_log", args=[daemon.pk]) + f"?log={key}")
    name = f"{daemon.pool.name}-{daemon.name}-{os.path.basename(location.path)}.txt"
    return _download(handle, name)


@require_http_methods(["GET", "POST"])
def diagnostics(request: HttpRequest) -> HttpResponse:
    access.require(request.user, DIAGNOSTICS)
    debug, _log_path = condor.workers.client_logging()
    form = ClientLoggingForm(request.POST or None, initial={"debug": debug})
    if request.method == "POST" and form.is_valid():
        services.client_logging_set(user=request.user, debug=form.cleaned_data["debug"])
        level = form.cleaned_data["debug"]
        messages.success(
            request, f"HTCondor client logging is {'set to ' + level if level else 'off'} in this process."
        )
        return redirect("daemons:diagnostics")
    context = {
        "form": form,
        "debug": debug,
        "engine": engine_selectors.engine_status(),
        "watched": inventory_selectors.pools_watched(),
        "watch_interval": settings.CONDORWEB_WATCH_INTERVAL,
        "viewer": logstream.client_log_view(with_tail=True),
        "nav": "diagnostics",
        "breadcrumbs": [{"label": "Diagnostics", "url": ""}],
    }
    return render(request, "daemons/diagnostics.html", context)


@require_GET
def client_log_download(request: HttpRequest) -> HttpResponse:
    access.require(request.user, DIAGNOSTICS)
    try:
        handle = logstream.open_log(logstream.client_log_location())
    except logstream.LogUnavailable as exc:
        messages.error(request, f"The client log cannot be downloaded: {exc}")
        return redirect("daemons:diagnostics")
    return _download(handle, "condorweb-htcondor-client.log.txt")


def _download(handle: object, name: str) -> StreamingHttpResponse:
    """What the file holds now, streamed as plain text a chunk at a time: never rendered, so nothing in it is markup."""
    response = StreamingHttpResponse(logstream.download_chunks(handle), content_type="text/plain; charset=utf-8")
    filename = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
