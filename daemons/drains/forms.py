"""Forms for draining startds, one or several of a pool: they check input, services act on it."""

from __future__ import annotations

import fnmatch
from typing import Any

from django import forms
from django.db.models import QuerySet

from condor.errors import InvalidInput
from condor.types import DrainCompletion, DrainRequest, DrainSpeed, drain_completions
from condor.validation import validate_constraint, validate_drain_reason, validate_request_id
from daemons.commands.selectors import BULK_LIMIT
from daemons.models import Daemon, Pool

_SPEEDS = [
    (DrainSpeed.GRACEFUL.value, "Graceful: jobs may run to the end of their retirement time, then are evicted"),
    (DrainSpeed.QUICK.value, "Quick: jobs get their vacate time to checkpoint, then are evicted"),
    (DrainSpeed.FAST.value, "Fast: jobs are killed at once"),
]
_COMPLETIONS = {
    DrainCompletion.NOTHING: "Stay drained until the drain is cancelled",
    DrainCompletion.RESUME: "Resume: take jobs again",
    DrainCompletion.EXIT: "Exit: the startd shuts down (its master does not restart it)",
    DrainCompletion.RESTART: "Restart the startd",
    DrainCompletion.RECONFIG: "Reconfig the startd, then take jobs again",
}


def _expression(label: str, help_text: str) -> forms.CharField:
    return forms.CharField(
        required=False,
        max_length=1024,
        label=label,
        help_text=help_text,
        widget=forms.TextInput(attrs={"class": "mono", "spellcheck": "false", "autocomplete": "off"}),
    )


def _checked(data: dict[str, Any], form: forms.Form, field: str, check: Any) -> None:
    """Put ``check``'s verdict on ``field`` (the condor package's validator: the page refuses what it would)."""
    if data.get(field):
        try:
            data[field] = check(data[field])
        except InvalidInput as exc:
            form.add_error(field, str(exc))


class DrainOptionsForm(forms.Form):
    """How to drain: the options ``condor_drain`` takes, with the completions the startds' version supports."""

    speed = forms.ChoiceField(choices=_SPEEDS, initial=DrainSpeed.GRACEFUL.value, widget=forms.RadioSelect)
    reason = forms.CharField(
        max_length=256, help_text="Shown to everyone who looks at the machine, and in HTCondor's ads."
    )
    on_completion = forms.ChoiceField(label="When drained")
    check = _expression(
        "Check expression", "Optional: drain only if this is true for every slot (e.g. Cpus >= 8); else refused."
    )
    start = _expression("Start expression", "Optional: START while draining (e.g. to let short jobs in).")
    confirm = forms.CharField(
        max_length=255,
        label="Type the name to confirm",
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, versions: list[str], confirm_name: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.confirm_name = confirm_name
        # What every startd to drain supports: a bulk drain offers the choices they share.
        supported = set(DrainCompletion)
        for version in versions:
            supported &= set(drain_completions(version))
        self.fields["on_completion"].choices = [(c.value, _COMPLETIONS[c]) for c in DrainCompletion if c in supported]
        self.fields["on_completion"].initial = DrainCompletion.NOTHING.value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        _checked(data, self, "reason", validate_drain_reason)
        _checked(data, self, "check", lambda e: validate_constraint(e, what="check expression"))
        _checked(data, self, "start", lambda e: validate_constraint(e, what="start expression"))
        if "confirm" in data and data["confirm"] != self.confirm_name:
            self.add_error("confirm", f"Type {self.confirm_name} to confirm the drain.")
        return data

    def drain_request(self) -> DrainRequest:
        data = self.cleaned_data
        return DrainRequest(
            speed=DrainSpeed(data["speed"]),
            reason=data["reason"],
            on_completion=DrainCompletion(data["on_completion"]),
            check=data.get("check", ""),
            start=data.get("start", ""),
        )


def drain_form(data: Any, daemon: Daemon) -> DrainOptionsForm:
    """Draining one startd: confirmed by typing its name."""
    return DrainOptionsForm(data, versions=[daemon.version], confirm_name=daemon.name)


class CancelDrainForm(forms.Form):
    """Cancel a startd's drain: one request (by the id its slots advertise), or all (blank)."""

    request_id = forms.CharField(required=False, max_length=255, label="Request id (blank: every drain)")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        _checked(data, self, "request_id", validate_request_id)
        return data


class DrainSelectForm(forms.Form):
    """Which startds of a pool a bulk drain is for (GET: choosing sends nothing): by name, a name pattern,
    or a ClassAd constraint the pool's collector evaluates on their slot ads."""

    BY_NAME = "names"
    BY_PATTERN = "pattern"
    BY_CONSTRAINT = "constraint"

    by = forms.ChoiceField(
        choices=[
            (BY_PATTERN, "Name pattern"),
            (BY_CONSTRAINT, "ClassAd constraint"),
            (BY_NAME, "Machines picked below"),
        ],
        initial=BY_PATTERN,
        widget=forms.RadioSelect,
    )
    pattern = forms.CharField(
        required=False,
        max_length=255,
        label="Startd name pattern",
        help_text="Shell-style: exec*, *@node1?.example.org",
    )
    constraint = _expression(
        "Constraint", 'Evaluated by the collector on the slot ads, e.g. Cpus >= 8 && OpSys == "LINUX"'
    )
    names = forms.ModelMultipleChoiceField(
        queryset=Daemon.objects.none(), required=False, widget=forms.CheckboxSelectMultiple, label="Machines"
    )

    def __init__(self, *args: Any, pool: Pool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pool = pool
        self.fields["names"].queryset = Daemon.objects.filter(pool=pool, kind="startd").order_by("machine", "name")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        by = data.get("by")
        if by == self.BY_PATTERN and not data.get("pattern"):
            self.add_error("pattern", "Give a name pattern, e.g. exec*.")
        if by == self.BY_CONSTRAINT:
            if not data.get("constraint"):
                self.add_error("constraint", "Give a ClassAd constraint, e.g. Cpus >= 8.")
            else:
                _checked(data, self, "constraint", validate_constraint)
        if by == self.BY_NAME and not data.get("names"):
            self.add_error("names", "Pick at least one machine.")
        return data

    def matching(self) -> list[Daemon]:
        """The startds a name pattern or the picked names select; a constraint's are the collector's to say."""
        data = self.cleaned_data
        startds = self.fields["names"].queryset
        if data["by"] == self.BY_NAME:
            return list(data["names"])
        pattern = data["pattern"]
        return [d for d in startds if fnmatch.fnmatchcase(d.name, pattern) or fnmatch.fnmatchcase(d.machine, pattern)]


class BulkCancelForm(forms.Form):
    """The previewed startds, whose drains are all cancelled: undoing needs no typed confirmation."""

    daemons = forms.ModelMultipleChoiceField(queryset=Daemon.objects.none(), widget=forms.MultipleHiddenInput)

    def __init__(self, *args: Any, pool: Pool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["daemons"].queryset = Daemon.objects.filter(pool=pool, kind="startd").select_related("pool")

    def clean_daemons(self) -> QuerySet[Daemon]:
        return _at_most_bulk_limit(self.cleaned_data["daemons"])


def _at_most_bulk_limit(daemons: QuerySet[Daemon]) -> QuerySet[Daemon]:
    if len(daemons) > BULK_LIMIT:
        raise forms.ValidationError(f"At most {BULK_LIMIT} startds at once; narrow the selection.")
    return daemons


class BulkDrainForm(DrainOptionsForm):
    """The previewed startds, drained with one set of options, confirmed by typing the pool's name."""

    daemons = forms.ModelMultipleChoiceField(queryset=Daemon.objects.none(), widget=forms.MultipleHiddenInput)

    def __init__(self, *args: Any, pool: Pool, **kwargs: Any) -> None:
        startds = Daemon.objects.filter(pool=pool, kind="startd").select_related("pool")
        versions = sorted(set(startds.values_list("version", flat=True)))
        super().__init__(*args, versions=versions, confirm_name=pool.name, **kwargs)
        self.fields["daemons"].queryset = startds

    def clean_daemons(self) -> QuerySet[Daemon]:
        return _at_most_bulk_limit(self.cleaned_data["daemons"])
