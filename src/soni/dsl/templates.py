"""Message templates: ``{slot}`` placeholders filled from slot values.

``"Send {amount} EUR to {iban}?"`` is compiled once (cached per source) and rendered on
every turn. A placeholder is a slot name in braces -- ``[A-Za-z_][A-Za-z0-9_]*``, no
spaces -- optionally with a format spec after a colon: a date's or time's
``strftime`` codes (``{day:%A %d %B}``, ``{at:%H:%M}``) or a number's format
(``{price:,.2f}``, ``{share:.0%}``). Nothing else: no attribute access, no index, no
conversion (``{a.b}``, ``{a[0]}``, ``{a!r}``). ``{{`` / ``}}`` write literal braces.
Anything else with a brace (``{ amount }``, ``{1x}``, a spec no value could take, an
unclosed ``{``, a lone ``}``) is a :class:`~soni.dsl.errors.TemplateError` when the bot
loads, so a typo never reaches a user as raw braces.

Rendering never fails: a missing slot, or one holding ``None``, renders as empty text
and the rest of the message is kept; a spec the value cannot take (a date's codes on a
name) leaves the value as :func:`format_value` writes it.
"""

from __future__ import annotations

import datetime
import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from soni.dsl.errors import TemplateError

__all__ = ("Template", "compile_template", "format_value")

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BRACE = re.compile(r"[{}]")


@dataclass(frozen=True, slots=True)
class Template:
    """A compiled message template; build one with :func:`compile_template`.

    Attributes:
        source: The text it was compiled from.
        names: The slot names its placeholders read.
    """

    source: str
    names: frozenset[str]
    # (literal text, slot name or None, format spec or None), in order; rendering
    # just joins them.
    _parts: tuple[tuple[str, str | None, str | None], ...] = field(repr=False, compare=False)

    def render(self, slots: Mapping[str, Any]) -> str:
        """Fill the placeholders from ``slots``.

        Args:
            slots: Slot values by name.

        Returns:
            The message; a missing or ``None`` slot contributes empty text.
        """
        out: list[str] = []
        for literal, name, spec in self._parts:
            out.append(literal)
            if name is not None:
                out.append(format_value(slots.get(name), spec))
        return "".join(out)


@functools.lru_cache(maxsize=4096)
def compile_template(text: str) -> Template:
    """Compile ``text`` once; later calls with the same text return the same object.

    Args:
        text: The template's source.

    Returns:
        The compiled template.

    Raises:
        TemplateError: A placeholder is not a plain slot name, a ``{`` is never closed,
            or a ``}`` is neither closing a placeholder nor doubled.
    """
    parts: list[tuple[str, str | None, str | None]] = []
    literal: list[str] = []
    pos = 0
    while (match := _BRACE.search(text, pos)) is not None:
        brace = match.start()
        literal.append(text[pos:brace])
        if text.startswith(match.group() * 2, brace):  # `{{` or `}}`: a literal brace
            literal.append(match.group())
            pos = brace + 2
            continue
        if match.group() == "}":
            raise TemplateError(text, brace, "single '}' (write '}}' for a literal brace)")
        close = text.find("}", brace + 1)
        opening = text.find("{", brace + 1)
        if close < 0 or 0 <= opening < close:
            raise TemplateError(text, brace, "unclosed '{' (write '{{' for a literal brace)")
        name, colon, spec = text[brace + 1 : close].partition(":")
        if not _NAME.fullmatch(name):
            raise TemplateError(
                text,
                brace,
                f"invalid placeholder {text[brace : close + 1]!r}: write a slot name such "
                "as {amount}, with a format spec if need be ({day:%A %d %B}, {price:.2f}), "
                "or '{{' for a literal brace",
            )
        if colon and not _takes(spec):
            raise TemplateError(
                text,
                brace,
                f"invalid format spec {spec!r} in {text[brace : close + 1]!r}: use a date's "
                "or time's % codes ({day:%A %d %B}) or a number's format ({price:,.2f})",
            )
        parts.append(("".join(literal), name, spec if colon else None))
        literal = []
        pos = close + 1
    literal.append(text[pos:])
    parts.append(("".join(literal), None, None))
    names = frozenset(name for _, name, _ in parts if name is not None)
    return Template(text, names, tuple(parts))


# A sample of each kind of value a spec may be for: a spec none of them takes is a typo.
_SAMPLES = (datetime.datetime(2000, 1, 2, 3, 4, 5), 1234.5, 12, "text")


def _takes(spec: str) -> bool:
    """Whether some slot value could be written with ``spec``."""
    if not spec:
        return False
    for sample in _SAMPLES:
        try:
            format(sample, spec)
        except (ValueError, TypeError):
            continue
        if isinstance(sample, datetime.datetime) and "%" not in spec:
            continue  # a datetime takes any text as a spec: "x" is no date format
        return True
    return False


def format_value(value: Any, spec: str | None = None) -> str:
    """Render a slot value as a person would write it in a message.

    With ``spec`` (a template's ``{slot:spec}``), a date, time or number is written
    with it (``strftime`` codes for a date or time, also for one held as ISO text; a
    number's format spec); a value the spec does not fit is written as without it.

    ``None`` is empty text; booleans are ``true``/``false``; a whole float drops its
    ``.0`` (``50.0`` -> ``"50"``) and others print without float noise
    (``0.1 + 0.2`` -> ``"0.3"``); dates and times are ISO 8601, a time to the minute
    unless it has seconds (``14:30``) and a date and time with a space between
    (``2026-12-06 14:30``); lists, tuples and sets
    are their items other than ``None``, formatted the same way and separated by
    ``", "``. Anything else is ``str(value)``.

    Args:
        value: The value to render.
        spec: A format spec, or ``None``.

    Returns:
        The text.
    """
    if value is None:
        return ""
    if spec is not None:
        return _with_spec(value, spec)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:  # beyond, int() would invent digits
            return str(int(value))
        # 15 significant digits is what a float holds reliably; more shows binary noise.
        return format(value, ".15g") if math.isfinite(value) else str(value)
    if isinstance(value, datetime.datetime):  # "2026-12-06 14:30": a date, then a time
        return f"{value.date().isoformat()} {format_value(value.timetz())}"
    if isinstance(value, datetime.time):  # "at 14:30", not "at 14:30:00"
        return value.isoformat("seconds" if value.second or value.microsecond else "minutes")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(format_value(item) for item in value if item is not None)
    if isinstance(value, set | frozenset):  # sorted, or the message would change per run
        return ", ".join(sorted(format_value(item) for item in value if item is not None))
    return str(value)


def _with_spec(value: Any, spec: str) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_with_spec(item, spec) for item in value if item is not None)
    if isinstance(value, bool):
        return format_value(value)
    if isinstance(value, str) and "%" in spec:
        value = _iso(value)  # a date or time an action handed over as text
    if isinstance(value, datetime.date | datetime.time):
        if "%" not in spec:  # a date takes any text as its spec: only its codes shape it
            return format_value(value)
    elif isinstance(value, str) and "%" in spec:
        return value  # text that writes no date or time
    try:
        return format(value, spec)
    except (ValueError, TypeError):
        return format_value(value)


def _iso(text: str) -> Any:
    """``text`` as the date, time or date and time it writes in ISO 8601, else itself."""
    for kind in (datetime.date, datetime.datetime, datetime.time):
        try:
            return kind.fromisoformat(text)
        except ValueError:
            continue
    return text
