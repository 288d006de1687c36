"""Times of day as people say them: "2pm", "14:30", "half past two", "at 7 tonight".

``find_time`` reads the first time in a normalised message. Which hour a bare "7"
means depends on what else the message says: "tonight", "in the evening" or "pm"
put it after noon, "in the morning" before; with nothing said, the slot's own prompt
may lean one way ("What time this evening?"), and otherwise an hour from 1 to 6 is in
the afternoon (nobody books a table at half past two in the night) and one from 7
to 11 in the morning. A zero in front ("07:30") or an hour past 12 is a 24-hour
clock and is read as written.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal, TypeAlias

__all__ = ("Lean", "TimeFound", "find_time", "lean_of", "without_times")

Lean: TypeAlias = Literal["am", "pm"] | None

_HOUR_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
_MINUTE_WORDS = {
    "oh five": 5, "o five": 5, "five": 5, "ten": 10, "quarter": 15, "a quarter": 15,
    "fifteen": 15, "twenty": 20, "twenty five": 25, "twenty-five": 25, "half": 30,
    "thirty": 30, "thirty five": 35, "thirty-five": 35, "forty": 40, "forty five": 45,
    "forty-five": 45, "fifty": 50, "fifty five": 55, "fifty-five": 55,
}  # fmt: skip
_HOUR_NAMES = "(?:" + "|".join(_HOUR_WORDS) + ")"
_H = r"(?:\d{1,2}(?![\d:.,])|" + "|".join(_HOUR_WORDS) + r")"
_AP = r"(?:\s*(?P<{0}>[ap])\s?m\b)?"
# Minutes said after the hour word ("seven thirty"): not "five" or "ten", which would
# read "two ten" in "two ten euro notes" as a time.
_SPOKEN_MINUTES = (
    r"oh five|o five|fifteen|twenty[ -]five|thirty[ -]five|forty[ -]five|fifty[ -]five|"
    r"twenty|thirty|forty|fifty"
)
_PAST_MINUTES = (
    r"a quarter|quarter|half|twenty[ -]five|twenty|ten|five|\d{1,2}(?=\s+minutes?\b)|"
    r"\d{1,2}(?=\s+(?:past|after)\b)"
)
_TIME = re.compile(
    r"\b(?P<lead>at\s+(?:around\s+|about\s+|roughly\s+)?)?(?:"
    r"(?P<named>noon|midday|midnight)\b"
    rf"|(?P<p_m>{_PAST_MINUTES})(?:\s+minutes?)?\s+(?P<p_dir>past|after|to|till|til|before)\s+"
    rf"(?P<p_h>{_H})\b{_AP.format('p_ap')}"
    rf"|(?P<c_h>\d{{1,2}})(?P<c_sep>[:.])(?P<c_m>[0-5]\d)(?![\d.,]){_AP.format('c_ap')}"
    r"|(?P<a_h>" + _H + r")\s*(?P<a_ap>[ap])\s?m\b"
    r"|(?P<o_h>" + _H + r")\s*o\s?'?\s?clock\b"
    rf"|(?P<s_h>{'|'.join(_HOUR_WORDS)})\s+(?P<s_m>{_SPOKEN_MINUTES})\b{_AP.format('s_ap')}"
    r"|half\s+(?P<hf_h>" + _H + r")\b"
    r"|(?P<b_h>" + _H + r")\b"
    r")"
)
_PM = re.compile(
    r"\b(?:tonight|evening|night|afternoon|dinner|supper|after work|after lunch|pm|p m)\b"
)
_AM = re.compile(r"\b(?:morning|breakfast|before work|a m)\b")
# Words that may follow "at 8" in a request without making it "at 8 <things>".
_AFTER_AT_WORDS = """
    tonight today tomorrow this next on for and then please pls ok okay sharp if or in
    with the evening morning afternoon night monday tuesday wednesday thursday friday
    saturday sunday instead by near outside inside indoors outdoors upstairs downstairs
    is works would could
"""
_AFTER_AT = frozenset(_AFTER_AT_WORDS.split())
# What may stand around a bare hour that answers "What time?": "7 please", "say 8".
_AROUND_BARE = re.compile(
    r"\b(?:please|pls|thanks|thank you|ok|okay|maybe|say|let us say|lets say|how about|"
    r"since|from|until|till|by|ish|"
    r"around|about|roughly|at|sharp|then|is fine|works|suits me|would be great|"
    r"tonight|this evening|in the evening|evening|this morning|in the morning|morning|"
    r"this afternoon|in the afternoon|afternoon|at night)\b"
)


_ISH = re.compile(r"(?<=\d)ish\b")


@dataclass(frozen=True, slots=True)
class TimeFound:
    """A time found in a message: the time, where it was said, and how plainly.

    ``plain`` is false for a bare hour after "at" ("at 8"): a time in a request that
    starts a flow, but no reason to take the 8 away from a count.
    """

    time: dt.time
    start: int
    end: int
    plain: bool


def lean_of(said: str) -> Lean:
    """Whether a message (or a prompt) says the afternoon/evening or the morning."""
    if _PM.search(said):
        return "pm"
    if _AM.search(said):
        return "am"
    return None


def find_time(said: str, *, loose: bool, lean: Lean = None) -> TimeFound | None:
    """The first time in ``said`` (normalised text).

    Args:
        said: The message, as ``normal`` gives it.
        loose: The message answers "What time?": a bare hour ("7", "at 7") and
            "2.30" are times. Otherwise only what says it is a time is one ("8pm",
            "14:30", "noon", "half past two", "at 8" followed by nothing that counts).
        lean: Which half of the day the slot's prompt leans to, when the message
            does not say.
    """
    lean = lean_of(said) or lean
    said = _ISH.sub("   ", said)  # "9ish" is about 9 (same length: positions hold)
    for match in _TIME.finditer(said):
        found = _read(match, said, loose=loose, lean=lean)
        if found is not None:
            return found
    return None


def without_times(said: str) -> str:
    """``said`` without the times that plainly are times ("7:30", "8pm", "noon").

    A number inside one is no count ("7:30" is not 7) and no day of the month.
    """
    if not _MAYBE_TIME.search(said):
        return said  # most messages: one cheap search
    kept: list[str] = []
    last = 0
    for match in _TIME.finditer(said):
        found = _read(match, said, loose=False, lean=None)
        if found is not None and found.plain:
            kept.append(said[last : found.start])
            last = found.end
    kept.append(said[last:])
    return " ".join(" ".join(kept).split())


# A cheap first look: a colon or a dot between digits, am/pm, o'clock, a named time,
# "past"/"to" after a minute word.
_MAYBE_TIME = re.compile(
    rf"\d[:.]\d|(?:\d|\b{_HOUR_NAMES})\s*[ap]\s?m\b|clock|noon|midday|midnight|"
    rf"\b(?:past|after|to|till|til|before)\s+(?:\d|{_HOUR_NAMES}\b)"
)


def _hour(word: str) -> int:
    return _HOUR_WORDS[word] if word in _HOUR_WORDS else int(word)


def _read(match: re.Match[str], said: str, *, loose: bool, lean: Lean) -> TimeFound | None:
    groups = match.groupdict()
    start = match.start()
    end = match.end()
    if groups["named"]:
        moment = dt.time(0) if groups["named"] == "midnight" else dt.time(12)
        return TimeFound(moment, start, end, plain=True)
    if groups["p_h"]:
        minutes = _MINUTE_WORDS.get(groups["p_m"]) or int(groups["p_m"])
        if minutes >= 60:
            return None
        # "ten to twelve people" is a range as much as 11:50: only a quarter or a half
        # "to" an hour plainly is a time; the others need room for no count after them.
        ranged = groups["p_dir"] not in ("past", "after") and "quarter" not in groups["p_m"]
        if ranged and not loose and not _nothing_counted(said[end:]):
            return None
        hour = _resolve(_hour(groups["p_h"]), groups["p_ap"], lean, padded=False)
        if hour is None:
            return None
        total = hour * 60 + (minutes if groups["p_dir"] in ("past", "after") else -minutes)
        total %= 24 * 60
        return TimeFound(dt.time(total // 60, total % 60), start, end, plain=not ranged)
    if groups["c_h"]:
        ap = groups["c_ap"]
        if groups["c_sep"] == "." and ap is None and not loose:
            return None  # "2.30" in a request is more likely a price than a time
        padded = groups["c_h"].startswith("0") and len(groups["c_h"]) == 2
        return _at(int(groups["c_h"]), int(groups["c_m"]), ap, lean, padded, match, plain=True)
    if groups["a_h"]:
        return _at(_hour(groups["a_h"]), 0, groups["a_ap"], lean, False, match, plain=True)
    if groups["o_h"]:
        return _at(_hour(groups["o_h"]), 0, None, lean, False, match, plain=True)
    if groups["s_h"]:
        minutes = _MINUTE_WORDS[groups["s_m"].replace("-", " ")]
        return _at(_hour(groups["s_h"]), minutes, groups["s_ap"], lean, False, match, plain=True)
    if groups["hf_h"]:  # "half seven": half past seven, as said in Britain
        return _at(_hour(groups["hf_h"]), 30, None, lean, False, match, plain=True)
    word = groups["b_h"]
    if groups["lead"]:
        if not loose and not _nothing_counted(said[end:]):
            return None  # "at 5 stores", "at 3 people per table"
        padded = word.startswith("0") and len(word) == 2
        return _at(_hour(word), 0, None, lean, padded, match, plain=False)
    if loose and not _AROUND_BARE.sub(" ", said[:start] + " " + said[end:]).strip():
        padded = word.startswith("0") and len(word) == 2
        return _at(_hour(word), 0, None, lean, padded, match, plain=False)
    return None


def _nothing_counted(after: str) -> bool:
    """Whether the words after a number leave it an hour ("at 8 tonight", not "at 8 stores")."""
    following = after.split(maxsplit=1)
    return not following or following[0] in _AFTER_AT


def _at(
    hour: int,
    minute: int,
    ap: str | None,
    lean: Lean,
    padded: bool,
    match: re.Match[str],
    *,
    plain: bool,
) -> TimeFound | None:
    resolved = _resolve(hour, ap, lean, padded=padded)
    if resolved is None or not 0 <= minute < 60:
        return None
    return TimeFound(dt.time(resolved, minute), match.start(), match.end(), plain)


def _resolve(hour: int, ap: str | None, lean: Lean, *, padded: bool) -> int | None:
    """The hour on a 24-hour clock, or ``None`` when it is no hour."""
    if ap is not None:
        if 1 <= hour <= 12:
            return hour % 12 + (12 if ap == "p" else 0)
        return hour if ap == "p" and 13 <= hour <= 23 else None
    if hour > 23:
        return None
    if hour == 0 or hour >= 12 or padded:
        return hour
    if lean == "pm" or (lean is None and hour <= 6):
        return hour + 12
    return hour
