"""Draining startds for maintenance: one from its page, several of a pool at once, and cancelling."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from condor.errors import ProtocolError
from daemons import access
from daemons.commands import services
from daemons.commands.selectors import BULK_LIMIT
from daemons.commands.services import ClientInfo
from daemons.crumbs import pool_crumb, pools_crumb
from daemons.drains import selectors
from daemons.drains.forms import BulkCancelForm, BulkDrainForm, CancelDrainForm, DrainSelectForm, drain_form
from daemons.models import CommandRecord, Daemon, Pool


def _startd_for(request: HttpRequest, daemon_id: int, command: str, client: ClientInfo) -> Daemon:
    """The startd a drain POST names, if the user may drain; a refusal is recorded against it."""
    with services.refusal_recorded(user=request.user, command=command, daemon_ids=[daemon_id], client=client):
        daemon = access.daemon_for(request.user, daemon_id)
        access.require(request.user, access.SEND_DRAIN)
    return daemon


def _answer(request: HttpRequest, daemon: Daemon, record: CommandRecord | None, form: object) -> HttpResponse:
    if request.htmx:
        context = {"daemon": daemon, "drain_panel": selectors.drain_panel(request.user, daemon)}
        context |= {"drain_record": record, "drain_form": form, "drain_choices": drain_form(None, daemon)}
        return render(request, "daemons/_drain_panel.html", context)
    if record is not None:
        level = messages.SUCCESS if record.outcome == CommandRecord.Outcome.SENT else messages.ERROR
        messages.add_message(request, level, record.outcome_text)
    else:
        for errors in form.errors.values():  # type: ignore[attr-defined]
            for error in errors:
                messages.error(request, f"Nothing was sent: {error}")
    return redirect("daemons:daemon_detail", daemon.pk)


@require_POST
def daemon_drain(request: HttpRequest, daemon_id: int) -> HttpResponse:
    client = ClientInfo.from_request(request)
    daemon = _startd_for(request, daemon_id, services.DRAIN, client)
    form = drain_form(request.POST, daemon)
    record = None
    if daemon.kind != "startd":
        form.add_error(None, f"Only startds drain; {daemon.name} is a {daemon.kind}.")
    elif form.is_valid():
        record = services.drain_send(user=request.user, daemon=daemon, request=form.drain_request(), client=client)
    return _answer(request, daemon, record, form)


@require_POST
def daemon_drain_cancel(request: HttpRequest, daemon_id: int) -> HttpResponse:
    client = ClientInfo.from_request(request)
    daemon = _startd_for(request, daemon_id, services.CANCEL_DRAIN, client)
    form = CancelDrainForm(request.POST)
    record = None
    if daemon.kind != "startd":
        form.add_error(None, f"Only startds drain; {daemon.name} is a {daemon.kind}.")
    elif form.is_valid():
        record = services.drain_cancel(
            user=request.user, daemon=daemon, request_id=form.cleaned_data["request_id"], client=client
        )
    return _answer(request, daemon, record, form)


@require_http_methods(["GET", "POST"])
def pool_drain(request: HttpRequest, pool_id: int) -> HttpResponse:
    """GET chooses startds and previews them; POST drains the previewed ones, or (action=cancel) cancels their
    drains."""
    client = ClientInfo.from_request(request)
    if request.method != "POST":
        attempted = ""  # a GET sends nothing, so it records nothing
    else:
        attempted = services.CANCEL_DRAIN if request.POST.get("action") == "cancel" else services.DRAIN
    with services.refusal_recorded(
        user=request.user, command=attempted, daemon_ids=request.POST.getlist("daemons"), pool_id=pool_id, client=client
    ):
        pool = access.pool_for(request.user, pool_id)
        access.require(request.user, access.SEND_DRAIN)
    if request.method == "POST":
        return _bulk_send(request, pool, client, cancel=attempted == services.CANCEL_DRAIN)
    select = DrainSelectForm(request.GET or None, pool=pool)
    preview = send = None
    if select.is_valid():
        try:
            preview = selectors.drain_preview(pool, select)
        except ProtocolError as exc:
            select.add_error("constraint", f"The collector could not evaluate it: {exc}")
        else:
            send = BulkDrainForm(initial={"daemons": preview.startds}, pool=pool)
    return _bulk_page(request, pool, select=select, send=send, preview=preview)


def _bulk_send(request: HttpRequest, pool: Pool, client: ClientInfo, *, cancel: bool) -> HttpResponse:
    form = BulkCancelForm(request.POST, pool=pool) if cancel else BulkDrainForm(request.POST, pool=pool)
    if form.is_valid():
        daemons = list(form.cleaned_data["daemons"])
        try:
            if isinstance(form, BulkDrainForm):
                batch = services.drain_batch_start(
                    user=request.user, daemons=daemons, request=form.drain_request(), client=client
                )
            else:
                batch = services.drain_cancel_batch_start(user=request.user, daemons=daemons, client=client)
        except services.QueueFull as exc:
            form.add_error(None, str(exc))
        else:
            url = reverse("daemons:pool_command_batch", args=[pool.pk, batch])
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    preview = selectors.DrainPreview(startds=list(form.cleaned_data.get("daemons") or []), unknown=[])
    if cancel:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, f"Nothing was cancelled: {error}")
        form = BulkDrainForm(initial={"daemons": preview.startds}, pool=pool)
    return _bulk_page(request, pool, select=DrainSelectForm(pool=pool), send=form, preview=preview)


def _bulk_page(
    request: HttpRequest,
    pool: Pool,
    *,
    select: DrainSelectForm,
    send: BulkDrainForm | None,
    preview: selectors.DrainPreview | None,
) -> HttpResponse:
    context = {
        "pool": pool,
        "select": select,
        "send": send,
        "preview": preview,
        "bulk_limit": BULK_LIMIT,
        "nav": "pools",
        "breadcrumbs": [pools_crumb(), pool_crumb(pool), {"label": "Drain", "url": ""}],
    }
    return render(request, "daemons/pool_drain.html", context)
