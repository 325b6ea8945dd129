"""``python -m bench``'s command line: a misspelt area is an error, never a table without it."""

from __future__ import annotations

import importlib.util

import pytest

from bench.__main__ import AREAS, parse_args


def test_an_unknown_area_is_an_error_naming_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_args(["--only", "logs", "inventroy"])

    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "invalid choice: 'inventroy'" in error
    assert all(f"'{area}'" in error for area in AREAS)


def test_the_areas_named_are_run_in_the_order_given() -> None:
    assert parse_args(["--only", "logs", "config"]).only == ["logs", "config"]


def test_without_only_every_area_runs() -> None:
    assert parse_args([]).only is None


@pytest.mark.parametrize("area", AREAS)
def test_every_known_area_is_a_module_with_a_run_function(area: str) -> None:
    spec = importlib.util.find_spec(f"bench.{area}")

    assert spec is not None and spec.origin is not None
    with open(spec.origin) as source:
        assert "\ndef run(" in source.read()
