"""Daemon commands from the console (one daemon, or several of a pool at once) and the audit page."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling, push_url

from daemons import access
from daemons.commands import selectors, services
from daemons.commands.forms import (
    AuditFilterForm,
    BulkSelectForm,
    BulkSendForm,
    CommandForm,
    requested_command,
)
from daemons.commands.services import ClientInfo
from daemons.crumbs import pool_crumb, pools_crumb
from daemons.inventory.selectors import pools_for_user
from daemons.models import CommandRecord, Daemon, Pool

AUDIT_PAGE_SIZE = 50


def _report(request: HttpRequest, record: CommandRecord) -> None:
    level = messages.SUCCESS if record.outcome == CommandRecord.Outcome.SENT else messages.ERROR
    messages.add_message(request, level, record.outcome_text)


@require_POST
def daemon_command(request: HttpRequest, daemon_id: int) -> HttpResponse:
    client = ClientInfo.from_request(request)
    command = requested_command(request.POST)
    with services.refusal_recorded(
        user=request.user,
        command=command.name if command else "",
        daemon_ids=[daemon_id],
        subsystem=request.POST.get("subsystem", ""),
        client=client,
    ):
        daemon = access.daemon_for(request.user, daemon_id)
        if command is not None and not access.may_send(request.user, command):
            raise PermissionDenied
    form = CommandForm(request.POST, daemon=daemon)
    record = None
    if form.is_valid():
        data = form.cleaned_data
        record = services.command_send(
            user=request.user, daemon=daemon, command=data["command"], subsystem=data["subsystem"], client=client
        )
    if request.htmx:
        context = {
            "command_panel": selectors.command_panel(request.user, daemon),
            "command_form": form,
            "command_record": record,
        }
        return render(request, "daemons/_command_panel.html", context)
    if record is not None:
        _report(request, record)
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, f"Nothing was sent: {error}")
    return redirect("daemons:daemon_detail", daemon.pk)


@require_http_methods(["GET", "POST"])
def pool_commands(request: HttpRequest, pool_id: int) -> HttpResponse:
    if request.method == "POST":
        return _bulk_send(request, pool_id)
    pool = access.pool_for(request.user, pool_id)
    commands = selectors.sendable_commands(request.user)
    if not commands:
        raise PermissionDenied
    select = BulkSelectForm(request.GET or None, commands=commands)
    targets: list[Daemon] = []
    send = None
    if select.is_valid():
        targets = selectors.bulk_targets(pool, select.cleaned_data["command"], select.target_filter())
        send = BulkSendForm(
            initial={
                **select.cleaned_data,
                "command": select.cleaned_data["command"].name,
                "daemons": targets[: selectors.BULK_LIMIT],
            },
            commands=commands,
            pool=pool,
        )
    return _bulk_page(request, pool, select=select, send=send, targets=targets)


def _bulk_send(request: HttpRequest, pool_id: int) -> HttpResponse:
    client = ClientInfo.from_request(request)
    command = requested_command(request.POST)
    with services.refusal_recorded(
        user=request.user,
        command=command.name if command else "",
        daemon_ids=request.POST.getlist("daemons"),
        pool_id=pool_id,
        subsystem=request.POST.get("subsystem", ""),
        client=client,
    ):
        pool = access.pool_for(request.user, pool_id)
        if command is not None and not access.may_send(request.user, command):
            raise PermissionDenied
    commands = selectors.sendable_commands(request.user)
    send = BulkSendForm(request.POST, commands=commands, pool=pool)
    select = BulkSelectForm(request.POST, commands=commands)
    select.is_valid()
    if send.is_valid():
        data = send.cleaned_data
        try:
            batch = services.command_batch_start(
                user=request.user,
                daemons=list(data["daemons"]),
                command=data["command"],
                subsystem=data["subsystem"],
                client=client,
            )
        except services.QueueFull as exc:
            send.add_error(None, str(exc))
        else:
            if request.htmx:
                return push_url(_outcome_page(request, pool, batch, select=select), _batch_url(pool, batch))
            return redirect(_batch_url(pool, batch))
    targets = list(
        send.fields["daemons"].queryset.filter(pk__in=[i for i in request.POST.getlist("daemons") if i.isdigit()])
    )
    return _bulk_page(request, pool, select=select, send=send, targets=targets)


@require_GET
def pool_command_batch(request: HttpRequest, pool_id: int, batch: uuid.UUID) -> HttpResponse:
    try:
        pool = access.pool_for(request.user, pool_id)
        commands = selectors.sendable_commands(request.user)
        if not commands:
            raise PermissionDenied
        return _outcome_page(request, pool, batch, select=BulkSelectForm(commands=commands))
    except (Http404, PermissionDenied):
        if request.htmx:
            # A poll whose page went away (pool deleted, access withdrawn) stops instead of retrying every second.
            return HttpResponseStopPolling()
        raise


def _outcome_page(request: HttpRequest, pool: Pool, batch: uuid.UUID, *, select: BulkSelectForm) -> HttpResponse:
    found = selectors.command_batch(pool, batch)
    if found is None:
        raise Http404("No such command to this pool's daemons.")
    return _bulk_page(request, pool, select=select, send=None, targets=[], batch=found)


def _batch_url(pool: Pool, batch: uuid.UUID) -> str:
    return reverse("daemons:pool_command_batch", args=[pool.pk, batch])


def _bulk_page(
    request: HttpRequest,
    pool: Pool,
    *,
    select: BulkSelectForm,
    send: BulkSendForm | None,
    targets: list[Daemon],
    batch: selectors.CommandBatch | None = None,
) -> HttpResponse:
    context = {
        "pool": pool,
        "select": select,
        "send": send,
        "targets": targets[: selectors.BULK_LIMIT],
        "too_many": len(targets) > selectors.BULK_LIMIT,
        "bulk_limit": selectors.BULK_LIMIT,
        "batch": batch,
        "batch_url": _batch_url(pool, batch.id) if batch else "",
        "nav": "pools",
        "breadcrumbs": [
            pools_crumb(),
            pool_crumb(pool),
            {"label": "Commands", "url": ""},
        ],
    }
    template = "daemons/pool_commands.html#bulk" if request.htmx else "daemons/pool_commands.html"
    return render(request, template, context)


@require_GET
def audit(request: HttpRequest) -> HttpResponse:
    access.require(request.user, "daemons.view_commandrecord")
    form = AuditFilterForm(request.GET, pools=pools_for_user(request.user))
    records = selectors.command_records(request.user, form.filters())
    page = Paginator(records, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "nav": "audit", "breadcrumbs": [{"label": "Audit", "url": ""}]}
    template = "daemons/audit.html#records" if request.htmx else "daemons/audit.html"
    return render(request, template, context)
