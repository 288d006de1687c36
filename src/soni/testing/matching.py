"""How a step compares what it expects with what the bot did."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from typing import Any

from soni.testing.models import is_pattern

__all__ = ("as_written", "same_value", "text_matches", "wanted")


def text_matches(expected: str, actual: str) -> bool:
    """``actual`` equals ``expected``, or contains a match of a ``/pattern/``."""
    if is_pattern(expected):
        return re.search(expected[1:-1], actual) is not None
    return actual == expected


def wanted(expected: str, noun: str = "reply") -> str:
    """How a failure names the expected text: ``the reply 'Hi'``, ``a reply matching /Hi/``."""
    if is_pattern(expected):
        return f"a {noun} matching {expected}"
    return f"the {noun} {expected!r}"


def as_written(value: Any) -> Any:
    """A slot value as a test file writes it: JSON's types, dates and times as ISO text."""
    return json.loads(json.dumps(value, default=_text))


def same_value(expected: Any, actual: Any) -> bool:
    """Whether a slot holds the value a test expects.

    The slot is compared as written in YAML (``50`` matches ``50.0``, a date matches
    ``"2030-05-01"``); ``null`` matches an unset slot.
    """
    return _equal(expected, as_written(actual))


def _equal(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        return expected.keys() == actual.keys() and all(
            _equal(expected[k], actual[k]) for k in expected
        )
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(
            _equal(e, a) for e, a in zip(expected, actual, strict=True)
        )
    return bool(expected == actual)


def _text(value: Any) -> str:
    if isinstance(value, dt.datetime):  # "2026-12-06T14:30", to the minute as a time is
        return f"{value.date().isoformat()}T{_text(value.timetz())}"
    if isinstance(value, dt.time):  # "14:30", as a test writes it; seconds when there are
        return value.isoformat("seconds" if value.second or value.microsecond else "minutes")
    isoformat = getattr(value, "isoformat", None)
    return str(isoformat()) if callable(isoformat) else str(value)
