"""Forms of the inventory: they check input, services act on it."""

from __future__ import annotations

from django import forms

from condor.errors import InvalidInput
from condor.types import DAEMON_KINDS
from condor.validation import (
    validate_collector,
    validate_token_file,
    validate_tool_command,
)
from daemons.inventory.selectors import DaemonFilter, MachineFilter
from daemons.models import Daemon, Pool, Slot

PAGE_SIZES = (50, 100, 200)


class PoolForm(forms.ModelForm):
    """A pool's settings. The token file is checked on disk; the token itself is never read here."""

    class Meta:
        model = Pool
        fields = ["name", "collector", "token_file", "config_val", "log_path_from", "log_path_to", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # Things worth telling the operator that do not stop the pool from being saved.
        self.warnings: list[str] = []

    def clean_collector(self) -> str:
        try:
            return validate_collector(self.cleaned_data["collector"].strip())
        except InvalidInput as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_token_file(self) -> str:
        path = self.cleaned_data["token_file"].strip()
        if not path:
            return ""
        try:
            return validate_token_file(path)
        except InvalidInput as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_config_val(self) -> str:
        path = self.cleaned_data["config_val"].strip()
        if not path:
            return ""
        try:
            return validate_tool_command(path)
        except InvalidInput as exc:
            raise forms.ValidationError(str(exc)) from None


class DaemonFilterForm(forms.Form):
    """The GET parameters of a pool's page; anything invalid is ignored rather than refused."""

    q = forms.CharField(required=False, max_length=200, label="Name, machine or address", widget=forms.SearchInput)
    kind = forms.ChoiceField(required=False, choices=[("", "Any kind")] + [(k, k) for k in DAEMON_KINDS])
    state = forms.ChoiceField(required=False, choices=[("", "Any state")] + list(Daemon.State.choices))
    machine = forms.CharField(required=False, max_length=255, widget=forms.HiddenInput)
    per_page = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=PAGE_SIZES[0], choices=[(n, n) for n in PAGE_SIZES], label="Per page"
    )

    def filters(self) -> DaemonFilter:
        # cleaned_data keeps the fields that passed: an invalid one counts as not given.
        self.is_valid()
        data = self.cleaned_data
        return DaemonFilter(
            kind=data.get("kind", ""),
            state=data.get("state", ""),
            machine=data.get("machine", "").strip(),
            q=data.get("q", "").strip(),
        )

    def page_size(self) -> int:
        self.is_valid()
        return self.cleaned_data.get("per_page") or PAGE_SIZES[0]


class MachineFilterForm(forms.Form):
    """The GET parameters of a pool's machine board; anything invalid is ignored rather than refused."""

    q = forms.CharField(required=False, max_length=200, label="Startd or machine", widget=forms.SearchInput)
    board = forms.ChoiceField(
        required=False, choices=[("", "Any slots")] + list(Slot.Board.choices), label="With slots"
    )
    per_page = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=PAGE_SIZES[0], choices=[(n, n) for n in PAGE_SIZES], label="Per page"
    )

    def filters(self) -> MachineFilter:
        self.is_valid()
        data = self.cleaned_data
        return MachineFilter(board=data.get("board", ""), q=data.get("q", "").strip())

    def page_size(self) -> int:
        self.is_valid()
        return self.cleaned_data.get("per_page") or PAGE_SIZES[0]
