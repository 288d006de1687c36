"""Reading values as slot types: what each type accepts, returns and rejects."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from soni.dsl import SLOT_TYPES, coerce, normalise_choices, slot_kind
from soni.dsl.errors import SlotValueError
from soni.errors import SoniError

ACCEPTED: list[tuple[str, Any, Any]] = [
    # integer
    ("integer", 42, 42),
    ("integer", -7, -7),
    ("integer", "42", 42),
    ("integer", " +7 ", 7),
    ("integer", "-13", -13),
    ("integer", "1,000", 1000),
    ("integer", "12,345,678", 12345678),
    ("integer", 5.0, 5),
    ("integer", "10.0", 10),
    ("integer", "1,00", 1),
    ("int", "3", 3),
    # float
    ("float", 12.5, 12.5),
    ("float", 3, 3.0),
    ("float", "12.5", 12.5),
    ("float", "-0.25", -0.25),
    ("float", "1,234.50", 1234.5),
    ("float", "1.234,50", 1234.5),
    ("float", "1.234.567", 1234567.0),
    ("float", "12,5", 12.5),
    ("float", "1,000", 1000.0),
    ("float", "€50", 50.0),
    ("float", "50€", 50.0),
    ("float", "$ 12.50", 12.5),
    ("float", "-€5", -5.0),
    ("float", "50 EUR", 50.0),
    ("float", "50eur", 50.0),
    ("float", "USD 1,200.00", 1200.0),
    ("float", "1e3", 1000.0),
    ("number", ".5", 0.5),
    # boolean
    ("boolean", True, True),
    ("boolean", False, False),
    ("boolean", "true", True),
    ("boolean", "FALSE", False),
    ("boolean", "Yes", True),
    ("boolean", "no", False),
    ("boolean", "y", True),
    ("boolean", "N", False),
    ("boolean", "1", True),
    ("boolean", "0", False),
    ("boolean", "on", True),
    ("boolean", " Off ", False),
    ("boolean", 1, True),
    ("boolean", 0, False),
    # date
    ("date", "2024-01-31", dt.date(2024, 1, 31)),
    ("date", " 2024-02-29 ", dt.date(2024, 2, 29)),
    ("date", "31/01/2024", dt.date(2024, 1, 31)),
    ("date", "1/2/2024", dt.date(2024, 2, 1)),
    ("date", "31.01.2024", dt.date(2024, 1, 31)),
    ("date", "31-01-2024", dt.date(2024, 1, 31)),
    ("date", dt.date(2024, 5, 6), dt.date(2024, 5, 6)),
    ("date", dt.datetime(2024, 5, 6, 10, 30), dt.date(2024, 5, 6)),
    # time
    ("time", "14:30", dt.time(14, 30)),
    ("time", " 09:05 ", dt.time(9, 5)),
    ("time", "14:30:15", dt.time(14, 30, 15)),
    ("time", "14.30", dt.time(14, 30)),
    ("time", "2:30 pm", dt.time(14, 30)),
    ("time", "2:30PM", dt.time(14, 30)),
    ("time", "2pm", dt.time(14)),
    ("time", "2 p.m.", dt.time(14)),
    ("time", "9am", dt.time(9)),
    ("time", "12am", dt.time(0)),
    ("time", "12 pm", dt.time(12)),
    ("time", "noon", dt.time(12)),
    ("time", "Midnight", dt.time(0)),
    ("time", dt.time(7, 45), dt.time(7, 45)),
    ("time", dt.datetime(2024, 5, 6, 10, 30), dt.time(10, 30)),
    # datetime: naive, a date and a time
    ("datetime", "2026-12-06T14:30", dt.datetime(2026, 12, 6, 14, 30)),
    ("datetime", "2026-12-06 14:30:00", dt.datetime(2026, 12, 6, 14, 30)),
    ("datetime", "06/12/2026 at 2pm", dt.datetime(2026, 12, 6, 14)),
    ("datetime", "2026-12-06, 9:15 am", dt.datetime(2026, 12, 6, 9, 15)),
    ("datetime", dt.datetime(2026, 12, 6, 14, 30), dt.datetime(2026, 12, 6, 14, 30)),
    # email
    ("email", "ana@example.com", "ana@example.com"),
    ("email", "  Ana.Maria@Example.COM ", "Ana.Maria@example.com"),
    ("email", "first.last+tag@sub.mail.example.org", "first.last+tag@sub.mail.example.org"),
    # string / text
    ("string", "hello", "hello"),
    ("string", "  padded  ", "padded"),
    ("string", 123, "123"),
    ("text", "line one\nline two", "line one\nline two"),
    # any
    ("any", None, None),
    ("any", {"a": [1]}, {"a": [1]}),
    ("any", "", ""),
]


@pytest.mark.parametrize(("kind", "value", "expected"), ACCEPTED)
def test_accepted_values(kind: str, value: Any, expected: Any) -> None:
    result = coerce(kind, value)

    assert result == expected
    assert type(result) is type(expected)


REJECTED: list[tuple[str, Any, str]] = [
    ("integer", 1.5, "expected a whole number, got 1.5"),
    ("integer", "1.5", "expected a whole number, got '1.5'"),
    ("integer", "12a", "expected a whole number, got '12a'"),
    ("integer", "", "expected a whole number, got ''"),
    ("integer", True, "expected a whole number, got True"),
    ("integer", "1,5", "expected a whole number, got '1,5'"),
    ("integer", [1], "expected a whole number, got [1]"),
    ("float", "abc", "expected a number, got 'abc'"),
    ("float", "nan", "expected a number, got 'nan'"),
    ("float", "inf", "expected a number, got 'inf'"),
    ("float", float("inf"), "expected a number, got inf"),
    ("float", "50 abc", "expected a number, got '50 abc'"),
    ("float", "1,23,4", "expected a number, got '1,23,4'"),
    ("float", False, "expected a number, got False"),
    ("boolean", "maybe", "expected yes or no, got 'maybe'"),
    ("boolean", 2, "expected yes or no, got 2"),
    ("boolean", "", "expected yes or no, got ''"),
    ("date", "tomorrow", "expected a date (yyyy-mm-dd or dd/mm/yyyy), got 'tomorrow'"),
    ("date", "31/02/2024", "'31/02/2024' is not a valid date: day is out of range for month"),
    ("date", "2024-13-01", "expected a date (yyyy-mm-dd or dd/mm/yyyy), got '2024-13-01'"),
    ("date", 20240101, "expected a date (yyyy-mm-dd or dd/mm/yyyy), got 20240101"),
    ("time", "25:00", "'25:00' is not a valid time: hour must be in 0..23"),
    ("time", "14:75", "'14:75' is not a valid time: minute must be in 0..59"),
    ("time", "abc", "expected a time (14:30, 2:30 pm, 2pm, noon or midnight), got 'abc'"),
    # A bare hour is no time: 7 in the morning, or in the evening?
    ("time", "7", "expected a time (14:30, 2:30 pm, 2pm, noon or midnight), got '7'"),
    ("time", "13pm", "'13pm' is not a valid time: 1 to 12 before am or pm"),
    ("time", 1430, "expected a time (14:30, 2:30 pm, 2pm, noon or midnight), got 1430"),
    (
        "time",
        dt.time(14, 30, tzinfo=dt.UTC),
        "expected a time without a time zone",
    ),
    ("datetime", "2026-12-06", "expected a date and a time (yyyy-mm-dd hh:mm), got '2026-12-06'"),
    (
        "datetime",
        dt.date(2026, 12, 6),
        "expected a date and a time (yyyy-mm-dd hh:mm), got 2026-12-06",
    ),
    ("datetime", "2026-12-06T25:00", "'25:00' is not a valid time: hour must be in 0..23"),
    ("datetime", "2026-12-06T14:30+01:00", "expected a date and time without a time zone"),
    (
        "datetime",
        dt.datetime(2026, 12, 6, 14, 30, tzinfo=dt.UTC),
        "expected a date and time without a time zone",
    ),
    (
        "datetime",
        "tomorrow at 2pm",
        "expected a date and a time (yyyy-mm-dd hh:mm), got 'tomorrow at 2pm'",
    ),
    ("email", "ana@localhost", "expected an e-mail address, got 'ana@localhost'"),
    ("email", "ana.example.com", "expected an e-mail address, got 'ana.example.com'"),
    ("email", "a..b@example.com", "expected an e-mail address, got 'a..b@example.com'"),
    ("email", ".ana@example.com", "expected an e-mail address, got '.ana@example.com'"),
    ("email", "ana@-example.com", "expected an e-mail address, got 'ana@-example.com'"),
    ("email", "ana @example.com", "expected an e-mail address, got 'ana @example.com'"),
    ("email", 5, "expected an e-mail address, got 5"),
    ("string", "", "expected text, got an empty value"),
    ("string", "   ", "expected text, got an empty value"),
    ("string", True, "expected text, got True"),
    ("string", ["a"], "expected text, got ['a']"),
    ("integer", None, "no value given"),
    ("string", None, "no value given"),
]


@pytest.mark.parametrize(("kind", "value", "message"), REJECTED)
def test_rejected_values(kind: str, value: Any, message: str) -> None:
    with pytest.raises(SlotValueError) as info:
        coerce(kind, value)

    assert str(info.value) == message
    assert info.value.message == message
    assert info.value.slot_kind == slot_kind(kind)
    assert info.value.value is value


def test_slot_value_errors_are_soni_and_value_errors() -> None:
    assert issubclass(SlotValueError, SoniError)
    assert issubclass(SlotValueError, ValueError)


CHOICES = {"checking": ["current", "main"], "savings": ["saving account"]}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("checking", "checking"),
        ("CHECKING", "checking"),
        (" Savings ", "savings"),
        ("current", "checking"),
        ("Main", "checking"),
        ("SAVING ACCOUNT", "savings"),
    ],
)
def test_choices_match_values_case_insensitively_and_synonyms(value: str, expected: str) -> None:
    assert coerce("choice", value, choices=CHOICES) == expected


def test_choices_may_be_a_plain_list_and_numbers_match_as_text() -> None:
    assert coerce("choice", "b", choices=["a", "b"]) == "b"
    assert coerce("choice", 2, choices=["1", "2"]) == "2"


@pytest.mark.parametrize("value", ["credit", "", True, None, ["checking"]])
def test_values_outside_the_choices_are_rejected(value: Any) -> None:
    with pytest.raises(SlotValueError) as info:
        coerce("choice", value, choices=CHOICES)

    if value is not None:
        assert str(info.value).startswith("expected one of checking, savings, got ")


def test_a_choice_without_choices_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="needs choices") as info:
        coerce("choice", "x")

    assert not isinstance(info.value, SlotValueError)


def test_an_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown slot type 'money'"):
        coerce("money", 5)


def test_every_declared_type_has_a_kind() -> None:
    assert {declared: slot_kind(declared) for declared in SLOT_TYPES} == {
        "string": "string",
        "text": "string",
        "integer": "integer",
        "int": "integer",
        "number": "float",
        "float": "float",
        "boolean": "boolean",
        "date": "date",
        "time": "time",
        "datetime": "datetime",
        "email": "email",
        "choice": "choice",
        "any": "any",
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["a", "b"], {"a": [], "b": []}),
        ({"a": ["x"], "b": None}, {"a": ["x"], "b": []}),
        ({"a": "x"}, {"a": ["x"]}),
        (["a", {"b": ["y", "z"]}], {"a": [], "b": ["y", "z"]}),
        ([1, 2], {"1": [], "2": []}),
    ],
)
def test_normalise_choices(raw: Any, expected: dict[str, list[str]]) -> None:
    assert normalise_choices(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (["a", "a"], "choice 'a' is listed twice"),
        ([{"a": [], "b": []}], "one-key mapping"),
        ({"a": [["x"]]}, "the synonyms of 'a' must be a list of texts"),
        ([None], "a choice must be text, got None"),
        ("a", "choices must be a list"),
    ],
)
def test_normalise_choices_rejects(raw: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalise_choices(raw)
