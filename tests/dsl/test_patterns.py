"""Branch case patterns: every form, numeric strings, non-numbers and case selection."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from soni.dsl.errors import PatternError
from soni.dsl.patterns import Pattern, compile_pattern, select_case
from soni.errors import SoniError


def matching(pattern: str, values: list[Any]) -> list[bool]:
    compiled = compile_pattern(pattern)
    return [compiled.matches(value) for value in values]


# Values tried against every ordering pattern below, in this order.
ORDER_VALUES: list[Any] = [150, 100, 100.0, 50, "150", " 100 ", "1e3", "abc", None, True, [150]]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (">100", [True, False, False, False, True, False, True, False, False, False, False]),
        ("> 100", [True, False, False, False, True, False, True, False, False, False, False]),
        (">=100", [True, True, True, False, True, True, True, False, False, False, False]),
        ("<100", [False, False, False, True, False, False, False, False, False, False, False]),
        ("<= 100", [False, True, True, True, False, True, False, False, False, False, False]),
        ("  >  100  ", [True, False, False, False, True, False, True, False, False, False, False]),
        (">99.5", [True, True, True, False, True, True, True, False, False, False, False]),
    ],
)
def test_ordering_patterns_compare_numbers_only(pattern: str, expected: list[bool]) -> None:
    assert matching(pattern, ORDER_VALUES) == expected


def test_negative_and_exponent_bounds() -> None:
    assert matching(">-5", [-4, -5, "-4.5", "x"]) == [True, False, True, False]
    assert matching("<1e3", [999, 1000, "999"]) == [True, False, True]


@pytest.mark.parametrize(
    ("pattern", "values", "expected"),
    [
        ("==100", [100, 100.0, "100", " 100.0 ", "abc", None, True], [1, 1, 1, 1, 0, 0, 0]),
        ("==abc", ["abc", "ABC", "Abc", "abd", None, 0], [1, 1, 1, 0, 0, 0]),
        ("== New York", ["new york", "NEW YORK", "New  York"], [1, 1, 0]),
        ('=="New York"', ["new york", '"New York"'], [1, 0]),
        ("=='yes'", ["yes", "YES", True], [1, 1, 0]),
        ("==true", [True, "true", "TRUE", "yes", 1], [1, 1, 1, 0, 0]),
        ("==1", [1, 1.0, "1", True, "one"], [1, 1, 1, 0, 0]),
        ("==1.5", [1.5, "1.50", 3 / 2], [1, 1, 1]),
        ("!=100", [100, "100", 99, "abc", None], [0, 0, 1, 1, 1]),
        ("!=abc", ["ABC", "abd", None], [0, 1, 1]),
        ("100", [100, "100.0", 101], [1, 1, 0]),
        ("savings", ["Savings", "checking"], [1, 0]),
        ("'default'", ["default", "other"], [1, 0]),
        ('"true"', ["true", True, "yes"], [1, 1, 0]),
        ("yes", ["yes", True], [1, 0]),
        ("2024-01-05", ["2024-01-05"], [1]),
    ],
)
def test_equality_patterns(pattern: str, values: list[Any], expected: list[int]) -> None:
    assert matching(pattern, values) == [bool(flag) for flag in expected]


@pytest.mark.parametrize(
    ("pattern", "values", "expected"),
    [
        ("true", [True, "true", "TRUE", "yes", " Yes ", False, "no", "false", 1, None, "y"],
         [1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0]),
        ("TRUE", [True, "yes"], [1, 1]),
        ("false", [False, "false", "No", "no", True, "yes", 0, None, ""],
         [1, 1, 1, 1, 0, 0, 0, 0, 0]),
        (" False ", [False], [1]),
    ],
)  # fmt: skip
def test_boolean_patterns(pattern: str, values: list[Any], expected: list[int]) -> None:
    assert matching(pattern, values) == [bool(flag) for flag in expected]


@pytest.mark.parametrize("pattern", ["default", "DEFAULT", " default "])
def test_default_matches_everything(pattern: str) -> None:
    compiled = compile_pattern(pattern)
    assert compiled.is_default
    assert all(compiled.matches(value) for value in [None, 0, "", "x", True, [1]])


def test_only_default_is_default() -> None:
    assert not any(compile_pattern(p).is_default for p in [">1", "==default", "'default'", "x"])


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("", "empty pattern"),
        ("   ", "empty pattern"),
        (">", "expected a number after '>'"),
        (">=", "expected a number after '>='"),
        ("> abc", "expected a number after '>', found 'abc'"),
        ("<1,000", "expected a number after '<', found '1,000'"),
        ("<= nan", "expected a number after '<=', found 'nan'"),
        ("==", "expected a value after '=='"),
        ("!= ", "expected a value after '!='"),
        ("=x", "unknown operator in '=x' (use '==' or '!=')"),
        ("!x", "unknown operator in '!x' (use '==' or '!=')"),
        ("=>5", "unknown operator in '=>5' (use '==' or '!=')"),
    ],
)
def test_malformed_patterns(pattern: str, message: str) -> None:
    with pytest.raises(PatternError) as caught:
        compile_pattern(pattern)
    error = caught.value
    assert (error.pattern, error.message) == (pattern, message)
    assert isinstance(error, SoniError)
    assert isinstance(error, ValueError)
    assert str(error) == f"invalid case pattern {pattern!r}: {message}"


@pytest.mark.parametrize(
    ("pattern", "operator", "operand"),
    [
        (">100", ">", 100),
        ("<= 2.5", "<=", 2.5),
        ("==abc", "==", "abc"),
        ("!= 'x y'", "!=", "x y"),
        ("plain", "==", "plain"),
        ("true", "bool", True),
        ("false", "bool", False),
        ("default", "default", None),
    ],
)
def test_compiled_form(pattern: str, operator: str, operand: Any) -> None:
    compiled = compile_pattern(pattern)
    assert (compiled.source, compiled.operator, compiled.operand) == (pattern, operator, operand)


def test_patterns_are_cached_frozen_values() -> None:
    compiled = compile_pattern(">= 42")
    assert compiled is compile_pattern(">= 42")
    assert isinstance(compiled, Pattern)
    with pytest.raises(dataclasses.FrozenInstanceError):
        compiled.operator = "<"  # type: ignore[misc]


# --- select_case ----------------------------------------------------------------------

TIERS = {">1000": "vip", ">100": "large", ">0": "small", "default": "invalid"}


@pytest.mark.parametrize(
    ("value", "target"),
    [
        (5000, "vip"),
        ("5000", "vip"),
        (1000, "large"),
        (101, "large"),
        (1, "small"),
        (0, "invalid"),
        (-3, "invalid"),
        ("abc", "invalid"),
        (None, "invalid"),
    ],
)
def test_first_matching_case_wins(value: Any, target: str) -> None:
    assert select_case(TIERS, value) == target


def test_default_is_tried_last_wherever_it_is_written() -> None:
    cases = {"default": "fallback", ">10": "big", "==5": "five"}
    assert select_case(cases, 50) == "big"
    assert select_case(cases, 5) == "five"
    assert select_case(cases, 1) == "fallback"


def test_mapping_order_decides_between_overlapping_cases() -> None:
    assert select_case({">0": "positive", ">10": "big"}, 50) == "positive"
    assert select_case({">10": "big", ">0": "positive"}, 50) == "big"


def test_no_match_and_no_default_is_none() -> None:
    assert select_case({">10": "big", "yes": "agreed"}, 1) is None
    assert select_case({}, "anything") is None


def test_boolean_and_literal_cases() -> None:
    cases = {"true": "confirmed", "false": "denied", "maybe": "unsure"}
    assert select_case(cases, "Yes") == "confirmed"
    assert select_case(cases, False) == "denied"
    assert select_case(cases, "MAYBE") == "unsure"
    assert select_case(cases, "perhaps") is None


def test_a_malformed_case_raises() -> None:
    with pytest.raises(PatternError):
        select_case({">x": "never"}, 1)
