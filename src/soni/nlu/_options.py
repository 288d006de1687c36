"""Which offered option a message picks at a pending confirmation.

By ordinal ("the second one", "option 3", "the last one"), by name or label ("delete
it", "the airport one"), by the order of the numbers in the labels ("the latest one",
"whatever is cheapest"), by a number one label holds ("the 89 euro one"), or by the
hours a label gives ("after 6" for "Evening (17:00-21:00)"). A message that speaks
against something ("not the 89 one", "I'm busy after 6") picks nothing by a place, a
number or an order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from soni.nlu._text import normal
from soni.nlu._times import find_time, lean_of
from soni.nlu.protocol import PendingInfo

__all__ = ("AGAINST", "NEGATION", "chosen", "in_window", "name_words")

_ORDINAL_WORDS = {
    "first": 1, "1st": 1, "one": 1, "second": 2, "2nd": 2, "two": 2, "third": 3, "3rd": 3,
    "three": 3, "fourth": 4, "4th": 4, "four": 4, "fifth": 5, "5th": 5, "five": 5,
}  # fmt: skip


_ORDINAL = re.compile(
    r"\b(?:the\s+)?(first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|last)\b"
    r"|\b(?:option|number|no|#)\s*(\d|one|two|three|four|five)\b|^(\d)$"
)


NEGATION = re.compile(r"\b(?:no|not|never|wrong|instead|rather)\b|n't\b")


# Words of an option's label that do not name it: "the night one" is no pick of "one
# price per kWh".
_NOT_NAMING = frozenset(
    {"file", "the", "for", "with", "one", "per", "from", "and", "all", "any", "you", "your", "our"}
)


_MOST = re.compile(
    r"\b(?P<high>latest|later one|the later|most expensive|biggest|largest|longest|"
    r"as late as possible)\b"
    r"|\b(?P<low>earliest|earlier one|the earlier|soonest|cheapest|smallest|shortest|"
    r"as early as possible|as soon as possible|first thing)\b"
)


_SIDE_OF_HOUR = re.compile(
    r"\b(?P<side>not before|not after|after|before|from)\s+(?P<h>\d{1,2})\b(?![:.]\d)"
)


_WINDOW = re.compile(r"(\d{1,2})[:.](\d{2})\s*(?:-|\u2013|to|until)\s*(\d{1,2})[:.](\d{2})")


def in_window(said: str, pending: PendingInfo) -> str | None:
    """ "around half past six", "after 6": the option whose label's hours hold the time
    said, when every label gives hours ("Evening (17:00-21:00)")."""
    windows: list[tuple[int, int, str]] = []
    for option in pending.options:
        found = _WINDOW.search(pending.labels.get(option) or "")
        if found is None:
            return None
        h1, m1, h2, m2 = (int(g) for g in found.groups())
        windows.append((h1 * 60 + m1, h2 * 60 + m2, option))
    moment = find_time(said, loose=True)
    if moment is not None:
        minutes = moment.time.hour * 60 + moment.time.minute
    else:
        # "after 6", "before 10": just past (or before) the hour named.
        side = _SIDE_OF_HOUR.search(said)
        if side is None:
            return None
        later = side.group("side") in ("after", "from", "not before")
        minutes = int(side.group("h")) * 60 + (1 if later else -1)
    # "6" without am or pm: whichever half of the day an option holds.
    candidates = [minutes, minutes + 12 * 60] if minutes < 13 * 60 else [minutes]
    for at in candidates:
        inside = [o for start, end, o in windows if start <= at < end]
        if len(inside) == 1:
            return inside[0]
    return None


_FIRST_NUMBER = re.compile(r"(\d+(?:[.:]\d+)?)")


def _superlative(said: str, options: list[str], labels: Mapping[str, str]) -> str | None:
    """ "the latest one", "whatever is cheapest": the option whose label holds the
    highest (or lowest) number — a time, a price — when every label holds one."""
    most = _MOST.search(said)
    if most is None or len(options) < 2:
        return None
    keyed: list[tuple[float, str]] = []
    for option in options:
        found = _FIRST_NUMBER.search(labels.get(option) or "")
        if found is None:
            return None  # not every option says a number: no order to go by
        keyed.append((float(found.group(1).replace(":", ".")), option))
    keyed.sort()
    if len({k for k, _ in keyed}) != len(keyed):
        return None  # a tie: ask again
    return keyed[-1][1] if most.group("high") else keyed[0][1]


def name_words(option: str) -> list[str]:
    """The words of an option's own name that say which it is ("upgrade_to_plus": plus)."""
    return [
        w for w in normal(option.replace("_", " ")).split() if len(w) > 2 and w not in _NOT_NAMING
    ]


AGAINST = re.compile(
    r"\b(?:not|never|n't|cannot|can not|busy|too (?:much|expensive|early|late|far|long)|"
    r"rather not|instead of|other than|except|anything but|without)\b|n't\b"
)


def _named_only(said: str, pending: PendingInfo) -> str | None:
    """The one option whose own name is said, in a message that is against something
    else ("not the morning, the evening one" reads its words after the "not" apart)."""
    hits = [
        o
        for o in pending.options
        if any(re.search(rf"\b{re.escape(w)}\b", said) for w in name_words(o))
    ]
    return None if len(hits) != 1 or NEGATION.search(said) else hits[0]


def _by_number(said: str, options: list[str], labels: Mapping[str, str]) -> str | None:
    """ "the 89 euro one", "the 14:00 one": the one option whose label holds the number
    or the time said."""
    clocks = {_clock(c) for c in _CLOCK.findall(said)}
    if len(clocks) == 1:
        clock = clocks.pop()
        # "5:45 pm" for a label's "17:45": the afternoon reading when the message says
        # pm, or when no label holds the morning one.
        hour, minutes = clock.split(":")
        later = f"{int(hour) + 12:02d}:{minutes}" if int(hour) < 12 else clock
        readings = [later] if lean_of(said) == "pm" else [clock, later]
        for reading in readings:
            timed = [
                o
                for o in options
                if reading in {_clock(c) for c in _CLOCK.findall(labels.get(o) or "")}
            ]
            if timed:
                return timed[0] if len(timed) == 1 else None
        return None
    spoken = find_time(said, loose=False)
    if spoken is not None and not clocks:
        # "half past 3 is fine" for "Entry at 15:30": a time said in words, either half
        # of the day when it does not say which.
        moment = spoken.time
        heard = {f"{moment.hour:02d}:{moment.minute:02d}"}
        if moment.hour < 12 and lean_of(said) is None and not _AM_SAID.search(said):
            heard.add(f"{moment.hour + 12:02d}:{moment.minute:02d}")
        in_words = [
            o for o in options if heard & {_clock(c) for c in _CLOCK.findall(labels.get(o) or "")}
        ]
        if len(in_words) == 1:
            return in_words[0]
    numbers = set(_DIGITS.findall(said))
    if len(numbers) != 1:
        return None
    number = numbers.pop()
    holding = [o for o in options if number in _DIGITS.findall(labels.get(o) or "")]
    return holding[0] if len(holding) == 1 else None


_CLOCK = re.compile(r"\b\d{1,2}[:.]\d{2}\b")
_BARE = re.compile(r"^(?:(?:the|a|an|size|in|ok|okay)\s+)+|(?:\s+(?:please|pls|one|then|thanks))+$")
_AM_SAID = re.compile(r"\d\s*a\.?\s?m\b")
_MIDDLE = re.compile(r"\b(?:middle|in between|the one in between)\b")
_NUMBER_NAMES = {str(n): w for n, w in enumerate(
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
     "eleven", "twelve"])}  # fmt: skip
_NUMBER_WORD = re.compile(r"\b(?:1[0-2]|[0-9])\b(?![:.][0-9])")
_HOUR_SAID = re.compile(r"\b(\d{1,2})\s*(am|pm)\b|\b(\d{1,2})\s*o'?clock\b")


def _short_names(option: str, label: str | None) -> set[str]:
    """An option said in the fewest words: its whole label, what its label puts in
    brackets ("Small (S)"), the last word of its name ("exchange_to_xl")."""
    names = {option.rsplit("_", 1)[-1]}
    if label:
        names.add(normal(label))
        names.update(normal(inner) for inner in _BRACKETED.findall(label))
    return {n for n in names if n and n not in _SAYS_YES_OR_NO}


# An option named "refund_no" is not picked by a "no".
_SAYS_YES_OR_NO = frozenset({"yes", "no", "y", "n", "ok", "okay", "none", "skip", "cancel"})


_BRACKETED = re.compile(r"\(([^()]{1,20})\)")


def _by_hour(said: str, options: list[str], labels: Mapping[str, str]) -> str | None:
    """ "the 7am one": the one option whose label's time is in that hour ("07:15
    morning flight")."""
    found = _HOUR_SAID.search(said)
    if found is None:
        return None
    hour = int(found.group(1) or found.group(3)) % 12
    if found.group(2) == "pm":
        hour += 12
    hours = {hour} if found.group(2) else {hour, hour + 12}
    holding = [
        o
        for o in options
        if any(
            int(c.split(":")[0].split(".")[0]) in hours for c in _CLOCK.findall(labels.get(o) or "")
        )
    ]
    return holding[0] if len(holding) == 1 else None


def _clock(said: str) -> str:
    """ "9.30" and "09:30" as one spelling."""
    hours, minutes = re.split(r"[:.]", said)
    return f"{int(hours):02d}:{minutes}"


_DIGITS = re.compile(r"(?<![\d.,:])\d+(?:[.,]\d+)?(?![\d:])")


def chosen(said: str, pending: PendingInfo) -> str | None:
    """The offered option ``said`` picks: by ordinal, by name, or by label.

    A message that speaks against something ("not the 89 one", "89 is too much", "I'm
    busy after 6") picks nothing by a place, a number or an order: what it is against
    is not known to be the pick.
    """
    options = list(pending.options)
    if AGAINST.search(said):
        return _named_only(said, pending)
    ordinal = _ORDINAL.search(said)
    if ordinal is not None:
        word = next(g for g in ordinal.groups() if g)
        index = len(options) if word == "last" else _ORDINAL_WORDS.get(word) or int(word)
        if 1 <= index <= len(options):
            return options[index - 1]
    if _MIDDLE.search(said) and len(options) % 2 == 1 and len(options) > 1:
        return options[len(options) // 2]  # "the middle one" of three
    hour = _by_hour(said, options, pending.labels)
    if hour is not None:
        return hour
    most = _superlative(said, options, pending.labels)
    if most is not None:
        return most
    priced = _by_number(said, options, pending.labels)
    if priced is not None:
        return priced
    said = _NUMBER_WORD.sub(lambda m: _NUMBER_NAMES.get(m.group(0), m.group(0)), said)
    bare = _BARE.sub("", said)
    short = [o for o in options if bare in _short_names(o, pending.labels.get(o))]
    if len(short) == 1:
        return short[0]  # "XL", "S please" for "Extra large (XL)", "Small (S)"
    names: dict[str, str] = {}
    for option in options:
        names[normal(option.replace("_", " "))] = option
        label = pending.labels.get(option)
        if label:
            names[normal(label)] = option
    scored: list[tuple[float, str]] = []
    named: set[str] = set()
    said_words = [w for w in said.split() if len(w) >= 4]
    for name, option in names.items():
        words = [w for w in name.split() if len(w) > 2 and w not in _NOT_NAMING and w.isalpha()]
        hit = any(re.search(rf"\b{re.escape(w)}", said) for w in words) or any(
            OSA.distance(w, s) == 1 for w in words if len(w) >= 5 for s in said_words
        )  # "montly" for "monthly"
        if hit:
            named.add(option)
        score = fuzz.token_set_ratio(name, said) if hit else fuzz.ratio(name, said)
        scored.append((float(score), option))
    if len(named) > 1:
        # "plus is fine" when another label says "everything plus training": the
        # option whose own name has the word.
        own = {
            o for o in named if any(re.search(rf"\b{re.escape(w)}\b", said) for w in name_words(o))
        }
        named = own or named
    if len(options) > 1 and len(named) == 1 and not NEGATION.search(said):
        # Only one option has a word of its name or label in the message: "ok
        # morning then" for "Morning (8:00-12:00)".
        return named.pop()
    scored.sort(reverse=True)
    if not scored or scored[0][0] < 70:
        return None
    rival = next((s for s in scored[1:] if s[1] != scored[0][1]), None)
    if rival is not None and rival[0] >= scored[0][0] - 5:
        return None
    return scored[0][1]
