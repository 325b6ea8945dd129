"""Forms for sending daemon commands and filtering their audit trail: they check input, services act on it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from condor.commands import Command, commands_for_kind
from condor.errors import InvalidInput
from condor.types import DAEMON_KINDS
from condor.validation import KNOWN_SUBSYSTEMS
from daemons.commands.selectors import BULK_LIMIT, AuditFilter, TargetFilter
from daemons.models import DRAIN_COMMANDS, CommandRecord, Daemon, Pool

_SUBSYSTEMS = sorted(KNOWN_SUBSYSTEMS - {"MASTER"})


def requested_command(data: Any) -> Command | None:
    """The command a POST names, before any other validation: the permission check needs it first."""
    try:
        return Command.by_name(str(data.get("command", "")))
    except InvalidInput:
        return None


def _clean_command(form: forms.Form, data: dict[str, Any]) -> Command | None:
    """Turn ``data``'s command name into its Command, clearing or requiring the subsystem as it needs one."""
    if "command" not in data:
        return None
    command = data["command"] = Command[data["command"]]
    if not command.needs_target:
        data["subsystem"] = ""
    elif not data.get("subsystem"):
        form.add_error("subsystem", f"Choose the daemon {command.name} is for.")
    return command


def _require_typed_name(form: forms.Form, data: dict[str, Any], command: Command, *, whose: str, name: str) -> None:
    if command.destructive and data.get("confirm") != name:
        form.add_error("confirm", f"Type the {whose} name, {name}, to confirm {command.name}.")


def _confirm_field() -> forms.CharField:
    return forms.CharField(
        required=False,
        max_length=255,
        label="Type the name to confirm",
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class CommandForm(forms.Form):
    """One command to one daemon; destructive ones need the daemon's name typed out."""

    command = forms.ChoiceField()
    subsystem = forms.ChoiceField(required=False, label="Daemon")
    confirm = _confirm_field()

    def __init__(self, *args: Any, daemon: Daemon, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.daemon = daemon
        self.fields["command"].choices = [(c.name, c.name) for c in commands_for_kind(daemon.kind)]
        self.fields["subsystem"].choices = [("", "–")] + [(s, s) for s in sorted(daemon.children)]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        command = _clean_command(self, data)
        if command is not None:
            _require_typed_name(self, data, command, whose="daemon's", name=self.daemon.name)
        return data


class BulkSelectForm(forms.Form):
    """Which command, and which daemons of a pool get it (GET: choosing sends nothing)."""

    command = forms.ChoiceField()
    subsystem = forms.ChoiceField(
        required=False, label="Daemon (for DaemonOn/Off*)", choices=[("", "–")] + [(s, s) for s in _SUBSYSTEMS]
    )
    kind = forms.ChoiceField(required=False, choices=[("", "Any kind")] + [(k, k) for k in DAEMON_KINDS])
    machine = forms.CharField(required=False, max_length=255, label="Machine contains")
    q = forms.CharField(required=False, max_length=255, label="Name contains")

    def __init__(self, *args: Any, commands: list[Command], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["command"].choices = [(c.name, c.name) for c in commands]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        _clean_command(self, data)
        return data

    def target_filter(self) -> TargetFilter:
        data = self.cleaned_data
        return TargetFilter(
            kind=data.get("kind", ""), machine=data.get("machine", "").strip(), q=data.get("q", "").strip()
        )


class BulkSendForm(BulkSelectForm):
    """The chosen daemons, confirmed once: typing the pool's name for commands that stop or restart."""

    daemons = forms.ModelMultipleChoiceField(queryset=Daemon.objects.none(), widget=forms.CheckboxSelectMultiple)
    confirm = _confirm_field()

    def __init__(self, *args: Any, pool: Pool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pool = pool
        self.fields["daemons"].queryset = Daemon.objects.filter(pool=pool).select_related("pool")

    def clean_daemons(self) -> QuerySet[Daemon]:
        daemons = self.cleaned_data["daemons"]
        if len(daemons) > BULK_LIMIT:
            raise forms.ValidationError(f"At most {BULK_LIMIT} daemons at once; narrow the selection.")
        return daemons

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        command = data.get("command")
        if not isinstance(command, Command):
            return data
        refusing = [d for d in data.get("daemons", []) if command not in commands_for_kind(d.kind)]
        if refusing:
            self.add_error("daemons", f"{command.name} goes to masters only; {refusing[0]} is a {refusing[0].kind}.")
        _require_typed_name(self, data, command, whose="pool's", name=self.pool.name)
        return data


class AuditFilterForm(forms.Form):
    """The audit page's GET parameters; anything invalid is ignored rather than refused."""

    pool = forms.ModelChoiceField(queryset=Pool.objects.all(), required=False, empty_label="Any pool")
    command = forms.ChoiceField(required=False)
    outcome = forms.ChoiceField(required=False, choices=[("", "Any outcome")] + list(CommandRecord.Outcome.choices))
    user = forms.CharField(required=False, max_length=150, label="User")
    q = forms.CharField(required=False, max_length=200, label="Daemon, subsystem or error", widget=forms.SearchInput)
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, pools: QuerySet[Pool], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pool"].queryset = pools
        names = [c.name for c in Command] + [
            "RuntimeSet",
            "RuntimeSet+Reconfig",
            "RuntimeUnset",
            "RuntimeUnset+Reconfig",
            *DRAIN_COMMANDS,
        ]
        self.fields["command"].choices = [("", "Any command")] + [(n, n) for n in names]

    def filters(self) -> AuditFilter:
        self.is_valid()
        data = self.cleaned_data
        return AuditFilter(
            pool=data.get("pool"),
            command=data.get("command", ""),
            outcome=data.get("outcome", ""),
            username=data.get("user", "").strip(),
            q=data.get("q", "").strip(),
            since=data.get("since"),
            until=data.get("until"),
        )
