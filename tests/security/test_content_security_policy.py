"""The Content-Security-Policy header, and templates that need nothing it forbids."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

TEMPLATES = sorted(Path(settings.BASE_DIR, "templates").rglob("*.html")) + sorted(
    Path(settings.BASE_DIR).glob("*/templates/**/*.html")
)


def _policy(db: None) -> dict[str, str]:
    header = Client().get("/login/")["Content-Security-Policy"]
    return {part.split()[0]: part.split(None, 1)[1] for part in header.split("; ")}


def test_every_page_carries_a_policy_without_inline_or_eval(db: None) -> None:
    policy = _policy(db)

    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert "unsafe" not in "".join(policy.values())


def test_the_policy_allows_the_consoles_own_websockets_and_no_framing(db: None) -> None:
    policy = _policy(db)

    # 'self' covers the page's own ws: and wss: origin in CSP level 3.
    assert policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(settings.BASE_DIR)))
def test_no_template_has_an_inline_script_style_or_handler(template: Path) -> None:
    text = template.read_text()

    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline <script>"
    assert not re.search(r"<style\b", text), "inline <style>"
    assert not re.search(r"\sstyle=", text), "style attribute"
    assert not re.search(r"\son[a-z]+=|\shx-on", text), "inline event handler"


def test_htmx_is_told_not_to_inject_styles_or_evaluate_code() -> None:
    base = Path(settings.BASE_DIR, "templates", "base.html").read_text()

    assert '"includeIndicatorStyles": false' in base and '"allowEval": false' in base
