"""Static files: hashed, compressed names once collectstatic has run."""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Whitenoise's manifest storage, with plain names while there is no manifest.

    A fresh checkout (``make run``, the tests) has not run collectstatic;
    whitenoise then serves the source folders under their plain names, and
    the stock storage would fail on every ``{% static %}`` instead.
    """

    def stored_name(self, name: str) -> str:
        if not self.hashed_files:
            return name
        return super().stored_name(name)
