"""Message templates: placeholders, escapes, value formatting and malformed braces."""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal
from typing import Any

import pytest

from soni.dsl.errors import TemplateError
from soni.dsl.templates import Template, compile_template, format_value
from soni.errors import SoniError


def render(text: str, **slots: Any) -> str:
    return compile_template(text).render(slots)


@pytest.mark.parametrize(
    ("text", "slots", "expected"),
    [
        ("Send {amount} EUR to {iban}?", {"amount": 50, "iban": "DE89"}, "Send 50 EUR to DE89?"),
        ("{a}{b}", {"a": "x", "b": "y"}, "xy"),
        ("{a} and {a}", {"a": "twice"}, "twice and twice"),
        ("no placeholders", {}, "no placeholders"),
        ("", {}, ""),
        ("{_private_1}", {"_private_1": "ok"}, "ok"),
        ("{Name} {name}", {"Name": "A", "name": "b"}, "A b"),
        ("unicode {x} ✓", {"x": "é"}, "unicode é ✓"),
    ],
)
def test_placeholders_are_filled(text: str, slots: dict[str, Any], expected: str) -> None:
    assert compile_template(text).render(slots) == expected


@pytest.mark.parametrize(
    ("slots", "expected"),
    [
        ({}, "Hello , you owe  EUR."),
        ({"name": None, "amount": None}, "Hello , you owe  EUR."),
        ({"name": "Ana"}, "Hello Ana, you owe  EUR."),
        ({"amount": 0}, "Hello , you owe 0 EUR."),
        ({"name": ""}, "Hello , you owe  EUR."),
    ],
)
def test_missing_or_none_slots_render_empty(slots: dict[str, Any], expected: str) -> None:
    assert compile_template("Hello {name}, you owe {amount} EUR.").render(slots) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{literal}}", "{literal}"),
        ("{{", "{"),
        ("}}", "}"),
        ("{{{x}}}", "{5}"),
        ('JSON: {{"a": {x}}}', 'JSON: {"a": 5}'),
        ("{{}}", "{}"),
        ("}}{{", "}{"),
    ],
)
def test_doubled_braces_are_literal(text: str, expected: str) -> None:
    assert render(text, x=5) == expected


def test_escaped_braces_are_not_placeholders() -> None:
    assert compile_template("{{x}} {y}").names == frozenset({"y"})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        (50, "50"),
        (-3, "-3"),
        (50.0, "50"),
        (-0.0, "0"),
        (12.5, "12.5"),
        (0.1 + 0.2, "0.3"),
        (1 / 3, "0.333333333333333"),
        (1e-7, "1e-07"),
        (1e20, "1e+20"),
        (float("inf"), "inf"),
        (10**20, "100000000000000000000"),
        (True, "true"),
        (False, "false"),
        ("text", "text"),
        ("", ""),
        (Decimal("50.00"), "50.00"),
        (datetime.date(2024, 3, 9), "2024-03-09"),
        (datetime.datetime(2024, 3, 9, 14, 5), "2024-03-09 14:05"),
        (datetime.time(9, 30), "09:30"),
        (datetime.time(9, 30, 15), "09:30:15"),
        ([1, 2.0, "three"], "1, 2, three"),
        ((True, None, 1.5), "true, 1.5"),
        ({"b", "a"}, "a, b"),
        ([], ""),
        ({"k": 1}, "{'k': 1}"),
    ],
)
def test_values_render_naturally(value: Any, expected: str) -> None:
    assert format_value(value) == expected
    assert render("{v}", v=value) == expected


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        (
            "Send { amount }",
            5,
            "invalid placeholder '{ amount }': write a slot name such as {amount}, with a "
            "format spec if need be ({day:%A %d %B}, {price:.2f}), or '{{' for a literal brace",
        ),
        ("{1x}", 0, "invalid placeholder '{1x}'"),
        ("{}", 0, "invalid placeholder '{}'"),
        ("{amount:}", 0, "invalid format spec '' in '{amount:}'"),
        ("{amount:zz}", 0, "invalid format spec 'zz' in '{amount:zz}'"),
        ("{a!r}", 0, "invalid placeholder '{a!r}'"),
        ("{a.b}", 0, "invalid placeholder '{a.b}'"),
        ("{a[0]}", 0, "invalid placeholder '{a[0]}'"),
        ("{a-b}", 0, "invalid placeholder '{a-b}'"),
        ("{é}", 0, "invalid placeholder '{é}'"),
        ("oops {", 5, "unclosed '{' (write '{{' for a literal brace)"),
        ("{a {b}", 0, "unclosed '{' (write '{{' for a literal brace)"),
        ("a } b", 2, "single '}' (write '}}' for a literal brace)"),
        ("{x}}", 3, "single '}' (write '}}' for a literal brace)"),
        ("{{x}", 3, "single '}' (write '}}' for a literal brace)"),
    ],
)
def test_malformed_templates(text: str, position: int, message: str) -> None:
    with pytest.raises(TemplateError) as caught:
        compile_template(text)
    error = caught.value
    assert error.position == position
    assert error.message.startswith(message)
    assert error.text == text


def test_template_error_is_a_value_error_naming_the_position() -> None:
    with pytest.raises(TemplateError) as caught:
        compile_template("Hi {1x}")
    assert isinstance(caught.value, SoniError)
    assert isinstance(caught.value, ValueError)
    assert "at position 3 in template 'Hi {1x}'" in str(caught.value)


def test_names_are_the_placeholders() -> None:
    template = compile_template("{a} then {b} then {a}")
    assert template.names == frozenset({"a", "b"})
    assert compile_template("plain").names == frozenset()


def test_compilation_is_cached_and_the_template_is_frozen() -> None:
    text = "cached {template_xyz}"
    template = compile_template(text)
    assert template is compile_template(text)
    assert isinstance(template, Template)
    assert template.source == text
    with pytest.raises(dataclasses.FrozenInstanceError):
        template.source = "other"  # type: ignore[misc]


def test_rendering_reads_any_mapping_and_does_not_change_it() -> None:
    slots = {"x": [1, 2]}
    assert compile_template("{x}").render(slots) == "1, 2"
    assert slots == {"x": [1, 2]}


# -- format specs ---------------------------------------------------------------------

DAY = datetime.date(2026, 12, 8)


@pytest.mark.parametrize(
    ("text", "slots", "expected"),
    [
        ("{d:%A %d %B}", {"d": DAY}, "Tuesday 08 December"),
        ("{d:%d/%m/%Y}", {"d": "2026-12-08"}, "08/12/2026"),  # ISO text, as actions hand over
        ("{t:%H:%M}", {"t": datetime.time(9, 5)}, "09:05"),
        ("{t:%I:%M %p}", {"t": "14:30"}, "02:30 PM"),
        ("{w:%a %H:%M}", {"w": datetime.datetime(2026, 12, 8, 14, 30)}, "Tue 14:30"),
        ("{p:,.2f} EUR", {"p": 1234.5}, "1,234.50 EUR"),
        ("{p:.0f}", {"p": 7}, "7"),
        ("{s:.0%}", {"s": 0.25}, "25%"),
        ("[{n:>4}]", {"n": 7}, "[   7]"),
        ("{xs:.1f}", {"xs": [1, 2.25]}, "1.0, 2.2"),
    ],
)
def test_a_format_spec_shapes_dates_times_and_numbers(
    text: str, slots: dict[str, Any], expected: str
) -> None:
    assert compile_template(text).render(slots) == expected


@pytest.mark.parametrize(
    ("text", "slots", "expected"),
    [
        ("{d:%A}", {"d": "soon"}, "soon"),  # not a date: as it is
        ("{p:.2f}", {"p": "lots"}, "lots"),
        ("{d:.2f}", {"d": DAY}, "2026-12-08"),
        ("{b:.2f}", {"b": True}, "true"),
        ("[{m:%A}]", {}, "[]"),  # unset: empty, as without a spec
    ],
)
def test_a_value_the_spec_does_not_fit_is_written_as_without_it(
    text: str, slots: dict[str, Any], expected: str
) -> None:
    assert compile_template(text).render(slots) == expected
