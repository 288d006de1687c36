"""Comparing what a doc shows with what really happened, where the doc may elide.

The one elision mark is ``…`` (U+2026):

- in a JSON string, ``"01a2…"`` matches any string with the same fixed parts around
  the mark (``"TX-…"``, ``"Send 50 EUR to Bob (DE89…)?"``, ``"…"``);
- bare in an object, ``{"status": "ok", …}``, it means "other members may follow";
  ``{…}`` is any object;
- bare as an array element it stands for any number of elements; bare as a value,
  for any value;
- in text, ``…`` matches any run of characters within a line, and a line holding
  only ``…`` matches any number of lines.

JSON is compared by structure, so the spacing and the order of members do not
matter. Text that is JSON after a common prefix (``data: {...}``) is compared the
same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

ELLIPSIS = "…"
# Stand-ins the JSON parser reads, for the bare marks (never in real output).
_MORE = "\x00more"
_ANY = "\x00any"


class OpenDict(dict[str, Any]):
    """An expected object that may have members it does not list."""


class _AnyValue:
    def __repr__(self) -> str:
        return "…"


ANY = _AnyValue()


def _mark_ellipses(text: str) -> str:
    """Turn bare ``…`` into JSON the standard parser reads, by their position."""
    out: list[str] = []
    stack: list[str] = []
    expect_key = False
    i = 0
    while i < len(text):
        char = text[i]
        if char == '"':
            end = i + 1
            while end < len(text) and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            out.append(text[i : end + 1])
            i = end + 1
            continue
        if char == ELLIPSIS:
            if stack and stack[-1] == "{" and expect_key:
                out.append('"\\u0000more": null')
                expect_key = False
            else:
                out.append('"\\u0000any"')
        else:
            if char in "{[":
                stack.append(char)
                expect_key = char == "{"
            elif char in "}]":
                if stack:
                    stack.pop()
                expect_key = False
            elif char == ",":
                expect_key = bool(stack) and stack[-1] == "{"
            elif char == ":":
                expect_key = False
            out.append(char)
        i += 1
    return "".join(out)


def _build(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if any(key == _MORE for key, _ in pairs):
        return OpenDict((k, v) for k, v in pairs if k != _MORE)
    return dict(pairs)


def _anys(value: Any) -> Any:
    if value == _ANY:
        return ANY
    if isinstance(value, OpenDict):
        return OpenDict((k, _anys(v)) for k, v in value.items())
    if isinstance(value, dict):
        return {k: _anys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_anys(v) for v in value]
    return value


def parse_values(text: str, *, relaxed: bool = True) -> list[Any]:
    """Every JSON value in ``text`` (one, or several one after another).

    Raises:
        ValueError: the text is not JSON (with ``…`` marks when ``relaxed``).
    """
    source = _mark_ellipses(text) if relaxed else text
    decoder = json.JSONDecoder(object_pairs_hook=_build)
    values: list[Any] = []
    i = 0
    while True:
        while i < len(source) and source[i].isspace():
            i += 1
        if i == len(source):
            break
        value, i = decoder.raw_decode(source, i)
        values.append(_anys(value) if relaxed else value)
    if not values:
        raise ValueError("no JSON value")
    return values


def strict(value: Any, where: str = "") -> Any:
    """The expected value as plain JSON data, refusing a bare ``…`` value."""
    if value is ANY:
        raise ValueError(f"a bare … at {where or 'the top'} cannot be validated; show a value")
    if isinstance(value, dict):
        return {k: strict(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [strict(v, f"{where}[{i}]") for i, v in enumerate(value) if v is not ANY]
    return value


def _pattern(expected: str) -> re.Pattern[str]:
    parts = [re.escape(part) for part in expected.split(ELLIPSIS)]
    return re.compile(".*?".join(parts), re.DOTALL)


def text_matches(expected: str, actual: str) -> bool:
    """One string against another, ``…`` matching any characters."""
    if ELLIPSIS not in expected:
        return expected == actual
    return _pattern(expected).fullmatch(actual) is not None


def value_mismatch(expected: Any, actual: Any, path: str = "$") -> str | None:
    """Why ``actual`` does not match ``expected`` (a relaxed JSON value), or ``None``."""
    if expected is ANY:
        return None
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{path}: expected an object, got {actual!r}"
        missing = [k for k in expected if k not in actual]
        if missing:
            return f"{path}: missing {', '.join(missing)} (got {sorted(actual)})"
        if not isinstance(expected, OpenDict):
            extra = [k for k in actual if k not in expected]
            if extra:
                return f"{path}: unexpected {', '.join(extra)} (add them, or …)"
        for key, value in expected.items():
            why = value_mismatch(value, actual[key], f"{path}.{key}")
            if why:
                return why
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return f"{path}: expected a list, got {actual!r}"
        return _list_mismatch(expected, actual, path)
    if isinstance(expected, str):
        if isinstance(actual, str) and text_matches(expected, actual):
            return None
        return f"{path}: expected {expected!r}, got {actual!r}"
    if isinstance(expected, bool) or isinstance(actual, bool) or expected is None:
        same = expected is actual
    else:
        same = isinstance(actual, int | float) and expected == actual
    return None if same else f"{path}: expected {expected!r}, got {actual!r}"


def _list_mismatch(expected: list[Any], actual: list[Any], path: str) -> str | None:
    def fits(i: int, j: int) -> bool:
        if i == len(expected):
            return j == len(actual)
        if expected[i] is ANY:
            return any(fits(i + 1, k) for k in range(j, len(actual) + 1))
        return (
            j < len(actual)
            and value_mismatch(expected[i], actual[j]) is None
            and fits(i + 1, j + 1)
        )

    if fits(0, 0):
        return None
    if ANY not in expected and len(expected) == len(actual):
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            why = value_mismatch(e, a, f"{path}[{i}]")
            if why:
                return why
    return f"{path}: expected {len(expected)} element(s) {expected!r}, got {actual!r}"


def _json_values(text: str, relaxed: bool) -> list[Any] | None:
    stripped = text.strip()
    if not stripped or stripped[0] not in "{[":
        return None
    try:
        return parse_values(stripped, relaxed=relaxed)
    except ValueError:
        return None


def _lines(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return lines


def _line_matches(expected: str, actual: str) -> bool:
    if text_matches(expected, actual):
        return True
    # "data: {...}": the same prefix, then JSON compared by structure.
    starts = [i for i in (expected.find("{"), expected.find("[")) if i >= 0]
    if not starts:
        return False
    cut = min(starts)
    prefix = expected[:cut]
    if not actual.startswith(prefix) and not text_matches(prefix, actual[:cut]):
        return False
    wanted = _json_values(expected[cut:], relaxed=True)
    got = _json_values(actual[len(prefix) :], relaxed=False)
    return (
        wanted is not None
        and got is not None
        and len(wanted) == len(got)
        and all(value_mismatch(w, g) is None for w, g in zip(wanted, got, strict=True))
    )


def _lines_match(expected: list[str], actual: list[str]) -> bool:
    def fits(i: int, j: int) -> bool:
        if i == len(expected):
            return j == len(actual)
        if expected[i].strip() == ELLIPSIS:
            return any(fits(i + 1, k) for k in range(j, len(actual) + 1))
        return j < len(actual) and _line_matches(expected[i], actual[j]) and fits(i + 1, j + 1)

    return fits(0, 0)


def output_mismatch(expected: str, actual: str) -> str | None:
    """Why the output ``actual`` is not what the doc shows, or ``None`` when it is."""
    wanted = _json_values(expected, relaxed=True)
    if wanted is not None:
        got = _json_values(actual, relaxed=False)
        if got is not None and len(got) == len(wanted):
            for w, g in zip(wanted, got, strict=True):
                why = value_mismatch(w, g)
                if why:
                    return f"{why}\n--- shown:\n{expected.rstrip()}\n--- real:\n{actual.rstrip()}"
            return None
    if _lines_match(_lines(expected), _lines(actual)):
        return None
    return f"--- shown:\n{expected.rstrip()}\n--- real:\n{actual.rstrip()}"


def iter_strings(value: Any, key: str | None = None) -> Iterator[tuple[str | None, str]]:
    """Every ``(key, string)`` inside a JSON value, depth first."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from iter_strings(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from iter_strings(v, key)
    elif isinstance(value, str):
        yield key, value
