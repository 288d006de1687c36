"""Message templates: ``{slot}`` placeholders filled from slot values.

``"Send {amount} EUR to {iban}?"`` is compiled once (cached per source) and rendered on
every turn. A placeholder is exactly a slot name in braces -- ``[A-Za-z_][A-Za-z0-9_]*``,
no spaces, no format spec -- and ``{{`` / ``}}`` write literal braces. Anything else
with a brace (``{ amount }``, ``{1x}``, an unclosed ``{``, a lone ``}``) is a
:class:`~soni.errors.TemplateError` when the bot loads, so a typo never reaches a user
as raw braces.

Rendering never fails: a missing slot, or one holding ``None``, renders as empty text
and the rest of the message is kept. Values render as a person would write them (see
:func:`format_value`).
"""

from __future__ import annotations

import datetime
import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from soni.errors import TemplateError

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
    # (literal text, slot name or None) pairs, in order; rendering just joins them.
    _parts: tuple[tuple[str, str | None], ...] = field(repr=False, compare=False)

    def render(self, slots: Mapping[str, Any]) -> str:
        """Fill the placeholders from ``slots``.

        Args:
            slots: Slot values by name.

        Returns:
            The message; a missing or ``None`` slot contributes empty text.
        """
        out: list[str] = []
        for literal, name in self._parts:
            out.append(literal)
            if name is not None:
                out.append(format_value(slots.get(name)))
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
    parts: list[tuple[str, str | None]] = []
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
        name = text[brace + 1 : close]
        if not _NAME.fullmatch(name):
            raise TemplateError(
                text,
                brace,
                f"invalid placeholder {text[brace : close + 1]!r}: write a bare slot name "
                "such as {amount}, or '{{' for a literal brace",
            )
        parts.append(("".join(literal), name))
        literal = []
        pos = close + 1
    literal.append(text[pos:])
    parts.append(("".join(literal), None))
    names = frozenset(name for _, name in parts if name is not None)
    return Template(text, names, tuple(parts))


def format_value(value: Any) -> str:
    """Render a slot value as a person would write it in a message.

    ``None`` is empty text; booleans are ``true``/``false``; a whole float drops its
    ``.0`` (``50.0`` -> ``"50"``) and others print without float noise
    (``0.1 + 0.2`` -> ``"0.3"``); dates and times are ISO 8601, a time to the minute
    unless it has seconds (``14:30``) and a date and time with a space between
    (``2026-12-06 14:30``); lists, tuples and sets
    are their items other than ``None``, formatted the same way and separated by
    ``", "``. Anything else is ``str(value)``.

    Args:
        value: The value to render.

    Returns:
        The text.
    """
    if value is None:
        return ""
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
