"""What a slot's values look like, from the words its author wrote for it.

"How many packs?", "the weight in kg", a slot named ``party_size`` described as "how
many people": a number said next to one of those words ("5 packs", "a 5kg parcel",
"a table for 4 people") is a value for that slot even in a message that asks for
something else. ``unit_words`` reads them once, when a bot loads; ``example_shape``
reads the shape of a code from the example in a prompt ("It looks like PX4482913DE",
"It starts with PU-").
"""

from __future__ import annotations

import re

from soni.nlu._text import normal
from soni.nlu._times import lean_of

__all__ = ("PAST", "day_half_words", "example_shape", "past_words", "unit_words")

# The ways people say the same unit; any one of a group brings the others.
_SAME = (
    {"kg", "kgs", "kilo", "kilos", "kilogram", "kilograms", "kilogramme"},
    {"g", "gram", "grams"},
    {"lb", "lbs", "pound", "pounds"},
    {"people", "person", "persons", "guests", "guest", "adults", "pax", "diners", "of us"},
    {"pack", "packs", "box", "boxes", "packet", "packets"},
    {"night", "nights"},
    {"room", "rooms"},
    {"ticket", "tickets"},
    {"seat", "seats"},
    {"item", "items", "piece", "pieces", "pcs"},
    {"euro", "euros", "eur", "€"},
    {"dollar", "dollars", "usd", "$"},
    {"km", "kms", "kilometre", "kilometres", "kilometer", "kilometers"},
    {"hour", "hours", "hrs", "h"},
    {"minute", "minutes", "mins", "min"},
    {"day", "days"},
    {"user", "users"},
    {"child", "children", "kid", "kids", "kiddo", "kiddos"},
    {"bag", "bags", "suitcase", "suitcases", "luggage"},
)
# The words that count people, as a unit.
PEOPLE = frozenset(_SAME[3])
_HOW_MANY = re.compile(r"\bhow many (\w+)")
_IN_UNIT = re.compile(
    r"\bin (kg|kgs|kilos|grams|g|lbs|pounds|euros|eur|dollars|km|hours|minutes)\b"
)
# Words in a slot's name that are not units ("party_size": size is no unit).
_NOT_UNITS = frozenset({"number", "size", "count", "amount", "total", "of", "the", "new", "old"})


def unit_words(name: str, *texts: str | None) -> frozenset[str]:
    """The words a number for the slot may be said with."""
    found: set[str] = set()
    for text in texts:
        said = normal(text or "")
        found.update(_HOW_MANY.findall(said))
        found.update(_IN_UNIT.findall(said))
    found.update(w for w in name.lower().split("_") if len(w) > 2 and w not in _NOT_UNITS)
    for group in _SAME:
        if found & group:
            found |= group
    if "party" in found:  # "party_size": the people in it
        found |= PEOPLE
    return frozenset(found)


def day_half_words(*texts: str | None) -> frozenset[str]:
    """``{"pm"}`` or ``{"am"}`` when a time slot's prompt says which half of the day.

    "What time this evening?": a bare "at 8" is then 20:00, not 08:00.
    """
    lean = lean_of(normal(" ".join(text or "" for text in texts)))
    return frozenset({lean}) if lean else frozenset()


_EXAMPLE = re.compile(
    r"\b(?=[A-Za-z0-9-]*\d)(?=[A-Za-z0-9-]*[A-Za-z])[A-Za-z0-9][A-Za-z0-9-]{4,}\b"
)
_STARTS_WITH = re.compile(r"\b(?:starts?|begins?) with\s+['\"]?([A-Za-z]{1,6})-", re.IGNORECASE)
_PIECE = re.compile(r"[A-Za-z]+-|[A-Za-z]+|\d+|-")


def example_shape(*texts: str | None) -> re.Pattern[str] | None:
    """The shape of a code, from the one example a text slot's prompt gives.

    "It looks like PX4482913DE" → two letters, about nine digits, two letters;
    "e.g. INC-20417" or "It starts with PU-" → that prefix (a prefix before a dash is
    the code's own), then digits. Understanding then takes only such a span as the
    slot's value ("ref PU-55120" fills the pickup reference, not the tracking number).
    The slot's validator still decides what is valid. ``None`` when the texts give no
    example, or more than one.
    """
    said = " ".join(t for t in texts if t)
    examples = {m.group(0) for m in _EXAMPLE.finditer(said)}
    starts = {m.group(1) for m in _STARTS_WITH.finditer(said)}
    if len(examples) + len(starts) != 1:
        return None
    if starts:
        prefix = starts.pop()
        return re.compile(rf"(?i:{re.escape(prefix)})-?\d[A-Za-z0-9]*")
    parts: list[str] = []
    for piece in _PIECE.findall(examples.pop()):
        if piece.endswith("-") and piece[:-1].isalpha():
            parts.append(f"(?i:{re.escape(piece[:-1])})[- ]?")  # "INC-": the code's own
        elif piece.isalpha():
            parts.append(f"[A-Za-z]{{{len(piece)}}}")
        elif piece.isdigit():
            low = max(1, len(piece) - 2)
            parts.append(rf"\d{{{low},{len(piece) + 2}}}")
        else:
            parts.append("-?")
    return re.compile("".join(parts))


PAST = "past"
_PAST_SAID = re.compile(
    r"\b(?:did|happened|happen|occurred|occur|was|were|born|birth|since|ago|started|"
    r"noticed|lost|stolen|bought|purchased|incident|accident|last)\b"
)


def past_words(name: str, *texts: str | None) -> frozenset[str]:
    """``{"past"}`` when a date slot asks about something that already happened ("When
    did it happen?", ``incident_date``, ``date_of_birth``): "monday" is then the one
    gone, not the one to come."""
    said = normal(" ".join((name.replace("_", " "), *(t or "" for t in texts))))
    return frozenset({PAST}) if _PAST_SAID.search(said) else frozenset()
