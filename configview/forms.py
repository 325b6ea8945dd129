from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.utils import timezone

from condor.errors import InvalidInput
from condor.validation import KNOWN_SUBSYSTEMS, validate_knob, validate_value

SUBSYSTEM_CHOICES = [("TOOL", "TOOL (as a command-line tool)")] + [(s, s) for s in sorted(KNOWN_SUBSYSTEMS)]
_SIDE = RegexValidator(r"\A(local|[1-9][0-9]{0,17})\Z", "Choose a snapshot or the console host.")


class SearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Knob name")


class LocalForm(SearchForm):
    subsystem = forms.ChoiceField(choices=SUBSYSTEM_CHOICES, required=False, label="Seen as")
    VIEW_CHOICES = [("summary", "Set in its files"), ("all", "Every knob")]
    view = forms.ChoiceField(choices=VIEW_CHOICES, required=False, label="Show")


class SidesForm(forms.Form):
    """The two configurations a diff or a share compares."""

    left = forms.CharField(required=False, max_length=20, validators=[_SIDE], label="Before")
    right = forms.CharField(required=False, max_length=20, validators=[_SIDE], label="After")
    subsystem = forms.ChoiceField(
        choices=[("", "as the daemon compared")] + SUBSYSTEM_CHOICES, required=False, label="Console host seen as"
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.errors and not self.names_two_sides(data):
            raise forms.ValidationError("Choose the two configurations to compare.")
        return data

    def names_two_sides(self, data: dict[str, Any]) -> bool:
        return bool(data.get("left") and data.get("right"))


class FilterForm(SearchForm):
    """Which rows of a diff to show."""

    SHOW_CHOICES = [("differences", "Only differences"), ("all", "Every knob")]

    show = forms.ChoiceField(choices=SHOW_CHOICES, required=False, label="Show")
    # Console host against a daemon: leaving out what only one side's HTCondor version defines is the default.
    VERSIONS_CHOICES = [("common", "Leave out knobs only one version defines"), ("all", "Include them")]
    versions = forms.ChoiceField(choices=VERSIONS_CHOICES, required=False, label="Version differences")


class DiffForm(SidesForm, FilterForm):
    daemon = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    since = forms.DateTimeField(
        required=False,
        label="Changed since",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def names_two_sides(self, data: dict[str, Any]) -> bool:
        # A daemon and a moment: its snapshot from then against its latest.
        return super().names_two_sides(data) or bool(data.get("daemon") and data.get("since"))


class ShareForm(SidesForm):
    EXPIRY_CHOICES = [("", "Never"), ("1", "In 1 day"), ("7", "In 7 days"), ("30", "In 30 days")]

    title = forms.CharField(required=False, max_length=200)
    expires_in = forms.ChoiceField(choices=EXPIRY_CHOICES, required=False, label="Expires")

    @property
    def expires_at(self) -> Any:
        days = self.cleaned_data.get("expires_in")
        return timezone.now() + timedelta(days=int(days)) if days else None


class RuntimeEditForm(forms.Form):
    ACTION_CHOICES = [("set", "Set a runtime value"), ("unset", "Remove the runtime value")]

    knob = forms.CharField(max_length=256, label="Knob")
    value = forms.CharField(required=False, max_length=16_384, strip=False, label="Value (for set)")
    action = forms.ChoiceField(choices=ACTION_CHOICES, initial="set", widget=forms.RadioSelect)
    reconfig = forms.BooleanField(required=False, initial=True, label="Send Reconfig right after, so it takes effect")

    def clean_knob(self) -> str:
        try:
            return validate_knob(self.cleaned_data["knob"])
        except InvalidInput as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("action") == "set" and "value" in data:
            try:
                validate_value(data["value"])
            except InvalidInput as exc:
                self.add_error("value", str(exc))
        return data

    def change(self) -> dict[str, Any] | None:
        """What to ask of the service, or None when there is nothing to do.

        Input the condor package itself rejects is passed on as submitted: the
        audited call refuses it before sending and records the attempt.
        """
        if self.is_valid():
            data = self.cleaned_data
        else:
            # Recorded as submitted, but a NUL cannot be stored (PostgreSQL's text
            # refuses it): it becomes U+FFFD, which the condor package rejects too.
            data = {
                "knob": self.data.get("knob", "").replace("\x00", "\ufffd"),
                "value": self.data.get("value", "").replace("\x00", "\ufffd"),
                "action": self.data.get("action", ""),
                "reconfig": bool(self.data.get("reconfig")),
            }
            if not data["knob"] or data["action"] not in ("set", "unset") or not _condor_rejects(data):
                return None
        return {
            "knob": data["knob"],
            "value": None if data["action"] == "unset" else data["value"],
            "reconfig": data["reconfig"],
        }


def _condor_rejects(data: dict[str, Any]) -> bool:
    try:
        validate_knob(data["knob"])
        if data["action"] == "set":
            validate_value(data["value"])
    except InvalidInput:
        return True
    return False
