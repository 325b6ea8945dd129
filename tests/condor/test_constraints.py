"""ClassAd expressions from forms: shaped here, parsed by HTCondor in the worker, explained in an operator's words."""

from __future__ import annotations

import pytest

import condor.client
from condor.errors import InvalidInput
from condor.types import Credentials
from condor.validation import describe_parse_problem, validate_constraint


@pytest.mark.parametrize(
    "expr",
    [
        'Machine == "exec01"',
        'regexp("^exec0[1-4]", Machine) && Cpus >= 8',
        'member("x", {"a", "b"})',
        'ChildState[0] == "Claimed"',
        "[a = 1; b = 2].b == 2",
        'Name == "a)b;c]"',
        'DrainReason == "say \\"hi\\""',
    ],
)
def test_it_accepts_expressions_with_nested_lists_ads_and_strings(expr: str) -> None:
    assert validate_constraint(f"  {expr} ") == expr


@pytest.mark.parametrize("expr", ["", "  ", "a\nb", "a\rb", "a\x00b", "x" * 4097])
def test_it_refuses_empty_multiline_or_huge_constraints(expr: str) -> None:
    with pytest.raises(InvalidInput):
        validate_constraint(expr)


@pytest.mark.parametrize(
    ("expr", "parser_error", "words"),
    [
        ("Cpus >", "", "ends with an operator"),
        ("Cpus > 1 &&", "", "ends with an operator"),
        (
            "Cpus > 1 x",
            "while parsing classad:  expected LEX_SEMICOLON or LEX_CLOSE_BOX but got LEX_IDENTIFIER",
            "expected an operator or the end of the expression but got a name",
        ),
        ("Cpus 1", "", "missing operator or operand"),
    ],
)
def test_a_parse_problem_is_told_in_an_operators_words(expr: str, parser_error: str, words: str) -> None:
    assert words in describe_parse_problem(expr, parser_error)


def test_an_unparsable_constraint_is_refused_before_anything_is_sent() -> None:
    # Port 1 answers nothing: the refusal comes from HTCondor's parser in the worker.
    with pytest.raises(InvalidInput, match="ends with an operator"):
        condor.client.startds_matching("127.0.0.1:1", "Cpus >", Credentials())
    with pytest.raises(InvalidInput, match="HTCondor's parser says: expected an operator"):
        condor.client.slots("127.0.0.1:1", Credentials(), constraint="Cpus > 1 x")


def test_a_constraint_that_is_not_text_is_refused() -> None:
    with pytest.raises(InvalidInput, match="is empty"):
        condor.client.slots("127.0.0.1:1", Credentials(), constraint=None)  # type: ignore[arg-type]
