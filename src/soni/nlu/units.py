"""What a numeric slot is counted in, from the words its author wrote for it.

"How many packs?", "the weight in kg", a slot named ``party_size`` described as "how
many people": a number said next to one of those words ("5 packs", "a 5kg parcel",
"a table for 4 people") is a value for that slot even in a message that asks for
something else. ``unit_words`` reads them once, when a bot loads.
"""

from __future__ import annotations

import re

from soni.nlu._text import normal
from soni.nlu._times import lean_of

__all__ = ("day_half_words", "unit_words")

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
