"""Slot types: reading a value the user gave (or an action returned) as the slot's type.

``coerce(kind, value)`` returns the value in its canonical Python form or raises
:class:`~soni.dsl.errors.SlotValueError`. It is deliberately forgiving about *format*
(``"1,000"``, ``"€50"``, ``"Yes"``, ``"05/01/2024"``) and strict about *meaning*
(``1.5`` is not an integer, ``"maybe"`` is not a boolean). Number words ("fifty")
are the NLU's business, not this module's.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Literal, TypeAlias

from soni.actions.validators import is_email
from soni.dsl.errors import SlotValueError

__all__ = (
    "MAX_DIGITS",
    "SLOT_KINDS",
    "SLOT_TYPES",
    "SlotKind",
    "coerce",
    "normalise_choices",
    "slot_kind",
)

SlotKind: TypeAlias = Literal[
    "string", "integer", "float", "boolean", "date", "time", "datetime", "email", "choice", "any"
]
"""A slot type with its aliases resolved."""

SLOT_TYPES: Final[dict[str, SlotKind]] = {
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
"""Every ``type`` a slot may declare, and the kind it stands for."""

SLOT_KINDS: Final[tuple[SlotKind, ...]] = tuple(dict.fromkeys(SLOT_TYPES.values()))

Choices: TypeAlias = Mapping[str, Sequence[str]]


def slot_kind(declared: str) -> SlotKind:
    """The kind a declared type stands for (``int`` → ``integer``, ``text`` → ``string``).

    Raises:
        ValueError: not a slot type.
    """
    try:
        return SLOT_TYPES[declared]
    except KeyError:
        raise ValueError(f"unknown slot type {declared!r}") from None


def coerce(kind: str, value: Any, *, choices: Choices | Sequence[Any] | None = None) -> Any:
    """Read ``value`` as a value of the slot type ``kind``.

    Args:
        kind: A slot type or alias (``integer``, ``int``, ``float``, ``choice``, ...).
        value: What the user gave or an action returned.
        choices: For a ``choice`` slot: ``{value: [synonyms]}`` or a list of values.

    Returns:
        ``int`` for integer, ``float`` for float, ``bool`` for boolean,
        ``datetime.date`` for date, ``datetime.time`` for time, a naive
        ``datetime.datetime`` for datetime, the canonical choice for choice, stripped text for
        string and email (with the domain in lower case), ``value`` itself for any.

    Raises:
        SlotValueError: the value cannot be read as this type.
        ValueError: ``kind`` is not a slot type, or a choice slot has no choices.
    """
    resolved = slot_kind(kind)
    if resolved == "any":
        return value
    if value is None:
        raise SlotValueError(resolved, value, "no value given")
    if resolved == "choice":
        if not choices:
            raise ValueError("a choice slot needs choices")
        return _choice(value, normalise_choices(choices))
    return _READERS[resolved](value)


MAX_DIGITS: Final = 300
"""The most digits a number may have. Longer ones are no amount anyone means, and
Python refuses to read integers past a few thousand digits (``int("1" * 5000)``
raises): they are rejected as values instead."""
_TOO_BIG: Final = 10**MAX_DIGITS


def _too_long(kind: SlotKind, value: Any) -> SlotValueError:
    return SlotValueError(kind, value, f"expected a number of at most {MAX_DIGITS} digits")


def _huge(value: Any) -> bool:
    return isinstance(value, int) and abs(value) >= _TOO_BIG


def _reject(kind: SlotKind, value: Any, what: str) -> SlotValueError:
    if _huge(value):  # str() of it may fail, and would say nothing useful
        shown = f"a number of more than {MAX_DIGITS} digits"
    else:
        shown = repr(value) if isinstance(value, str) else str(value)
    return SlotValueError(kind, value, f"expected {what}, got {shown}")


def _string(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float) or _huge(value):
        raise _reject("string", value, "text")
    text = value.strip() if isinstance(value, str) else str(value)
    if not text:
        raise SlotValueError("string", value, "expected text, got an empty value")
    return text


_INTEGER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)")


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise _reject("integer", value, "a whole number")
    if isinstance(value, int):
        if _huge(value):
            raise _too_long("integer", value)
        return value
    if isinstance(value, float):
        if value.is_integer():
            return _integer(int(value))
        raise _reject("integer", value, "a whole number")
    if isinstance(value, str):
        text = value.strip()
        if sum(c.isdigit() for c in text) > MAX_DIGITS:
            raise _too_long("integer", value)
        if _INTEGER.fullmatch(text):
            return int(text.replace(",", ""))
        number = _parse_number(text)
        if number is not None and number.is_integer():
            return _integer(int(number))
    raise _reject("integer", value, "a whole number")


_CURRENCY_SYMBOLS = "€$£¥₹₩₽₺₪₫₱₴₦"
# Codes are only stripped when known, so "50 abc" is not silently read as 50.
_CURRENCY_CODES = frozenset(
    {
        *("EUR", "USD", "GBP", "JPY", "CHF", "CAD", "AUD", "NZD", "CNY", "INR", "MXN"),
        *("BRL", "ARS", "CLP", "COP", "PEN", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF"),
        *("RON", "TRY", "ZAR", "RUB", "KRW", "SGD", "HKD"),
    }
)
_CODE_AT_EDGE = re.compile(r"^([A-Za-z]{3})\s*(?=[-+\d.,])|(?<=[\d.])\s*([A-Za-z]{3})$")
_GROUPED_COMMA = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_GROUPED_DOT = re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+(?:,\d+)?")
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d{1,2}")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _strip_currency(text: str) -> str:
    text = text.strip()
    match = _CODE_AT_EDGE.search(text)
    if match:
        code = (match.group(1) or match.group(2)).upper()
        if code in _CURRENCY_CODES:
            text = (text[: match.start()] + text[match.end() :]).strip()
    sign = ""
    if len(text) > 1 and text[0] in "+-" and text[1] in _CURRENCY_SYMBOLS:
        sign, text = text[0], text[1:]
    return sign + text.strip(_CURRENCY_SYMBOLS).strip()


def _parse_number(text: str) -> float | None:
    """A number written with thousands separators or a currency, or ``None``.

    "1,234.50" and "1.234,50" are both 1234.5: the last separator is the decimal
    one. A lone comma followed by one or two digits ("12,5") is a decimal comma;
    followed by three ("1,234") it groups thousands. More forgiving than
    :func:`soni.actions.validators.as_number` on purpose: this reads an amount as a person types it.
    """
    text = _strip_currency(text)
    if _GROUPED_COMMA.fullmatch(text):
        text = text.replace(",", "")
    elif _GROUPED_DOT.fullmatch(text) and (text.count(".") > 1 or "," in text):
        text = text.replace(".", "").replace(",", ".")
    elif _DECIMAL_COMMA.fullmatch(text):
        text = text.replace(",", ".")
    if not _PLAIN_NUMBER.fullmatch(text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


def _float(value: Any) -> float:
    if isinstance(value, bool):
        raise _reject("float", value, "a number")
    if _huge(value):
        raise _too_long("float", value)  # float() would overflow
    if isinstance(value, int | float):
        number = float(value)
        if math.isfinite(number):
            return number
    elif isinstance(value, str):
        if sum(c.isdigit() for c in value) > MAX_DIGITS:
            raise _too_long("float", value)
        parsed = _parse_number(value)
        if parsed is not None:
            return parsed
    raise _reject("float", value, "a number")


_TRUE = frozenset({"true", "yes", "y", "1", "on"})
_FALSE = frozenset({"false", "no", "n", "0", "off"})


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise _reject("boolean", value, "yes or no")


_DAY_FIRST = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
        match = _DAY_FIRST.fullmatch(text)
        if match:
            day, month, year = (int(part) for part in match.groups())
            try:
                return dt.date(year, month, day)
            except ValueError as exc:
                message = f"{text!r} is not a valid date: {exc}"
                raise SlotValueError("date", value, message) from None
    raise _reject("date", value, "a date (yyyy-mm-dd or dd/mm/yyyy)")


# "14:30", "14.30", "2:30 pm", "2pm", "2 p.m.", "14:30:00": a clock time as written.
_CLOCK = re.compile(
    r"(?P<hour>\d{1,2})(?:[:.h](?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.\d{1,6})?)?)?"
    r"(?:\s*(?P<half>[ap])\.?\s*m\.?)?"
)
_NAMED_TIMES: Final = {
    "noon": dt.time(12),
    "midday": dt.time(12),
    "12 noon": dt.time(12),
    "midnight": dt.time(0),
}
_TIME_FORMS = "a time (14:30, 2:30 pm, 2pm, noon or midnight)"


def _time(value: Any) -> dt.time:
    if isinstance(value, dt.datetime):
        value = value.time() if value.tzinfo is None else value.timetz()
    if isinstance(value, dt.time):
        if value.tzinfo is not None:
            raise SlotValueError("time", value, "expected a time without a time zone")
        return value
    if isinstance(value, str):
        text = " ".join(value.strip().lower().split())
        if text in _NAMED_TIMES:
            return _NAMED_TIMES[text]
        match = _CLOCK.fullmatch(text)
        # A bare number ("7") is no time: 7 in the morning or in the evening?
        if match and (match.group("minute") or match.group("half")):
            hour, half = int(match.group("hour")), match.group("half")
            minute, second = int(match.group("minute") or 0), int(match.group("second") or 0)
            if half is not None:
                if not 1 <= hour <= 12:
                    message = f"{value.strip()!r} is not a valid time: 1 to 12 before am or pm"
                    raise SlotValueError("time", value, message)
                hour = hour % 12 + (12 if half == "p" else 0)
            try:
                return dt.time(hour, minute, second)
            except ValueError as exc:
                message = f"{value.strip()!r} is not a valid time: {exc}"
                raise SlotValueError("time", value, message) from None
    raise _reject("time", value, _TIME_FORMS)


# A date and a time: "2026-12-06T14:30", "2026-12-06 14:30", "06/12/2026 at 2pm".
_DATE_AND_TIME = re.compile(r"(?P<date>[\d/.-]+?)(?:\s*t\s*|\s+at\s+|\s*,\s*|\s+)(?P<time>\d.*)")

_ZONE = re.compile(r"\d(?:z|[+-]\d{2}:?\d{2})$")


def _datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            # Naive on purpose: a time zone is a question of its own, not guessed here.
            raise SlotValueError("datetime", value, "expected a date and time without a time zone")
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if _ZONE.search(text):
            raise SlotValueError("datetime", value, "expected a date and time without a time zone")
        match = _DATE_AND_TIME.fullmatch(text)
        if match:
            try:
                day, moment = _date(match.group("date")), _time(match.group("time"))
            except SlotValueError as exc:
                raise SlotValueError("datetime", value, exc.message) from None
            return dt.datetime.combine(day, moment)
    raise _reject("datetime", value, "a date and a time (yyyy-mm-dd hh:mm)")


def _email(value: Any) -> str:
    if isinstance(value, str):
        text = value.strip()
        if is_email(text):
            name, _, domain = text.rpartition("@")
            return f"{name}@{domain.lower()}"
    raise _reject("email", value, "an e-mail address")


def normalise_choices(choices: Any) -> dict[str, list[str]]:
    """Choices in their one canonical form, ``{value: [synonyms]}``.

    Accepts a list of values, a mapping of value to synonyms (a list, one text, or
    nothing), or a list mixing values and one-key mappings.

    Raises:
        ValueError: any other shape, or a value listed twice.
    """
    result: dict[str, list[str]] = {}

    def add(value: Any, synonyms: Any) -> None:
        if not _is_text(value):
            raise ValueError(f"a choice must be text, got {value!r}")
        key = str(value)
        if key in result:
            raise ValueError(f"choice {key!r} is listed twice")
        if synonyms is None:
            words: list[str] = []
        elif _is_text(synonyms):
            words = [str(synonyms)]
        elif isinstance(synonyms, list | tuple) and all(_is_text(s) for s in synonyms):
            words = [str(s) for s in synonyms]
        else:
            raise ValueError(f"the synonyms of {key!r} must be a list of texts")
        result[key] = words

    if isinstance(choices, Mapping):
        for value, synonyms in choices.items():
            add(value, synonyms)
    elif isinstance(choices, list | tuple):
        for item in choices:
            if isinstance(item, Mapping):
                if len(item) != 1:
                    raise ValueError(
                        "a choice with synonyms is a one-key mapping: {value: [synonyms]}"
                    )
                [(value, synonyms)] = item.items()
                add(value, synonyms)
            else:
                add(item, None)
    else:
        raise ValueError("choices must be a list of values or a mapping of value to synonyms")
    return result


def _is_text(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _choice(value: Any, choices: dict[str, list[str]]) -> str:
    if not _is_text(value) or _huge(value):
        raise _reject("choice", value, "one of " + ", ".join(choices))
    text = str(value).strip()
    if text in choices:
        return text
    folded = text.casefold()
    for canonical, synonyms in choices.items():
        if folded == canonical.casefold() or any(folded == s.casefold() for s in synonyms):
            return canonical
    raise _reject("choice", value, "one of " + ", ".join(choices))


_READERS: Final[dict[SlotKind, Callable[[Any], Any]]] = {
    "string": _string,
    "integer": _integer,
    "float": _float,
    "boolean": _boolean,
    "date": _date,
    "time": _time,
    "datetime": _datetime,
    "email": _email,
}
