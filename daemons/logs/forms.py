"""Forms of the live-log pages: they check input, logstream and the services act on it."""

from __future__ import annotations

from django import forms

# TOOL_DEBUG levels an administrator chooses from; "" switches the client log off.
CLIENT_DEBUG_LEVELS = [
    ("", "Off"),
    ("D_ALWAYS", "D_ALWAYS: errors and major events"),
    ("D_FULLDEBUG", "D_FULLDEBUG: verbose"),
    ("D_FULLDEBUG D_SECURITY", "D_FULLDEBUG D_SECURITY: verbose, with authentication"),
    ("D_FULLDEBUG D_SECURITY D_NETWORK", "D_FULLDEBUG D_SECURITY D_NETWORK: also every connection"),
    ("D_ALL", "D_ALL: everything"),
]


class LogChoiceForm(forms.Form):
    """Which of a daemon's logs to show: one of the *_LOG knobs its configuration names."""

    log = forms.ChoiceField(label="Log")

    def __init__(self, *args: object, keys: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["log"].choices = [(key, key) for key in keys]


class ClientLoggingForm(forms.Form):
    debug = forms.ChoiceField(label="TOOL_DEBUG", choices=CLIENT_DEBUG_LEVELS, required=False)
