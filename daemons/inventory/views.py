from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from condor.errors import (
    ADMINISTRATOR_HINT,
    READ_HINT,
    RUNTIME_CONFIG_HINT,
    ProtocolError,
)
from daemons import access
from daemons.commands import selectors as command_selectors
from daemons.crumbs import daemon_trail
from daemons.crumbs import pool_crumb as _pool_crumb
from daemons.crumbs import pools_crumb as _pools_crumb
from daemons.drains import selectors as drain_selectors
from daemons.drains.forms import drain_form
from daemons.inventory import selectors, services
from daemons.inventory.forms import DaemonFilterForm, MachineFilterForm, PoolForm
from daemons.models import Pool

# The htmx event a started refresh sends, so the page's poll shows "refreshing…" at once.
REFRESH_EVENT = "poolRefresh"


@require_GET
def pool_list(request: HttpRequest) -> HttpResponse:
    access.require(request.user, access.VIEW_POOL)
    pools = list(selectors.pools_with_health(request.user))
    refreshing = selectors.pools_refreshing([pool.pk for pool in pools])
    context = {"pools": pools, "refreshing": refreshing, "nav": "pools", "breadcrumbs": [_pools_crumb()]}
    template = "daemons/pool_list.html#pools" if request.htmx else "daemons/pool_list.html"
    return render(request, template, context)


@require_GET
def pool_detail(request: HttpRequest, pool_id: int) -> HttpResponse:
    pool = access.pool_for(request.user, pool_id)
    refreshing = bool(selectors.pools_refreshing([pool.pk]))
    filter_form = DaemonFilterForm(request.GET)
    filters = filter_form.filters()
    overview = selectors.pool_overview(pool, filters, page=request.GET.get("page"), per_page=filter_form.page_size())
    context = {
        "pool": pool,
        "refreshing": refreshing,
        "filter_form": filter_form,
        "filters": filters,
        "overview": overview,
        "timeline": selectors.pool_timeline(pool),
        "board": selectors.slot_counts(pool),
    }
    if request.htmx:
        # The poll every few seconds renders the live part alone: the rest is not worked out for it.
        return render(request, "daemons/pool_detail.html#live", context)
    context |= {
        # Only those who may edit the pool can act on it.
        "token_warnings": selectors.pool_token_warnings(pool)
        if access.allows(request.user, "daemons.change_pool")
        else [],
        "may_command": bool(command_selectors.sendable_commands(request.user)),
        "may_drain": access.allows(request.user, access.SEND_DRAIN),
        "nav": "pools",
        "breadcrumbs": [_pools_crumb(), _pool_crumb(pool)],
    }
    return render(request, "daemons/pool_detail.html", context)


@require_GET
def pool_machines(request: HttpRequest, pool_id: int) -> HttpResponse:
    pool = access.pool_for(request.user, pool_id)
    form = MachineFilterForm(request.GET)
    board = selectors.machine_board(pool, form.filters(), page=request.GET.get("page"), per_page=form.page_size())
    context = {"pool": pool, "form": form, "board": board}
    if request.htmx:
        return render(request, "daemons/pool_machines.html#machines", context)
    context |= {
        "may_drain": access.allows(request.user, access.SEND_DRAIN),
        "nav": "pools",
        "breadcrumbs": [_pools_crumb(), _pool_crumb(pool), {"label": "Machines", "url": ""}],
    }
    return render(request, "daemons/pool_machines.html", context)


@require_GET
def daemon_detail(request: HttpRequest, daemon_id: int) -> HttpResponse:
    daemon = access.daemon_for(request.user, daemon_id)
    refreshing = bool(selectors.pools_refreshing([daemon.pool_id]))
    context = {
        "daemon": daemon,
        "pool": daemon.pool,
        "refreshing": refreshing,
        "neighbours": selectors.daemon_neighbours(daemon),
        "slots": selectors.startd_slots(daemon) if daemon.kind == "startd" else None,
    }
    if request.htmx:
        return render(request, "daemons/daemon_detail.html#status", context)
    context |= {
        "attributes": sorted(daemon.attributes.items()),
        "command_panel": command_selectors.command_panel(request.user, daemon),
        "nav": "pools",
        "breadcrumbs": daemon_trail(daemon),
    }
    if daemon.kind == "startd":
        context |= {
            "drain_panel": drain_selectors.drain_panel(request.user, daemon),
            "drain_choices": drain_form(None, daemon),
        }
    return render(request, "daemons/daemon_detail.html", context)


@require_POST
def pool_refresh(request: HttpRequest, pool_id: int) -> HttpResponse:
    pool = access.pool_for(request.user, pool_id)
    services.pool_refresh_start(pool=pool)
    if request.htmx:
        return trigger_client_event(HttpResponse(status=204), REFRESH_EVENT, {"pool": pool.pk})
    messages.info(request, f"Refreshing {pool.name}: the page shows the new state when it is in.")
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        # Not redirect(): it would take a word without "/" or "." for a URL name and fail on it.
        return HttpResponseRedirect(back)
    return redirect("daemons:pool_detail", pool.pk)


@require_http_methods(["GET", "POST"])
def pool_add(request: HttpRequest) -> HttpResponse:
    access.require(request.user, "daemons.add_pool")
    return _pool_form(request, pool=None)


@require_http_methods(["GET", "POST"])
def pool_edit(request: HttpRequest, pool_id: int) -> HttpResponse:
    pool = access.pool_for(request.user, pool_id, perm="daemons.change_pool")
    return _pool_form(request, pool=pool)


def _pool_form(request: HttpRequest, *, pool: Pool | None) -> HttpResponse:
    # Before validation, which writes the submitted values into the instance.
    last = [_pool_crumb(pool), {"label": "Edit", "url": ""}] if pool else [{"label": "Add a pool", "url": ""}]
    crumbs = [_pools_crumb(), *last]
    form = PoolForm(request.POST if request.method == "POST" else None, instance=pool)
    if request.method == "GET" and pool is not None:
        form.warnings.extend(selectors.pool_token_warnings(pool))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        # Under ASGI each request has a thread of its own, so a collector that
        # never answers holds only this request, for at most the HTCondor timeout.
        try:
            check = services.pool_connection_check(
                collector=data["collector"], token_file=data["token_file"], config_val=data["config_val"]
            )
        except ProtocolError as exc:
            form.add_error(None, f"The console could not query the collector: {exc}")
        else:
            saved = services.pool_save(pool=pool, **data)
            _report_check(request, saved, check, form.warnings)
            return redirect("daemons:pool_detail", saved.pk)
    context = {
        "form": form,
        "pool": pool,
        "nav": "pools",
        "breadcrumbs": crumbs,
    }
    return render(request, "daemons/pool_form.html", context)


def _report_check(request: HttpRequest, pool: Pool, check: services.PoolCheck, warnings: list[str]) -> None:
    messages.success(request, f"Pool {pool.name} saved. Its collector lists {check.daemons} daemons.")
    for text in warnings:
        messages.warning(request, text)
    if not check.master:
        messages.warning(request, "The collector lists no master, so the console's authorization was not checked.")
    for level in check.levels:
        if level.authorized:
            messages.info(request, f"{level.level}: allowed on {check.master} as {level.identity or 'unknown'}.")
        else:
            messages.warning(request, f"{level.level}: not allowed on {check.master}. {_LEVEL_HINTS[level.level]}")


_LEVEL_HINTS = {
    "READ": READ_HINT,
    "ADMINISTRATOR": ADMINISTRATOR_HINT + " Until then, commands are refused.",
    "CONFIG": RUNTIME_CONFIG_HINT,
}
