from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

import condor.tools
from condor.errors import ProtocolError
from condorweb.login import next_in_session
from configview import access, selectors, services
from configview.forms import (
    DiffForm,
    FilterForm,
    LocalForm,
    RuntimeEditForm,
    SearchForm,
    ShareForm,
)
from configview.models import ConfigSnapshot, Share
from configview.selectors import NotComparable, SideChoice
from daemons.access import allows, daemon_for, require
from daemons.commands.services import ClientInfo, QueueFull, refusal_recorded
from daemons.crumbs import daemon_trail
from daemons.models import CommandRecord, Daemon

VIEW = access.VIEW_SNAPSHOTS
FETCH = "configview.add_configsnapshot"
SHARE = "configview.add_share"
RELOAD = "configview.reload_local_config"
SET_RUNTIME = "daemons.set_runtime_config"
_SIDE_PARAMETERS = ("left", "right", "subsystem", "daemon", "since")


# Breadcrumbs are built per request: reverse() needs the URLconf loaded.
def _crumb(label: str, name: str, *args: object) -> dict[str, str]:
    return {"label": label, "url": reverse(name, args=args)}


def _configs() -> dict[str, str]:
    return _crumb("Configs", "configview:index")


def _shares() -> dict[str, str]:
    return _crumb("Shares", "configview:share_list")


def _configuration_trail(daemon: Daemon) -> list[dict[str, str]]:
    return [*daemon_trail(daemon), _crumb("Configuration", "configview:daemon_snapshots", daemon.pk)]


def _snapshot_trail(snapshot: ConfigSnapshot) -> list[dict[str, str]]:
    """Below its daemon's configuration while the daemon is known, else below Configs."""
    daemon = snapshot.daemon if snapshot.daemon_id else None
    return _configuration_trail(daemon) if daemon is not None else [_configs()]


def _page(request: HttpRequest, template: str, context: dict, *, partial: str = "", status: int = 200) -> HttpResponse:
    """The whole page, or for htmx the named partial of it.

    htmx swaps only successful answers, so a partial that carries an error
    goes out as 200; the whole page keeps its status.
    """
    context = {"nav": "configs", **context}
    if partial and request.htmx:
        return render(request, f"{template}#{partial}", context, status=200 if status >= 400 else status)
    return render(request, template, context, status=status)


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    require(request.user, VIEW)
    search = SearchForm(request.GET)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    return _page(
        request,
        "configview/index.html",
        {
            "chooser": DiffForm(initial={"left": "local"}),
            "choices": selectors.snapshot_choices(),
            "search": search,
            "daemons": selectors.daemons_matching(query) if allows(request.user, "daemons.view_daemon") else [],
            "query": query,
            "breadcrumbs": [_configs()],
        },
        partial="daemons",
    )


@require_GET
def local(request: HttpRequest) -> HttpResponse:
    require(request.user, VIEW)
    form = LocalForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    subsystem = data.get("subsystem") or "TOOL"
    try:
        knobs, error = (
            selectors.local_knobs(
                subsystem, query=data.get("q", ""), summary=data.get("view") != "all", page=request.GET.get("page")
            ),
            "",
        )
    except ProtocolError as exc:
        knobs, error = None, str(exc)
    return _page(
        request,
        "configview/local.html",
        {
            "form": form,
            "subsystem": subsystem,
            "knobs": knobs,
            "page": knobs.page if knobs else None,
            "error": error,
            "breadcrumbs": [_configs(), {"label": "Console host", "url": ""}],
        },
        partial="knobs",
    )


@require_POST
def local_reload(request: HttpRequest) -> HttpResponse:
    require(request.user, RELOAD)
    try:
        services.local_config_reload(user=request.user)
    except ProtocolError as exc:
        messages.error(request, f"The console could not reread its configuration: {exc}")
    else:
        messages.success(request, "The console reread its HTCondor configuration files.")
    return redirect("configview:local")


@require_POST
def local_capture(request: HttpRequest) -> HttpResponse:
    require(request.user, FETCH)
    form = LocalForm(request.POST)
    subsystem = (form.cleaned_data.get("subsystem") if form.is_valid() else "") or "TOOL"
    try:
        snapshot = services.config_snapshot_capture_local(user=request.user, subsystem=subsystem)
    except ProtocolError as exc:
        messages.error(request, f"The console could not read its configuration: {exc}")
        return redirect(f"{reverse('configview:local')}?{urlencode({'subsystem': subsystem})}")
    return redirect("configview:snapshot_detail", snapshot_id=snapshot.pk)


@require_GET
def daemon_snapshots(request: HttpRequest, daemon_id: int) -> HttpResponse:
    daemon = daemon_for(request.user, daemon_id)
    require(request.user, VIEW)
    return _page(
        request,
        "configview/daemon_snapshots.html",
        {
            "daemon": daemon,
            "snapshots": selectors.snapshots_of(daemon),
            "tools": condor.tools.tools_available(daemon.pool.credentials),
            "since_form": DiffForm(initial={"daemon": daemon.pk}),
            "breadcrumbs": [*daemon_trail(daemon), {"label": "Configuration", "url": ""}],
        },
    )


@require_POST
def snapshot_fetch(request: HttpRequest, daemon_id: int) -> HttpResponse:
    daemon = daemon_for(request.user, daemon_id)
    require(request.user, FETCH)
    try:
        snapshot = services.config_snapshot_fetch(user=request.user, daemon=daemon)
    except QueueFull as exc:
        messages.error(request, str(exc))
        return redirect("configview:daemon_snapshots", daemon_id=daemon.pk)
    url = reverse("configview:snapshot_detail", kwargs={"snapshot_id": snapshot.pk})
    if request.POST.get("then") == "diff":
        url += "?then=diff"
    return redirect(url)


@require_GET
def snapshot_detail(request: HttpRequest, snapshot_id: int) -> HttpResponse:
    snapshot = access.get_snapshot_for_user(request.user, snapshot_id)
    search = SearchForm(request.GET)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    previous = selectors.previous_snapshot(snapshot) if snapshot.is_complete else None
    if previous is not None and request.GET.get("then") == "diff":
        # "Fetch now and compare": once the fetch is done, show what changed.
        url = f"{reverse('configview:diff')}?{urlencode({'left': previous.pk, 'right': snapshot.pk})}"
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    rows = selectors.knob_rows(selectors.snapshot_side(snapshot), query) if snapshot.is_complete else []
    return _page(
        request,
        "configview/snapshot_detail.html",
        {
            "snapshot": snapshot,
            "search": search,
            "rows": rows,
            "previous": previous,
            "breadcrumbs": [*_snapshot_trail(snapshot), {"label": f"Snapshot #{snapshot.pk}", "url": ""}],
        },
        partial="knobs" if request.htmx and request.htmx.target == "knobs" else "body",
    )


@require_GET
def diff(request: HttpRequest) -> HttpResponse:
    require(request.user, VIEW)
    form = DiffForm(request.GET)
    if not form.is_valid():
        return _diff_error(request, form, "")
    data = form.cleaned_data
    try:
        left, right = access.sides_for_user(
            request.user,
            left=data["left"],
            right=data["right"],
            subsystem=data["subsystem"],
            daemon_id=data["daemon"],
            since=data["since"],
        )
        comparison = selectors.comparison(left, right)
    except (NotComparable, ProtocolError) as exc:
        return _diff_error(request, form, str(exc))
    return _diff_page(request, form, comparison, share=None)


def _diff_error(request: HttpRequest, form: DiffForm, error: str) -> HttpResponse:
    if request.htmx:
        # A filter request has no table to swap in: the browser loads the page, which says why.
        return HttpResponseClientRedirect(request.get_full_path())
    return _page(request, "configview/diff.html", {"form": form, "error": error}, status=400)


@next_in_session
@require_GET
def share_open(request: HttpRequest, token: str) -> HttpResponse:
    try:
        share = access.share_for_token(token)
    except access.ShareUnavailable as exc:
        return render(request, "configview/share_gone.html", {"reason": str(exc), "nav": "shares"}, status=404)
    comparison = selectors.comparison(SideChoice(share.left), SideChoice(share.right))
    return _diff_page(request, FilterForm(request.GET), comparison, share=share)


def _diff_page(
    request: HttpRequest, form: FilterForm, comparison: selectors.Comparison, *, share: Share | None
) -> HttpResponse:
    data = form.cleaned_data if form.is_valid() else {}
    only_differences = data.get("show") != "all"
    leave_out = comparison.version_only if data.get("versions") != "all" else frozenset()
    return _page(
        request,
        "configview/diff.html",
        {
            "form": form,
            "comparison": comparison,
            "rows": comparison.diff.select(
                only_differences=only_differences, query=data.get("q", ""), leave_out=leave_out
            ),
            "only_differences": only_differences,
            "left_out": len(leave_out),
            "share": share,
            "sides": [("Before", comparison.left), ("After", comparison.right)],
            # What names the two sides, kept by the filter form.
            "carried": [] if share else [(n, request.GET[n]) for n in _SIDE_PARAMETERS if request.GET.get(n)],
            "share_form": ShareForm(
                initial={
                    "left": comparison.left.spec,
                    "right": comparison.right.spec,
                    "subsystem": comparison.left.subsystem,
                }
            ),
            "nav": "shares" if share else "configs",
            "breadcrumbs": [_shares() if share else _configs(), {"label": "Comparison", "url": ""}],
        },
        partial="table",
    )


@require_POST
def share_create(request: HttpRequest) -> HttpResponse:
    require(request.user, SHARE)
    form = ShareForm(request.POST)
    if not form.is_valid():
        return _page(request, "configview/share_created.html", {"form": form}, partial="result", status=400)
    data = form.cleaned_data
    try:
        left, right = access.sides_for_user(
            request.user, left=data["left"], right=data["right"], subsystem=data["subsystem"]
        )
        share, token = services.share_create(
            user=request.user, left=left, right=right, title=data["title"], expires_at=form.expires_at
        )
    except (NotComparable, ProtocolError) as exc:
        return _page(
            request, "configview/share_created.html", {"form": form, "error": str(exc)}, partial="result", status=400
        )
    link = request.build_absolute_uri(reverse("configview:share_open", kwargs={"token": token}))
    return _page(
        request, "configview/share_created.html", {"share": share, "link": link, "nav": "shares"}, partial="result"
    )


@require_GET
def share_list(request: HttpRequest) -> HttpResponse:
    return _page(
        request,
        "configview/share_list.html",
        {"shares": selectors.shares_of(request.user), "nav": "shares", "breadcrumbs": [_shares()]},
    )


@require_POST
def share_revoke(request: HttpRequest, share_id: int) -> HttpResponse:
    share = access.get_share_for_user(request.user, share_id)
    services.share_revoke(share=share)
    messages.success(request, f"The link to “{share}” no longer opens anything.")
    return redirect("configview:share_list")


@require_http_methods(["GET", "POST"])
def runtime_edit(request: HttpRequest, daemon_id: int) -> HttpResponse:
    daemon = daemon_for(request.user, daemon_id)
    client = ClientInfo.from_request(request)
    unset = request.POST.get("action") == "unset"
    with refusal_recorded(
        user=request.user,
        # A GET sends nothing, so it records nothing.
        command="" if request.method != "POST" else "RuntimeUnset" if unset else "RuntimeSet",
        daemon_ids=[daemon.pk],
        client=client,
    ):
        require(request.user, SET_RUNTIME)
    record: CommandRecord | None = None
    moved: tuple[str, ...] = ()
    if request.method == "POST":
        form = RuntimeEditForm(request.POST)
        change = form.change()
        if change is not None:
            done = services.runtime_config_change(user=request.user, daemon=daemon, client=client, **change)
            record, moved = done.record, done.moved
    else:
        form = RuntimeEditForm(initial={"knob": request.GET.get("knob", "")[:256], "action": "set", "reconfig": True})
    return _page(
        request,
        "configview/runtime_edit.html",
        {
            "daemon": daemon,
            "form": form,
            "record": record,
            "moved": moved,
            "sent": record is not None and record.outcome == CommandRecord.Outcome.SENT,
            "breadcrumbs": [*_configuration_trail(daemon), {"label": "Change at runtime", "url": ""}],
        },
        partial="editor",
    )
