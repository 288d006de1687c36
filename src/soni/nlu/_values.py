"""Finding a slot's value in a message, by the slot's type.

``answer`` reads a message that answers the question for a slot ("2 packs please"
for a quantity); ``mention`` looks for a value of a slot nobody asked about ("… for
tomorrow"), and is stricter: a free-text slot is never filled by a mention, a
date needs a word that says "date", and a time must say it is one ("8pm", "at 8"). A
slot with a ``pattern`` is the exception for free text: its value is the span of the
message the pattern matches, asked or not.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
import threading
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rapidfuzz import fuzz, process

from soni.nlu._text import CODE, find_numbers, normal
from soni.nlu._times import Lean, find_time, without_times
from soni.nlu.protocol import SlotInfo
from soni.nlu.units import PAST, PEOPLE

__all__ = (
    "answer",
    "choice_of",
    "distinctive",
    "for_a_person",
    "free_text",
    "holds_a_code",
    "lone_count",
    "matched_span",
    "mention",
    "names_a_date",
    "offered_half",
    "pair_of_people",
    "says_none",
    "times_of_day",
)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?:\+|\()?\d[\d\s().-]{5,}\d")
_DATE_WORDS = re.compile(
    r"\b(today|tonight|tomorrow|yesterday|monday|tuesday|wednesday|thursday|friday|"
    r"saturday|sunday|mon|tue|wed|thu|fri|sat|sun|january|february|march|april|may|june|"
    r"july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|"
    r"sept|oct|nov|dec|week|weekend|month|day|days|weeks|\d{1,2}(?:st|nd|rd|th)|"
    r"\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}(?:/\d{2,4})?)\b"
)
_YES = {"yes", "y", "yeah", "yep", "true", "sure", "correct", "right", "ok", "okay"}
_NO = {"no", "n", "nope", "nah", "false", "not", "never", "wrong"}
# Words around a free-text answer that are not part of it.
_LEAD = re.compile(
    r"^(?:(?:it'?s|its|it is|it should be|should be|that'?s|that is|to|for|my|the|his|"
    r"her|their|name is|the name is|i'?m|i am|um+|uh+|well|please|call it|make it|ok|"
    r"okay|yes|yeah|sure|sorry|oops|oh|ah|found it|got it|here it is|here you go|here|"
    r"a copy of|copy of|a book called|the book called|the one called|one called|"
    r"one named|called|named|name on it is|the name on it is|name on the card is|just|only|then|"
    r"ok then|okay then|hold on|hang on|wait|fine|alright|right|at|with|"
    r"i'?m with|i am with|we'?re with|we are with)(?:[\s,:!]|\.\.\.|\u2026|\.(?=\s))+)+"
)
_TAIL = re.compile(
    r"(?:,?\s+(?:please|thanks|thank you|thx|pls|i think|i guess|i believe|probably|"
    r"maybe|if that helps|ok|okay|by the way|btw|lol|instead))+$",
    re.IGNORECASE,
)
# Phrases that carry a value rather than being part of it: "my code is", "the reference
# is", "name's", "under", "it's for my son,", "me,".
_CARRIER = re.compile(
    r"(?:(?:it'?s|it is|this is|that'?s|that is)\s+)?(?:"
    r"(?:my|our|the|his|her|their|your)\s+(?:[a-z-]+\s+){0,2}?"
    r"(?:name|code|number|no|reference|ref|username|user name|login|account|id|postcode|"
    r"zip|zip code|email|phone|booking|order|ticket|tracking number|address|file)\b\s*"
    r"(?:is|'s|:|=|called|named)?\s*"
    r"|(?:(?:for|to|be|is)\s+)?(?:my|our|his|her|their)\s+[a-z]+(?:\s+[a-z]+)?\s*,\s*"
    r"|(?:(?:put|book|reserve|keep)\s+(?:it|that|them|the \w+)\s+)?"
    r"(?:name'?s|named|called|under|in the name of|under the name)\s+"
    # A bare label in front of the value: "username: jsmith", "reference number
    # PU-20931", "postcode 1010", "the number is PX4482913DE".
    r"|(?:the\s+|my\s+)?(?:(?:reference|ref|booking|order|ticket|tracking|account|member|"
    r"membership|customer|user|post|zip|phone)\s+)?"
    r"(?:number|no|nr|num|code|reference|ref|id|username|user name|login|postcode|"
    r"zip|zip code)\b\s*(?:is\b|:|=|#)?\s*"
    r"|(?:me|myself|it'?s me)\s*,\s*"
    r")"
)
# A code (letters and digits) followed by a clause that is not part of it.
_AFTER_CODE = re.compile(r"^([A-Za-z0-9-]*\d[\w-]*)\s*[,;]\s+\S.*$")
# One word (a username, a code) and then a clause about it: "jsmith, he's on holiday".
_AFTER_WORD = re.compile(
    r"^([\w.@-]+)\s*[,;]\s+(?:he|she|they|i|i'm|im|it|it's|we|that|this|because|as|"
    r"since|so|but|and|who|which|my|his|her|their)\b.*$"
    # …and with the comma gone (a normalised message): "amartin i am covering for her".
    r"|^([\w.@-]+)\s+(?:i am|he is|she is|they are|we are|it is|because|since)\b.*$",
    re.IGNORECASE,
)
# A short phrase set off by a colon in front of the value: "it should go to my office:
# Av. Diagonal 640" (not a time: a colon between digits).
# A full stop before a new sentence ("Calle Toledo 40, Madrid. it's been dead since
# the 9th") ends it too; an abbreviation's ("Av. Diagonal") does not.
_CLAUSE_END = re.compile(
    r"[?!]\s+|,\s*(?:and|but|so|because)\s+|\s+since\s+"
    r"|(?<![.\s])\.\s+(?=(?-i:(?:it|it's|its|I|I'm|i|i'm|we|he|she|they|that|this|there|and|but|so|"
    r"my)\b))"
    r"|\s+-\s+(?=(?-i:(?:I|I'm|i|i'm|it|it's|we|that|this|sorry|my)\b))",
    re.IGNORECASE,
)
# Lead words that are a title's or a name's own when written with a capital.
_LEAD_IF_LOWER = frozenset(
    {"just", "only", "right", "fine", "with", "at", "then", "called", "named"}
)
_DESCRIBED = re.compile(r"^(?:it'?s|it is|its|that'?s|that is|they'?re|they are)\s+", re.I)
_EXCLAIMED = re.compile(
    r"^(?:sorry|oops|ok|okay|oh|ah|hi|hello|hey|right|yes|yeah|sure|great)[!.]+\s+(?=\S)",
    re.IGNORECASE,
)
_TITLE = re.compile(r"(?:The|A|An)\s+[A-Z0-9À-Þ]")
_COLON_LEAD = re.compile(r"^[^:\d]{1,40}:\s+(?=\S)")
# "j smith... sorry, jsmith": what comes after the slip is the value.
_SLIP = re.compile(r"(?:\.\.\.|,|\s)\s*(?:sorry|i mean|i meant|oops)\s*[,:]?\s+", re.IGNORECASE)
# Slots whose value is the user's own words: they keep all of them.
_LONG_TEXT = re.compile(r"descri|detail|message|note|reason|comment|problem|issue|summary")
CHOICE_THRESHOLD = 85.0
_ATTACHED = re.compile(r"\b(\d+(?:[.,]\d+)?)(?!st\b|nd\b|rd\b|th\b)([a-z€$£]{1,9})\b")
_CODE_NAME = re.compile(r"code|number|ref|reference|_id$|^id$|tracking|ticket|booking|order")
_ALONE_WORDS = re.compile(
    r"^(?:just|only)?\s*(?:me|myself|i)(?:\s+alone|\s+only)?$|^(?:alone|solo|just one)$"
)
_PAIR = re.compile(
    r"\b(?:me and (?:my|a|the) \w+|(?:my|a) \w+ and (?:me|i|myself)|the two of us|both of us|"
    r"a couple)\b"
)


_NOT_A_COUNT = re.compile(
    r"\b\d{1,2}[:.]\d{2}\b|\b\d{1,2}\s*(?:am|pm)\b|\bat\s+(?:around\s+|about\s+)?\d{1,2}\b(?![:.]\d)|\b\d{4}\b|\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b"
    r"|[€$£]\s*\d+|\d+\s*(?:€|eur|euros|usd|\$)|" + CODE.pattern
)


def lone_count(text: str) -> int | None:
    """The one small number a request gives ("a table for two on friday" → 2), if only
    one: not a time, a year, a date, a code or an amount of money."""
    said = _NOT_A_COUNT.sub(" ", _units_apart(normal(text)))
    numbers = [n for n in find_numbers(said) if not n.ordinal and not n.currency]
    if len(numbers) != 1:
        return None
    value = numbers[0].value
    if isinstance(value, float):
        if not value.is_integer():
            return None
        value = int(value)
    return value if 1 <= value <= 99 else None


def holds_a_code(slot: SlotInfo) -> bool:
    """Whether a free-text slot holds a code (a tracking number, a reference) by its name.

    Only a guess from the name: a slot that declares a ``pattern`` says exactly what
    its values look like, and the pattern is used instead.
    """
    return (
        slot.kind in ("string", "any")
        and slot.pattern is None
        and _CODE_NAME.search(slot.name) is not None
    )


def matched_span(pattern: re.Pattern[str], text: str, *, whole: bool = True) -> str | None:
    """The first span of ``text`` that ``pattern`` matches whole, as the user wrote it
    (a code in capitals typed with a space for its dash, "CN 77120", is joined).

    A span must stand apart from the words around it: ``BK-\\d{4}`` finds nothing in
    "BK-12345" (a mistyped code is refused and asked again, not cut to fit). The
    span is checked with ``fullmatch`` too, as the engine checks the value: a
    pattern that looks around it (``\\b``, anchors) may match in the sentence
    and not on its own. An anchored pattern (``^BK-\\d{4}$``) finds no span in a
    sentence; then, when ``whole``, the answer without the words that carry it
    ("my code is …") is tried whole.
    """
    for start in _starts(text):
        found = pattern.match(text, start)
        if found is None or found.end() == start or not _stands_apart(text, found.end()):
            continue
        span = found.group(0).strip()
        if span and pattern.fullmatch(span):
            return span
    if whole:
        for candidate in (free_text(text), text.strip()):
            if candidate and pattern.fullmatch(candidate):
                return candidate
    # "CN 77120" for a code written "CN-77120": the letters and digits joined as the
    # pattern wants them.
    joined = _SPACED_CODE.sub(r"\1-\2", text)
    if joined != text:
        return matched_span(pattern, joined, whole=whole)
    return None


_HOUSE_NUMBER = re.compile(
    r"(?<![\w-])\d{1,4}[a-zA-Z]?\s+(?!(?:January|February|March|April|May|June|July|August|"
    r"September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\b)"
    r"(?:[A-Z][\w'-]+)(?:\s|,|$)"
)
# Words before a house number that are the address's own: "Flat 3, 12 Mill Lane".
_ADDRESS_PART = re.compile(
    r"\b(?:flat|apartment|apt|unit|suite|floor|building|block|box|room|studio)\b", re.I
)
_SPACED_CODE = re.compile(r"\b([A-Z]{1,5}) (\d{3,})\b")


# Words any request is made of: a pattern that matches one of them whole says too
# little about a value for a message that did not answer a question.
_PLAIN_WORDS = ("please", "yes", "hello", "cancel", "book a table", "my booking")


def distinctive(slot: SlotInfo) -> bool:
    """Whether ``slot`` has a pattern that tells its values from ordinary words.

    ``BK-\\d{4}`` does; a name's ``[A-Za-z ]+`` matches "please" too, so a span it
    matches is no evidence that a message gives the slot's value.
    """
    return slot.pattern is not None and _distinctive(slot.pattern)


@functools.lru_cache(maxsize=256)
def _distinctive(pattern: re.Pattern[str]) -> bool:
    return not any(pattern.fullmatch(word) for word in _PLAIN_WORDS)


def _starts(text: str) -> list[int]:
    """Where a span may start: the first character, and after every non-word one."""
    return [i for i in range(len(text)) if i == 0 or not text[i - 1].isalnum()]


def _stands_apart(text: str, end: int) -> bool:
    return end >= len(text) or not text[end].isalnum() or not text[end - 1].isalnum()


def _people(said: str) -> int | None:
    """How many people "just me", "me and my wife" or "5 adults and 2 kids" are."""
    if _ALONE_WORDS.match(said.strip()):
        return 1
    return _groups(said) or pair_of_people(said)


def _groups(said: str) -> int | None:
    """Everyone in "5 adults and 2 kids"."""
    groups = _GROUP.findall(said)
    if len(groups) < 2:
        return None
    counted = [find_numbers(number) for number, _ in groups]
    if not all(len(n) == 1 for n in counted):
        return None
    return int(sum(n[0].value for n in counted))


def pair_of_people(said: str) -> int | None:
    """2 for "me and my wife", "my husband and myself", "the two of us"; 3 for "me and
    two friends"."""
    others = _ME_AND_OTHERS.search(said)
    if others is not None:
        counted = find_numbers(others.group("n"))
        if counted:
            return int(counted[0].value) + 1
    if _PAIR.search(said) and said.count(" and ") <= 1:
        return 2
    return None


_ME_AND_OTHERS = re.compile(
    r"\b(?:me|myself|i) (?:and|plus|with) (?P<n>two|three|four|five|six|seven|\d{1,2}) "
    r"(?:\w+ )?(?:friends|others|colleagues|people|kids|children|classmates|mates)\b"
)


_NONE_OF_THEM = re.compile(r"\b(?:no|zero|without) (\w+)")
_GROUP = re.compile(
    r"\b(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten)\s+"
    r"(adults?|kids?|children|child|people|persons|babies|baby|toddlers?|teens?|teenagers?|"
    r"seniors?|guests?|grown ?ups?)\b"
)


def answer(slot: SlotInfo, text: str, today: dt.date, base: Any = None) -> Any | None:
    """The value of ``slot`` in a message that answers its question, if one is there.

    ``base`` is the slot's value so far: a new date and time keeps the part of it the
    message does not change ("actually 5pm" moves the time, not the day).
    """
    if slot.pattern is not None:
        return matched_span(slot.pattern, text)
    said = normal(text)
    kind = slot.kind
    if kind == "time":
        found = find_time(said, loose=True, lean=_lean(slot))
        return None if found is None else _clock(found.time)
    if kind == "datetime":
        return _date_and_time(slot, text, today, base, loose=True)
    if kind == "integer":
        own = _own_group(slot, said)
        if own is not None:
            return own  # "2 adults and 2 kids" when asked how many adults: 2
        if _ZERO.match(said):
            return 0  # "none", "no kids", "nope" when asked how many
        grouped = None
        if slot.words & PEOPLE:  # "5 adults and 2 kids", "me and two friends"
            grouped = _groups(said) or (
                pair_of_people(said) if _ME_AND_OTHERS.search(said) else None
            )
        counted = grouped or _number(said, integral=True)
        if slot.words & {"day", "days"}:
            counted = _days_in_weeks(said) or counted  # "a week", "a fortnight"
        if counted is None and slot.words & PEOPLE:
            return _people(said)  # "just me", "me and my wife"
        return counted
    if kind == "float":
        if slot.words & {"hour", "hours"}:
            hours = _hours(said)
            if hours is not None:
                return hours  # "an hour and a half", "90 minutes", "half an hour"
        return _number(said, integral=False)
    if kind == "boolean":
        people = _ABOUT_PEOPLE.search(slot.about.lower()) is not None
        return _yes_or_no(said, about_people=people)
    if kind == "date":
        return _date(text, today, anywhere=True, past=PAST in slot.words)
    if kind == "email":
        match = _EMAIL.search(text)
        return match.group(0) if match else None
    if kind == "choice":
        named = choice_of(slot.choices, said, fuzzy=False) or _nth_choice(slot, said)
        if named is None and times_of_day(slot):
            named = _time_choice(slot, said, loose=True)
            if named is None and re.search(r"\d", said):
                return None  # "9" is no close spelling of "19:30"
        return named if named is not None else choice_of(slot.choices, said, fuzzy=True)
    if slot.validator == "phone" or (slot.validator is None and "phone" in slot.name):
        # "call me on +34 600 123 456 please": the number, not the sentence.
        match = _PHONE.search(text)
        return match.group(0).strip() if match else free_text(text) or None
    if slot.validator == "email":
        match = _EMAIL.search(text)
        return match.group(0) if match else free_text(text) or None
    if holds_a_code(slot):
        # "ok the number is PX4482913DE", "PX7700311ES to a new address": the one code
        # in the message is the value of a slot that holds a code.
        codes = set(CODE.findall(text))
        if len(codes) == 1:
            return codes.pop()
    if "address" in slot.name:
        # "going to 9 Park Avenue, Manchester", "we're currently at 5 Larch Close": an
        # address starts at its house number.
        house = _HOUSE_NUMBER.search(text)
        before = text[: house.start()] if house is not None else ""
        if (
            house is not None
            and house.start() > 0
            and not _ADDRESS_PART.search(before)
            # Words of the address's own before its number ("Studio 54 Club, 254 W
            # 54th St", "The 3 Bells"): capitals after the first word.
            and not any(w[:1].isupper() for w in before.split()[1:])
            and any(w[:1].islower() for w in before.split())
        ):
            return free_text(text[house.start() :]) or None
    if _LONG_TEXT.search(slot.name):
        # A description in the user's own words: all of them, articles included —
        # not the "it's" that introduces them.
        described = _DESCRIBED.sub("", text.strip(), count=1)
        return _TAIL.sub("", described).strip(" ,.") or None
    return free_text(text) or None


_WEEKS = re.compile(
    r"\b(?:(?P<n>a|an|one|two|three|four|\d{1,2})\s+weeks?|(?P<f>a fortnight|fortnight))\b"
)


def _days_in_weeks(said: str) -> int | None:
    """Days in "a week", "two weeks", "a fortnight", for a slot counted in days."""
    found = _WEEKS.search(said)
    if found is None:
        return None
    if found.group("f"):
        return 14
    numbers = find_numbers(found.group("n"))
    return 7 * int(numbers[0].value) if numbers else 7


def _yes_or_no(said: str, *, about_people: bool = False) -> bool | None:
    """A yes/no answer in words: "yes", "nope", "nobody's hurt", "thankfully no", "not
    that I know of", "nothing medical"."""
    words = said.split()
    if not words:
        return None
    if words[0] in _YES:
        return True
    if words[0] in _NO or _NONE_SAID.search(said):
        return False
    if words[0] in _STILL_YES:
        return True
    if (
        len(words) >= 3
        and about_people
        and _SOMEONE_SAID.match(said)
        and not _NOT_SAID.search(said)
    ):
        # Asked whether anyone is hurt, whether someone needs equipment: "my passenger
        # hurt her wrist", "my wife is on home dialysis" say who — a yes.
        return True
    return None


_SOMEONE_SAID = re.compile(
    r"^(?:well |yes |yeah |um |so )?(?:my|our|his|her|their|the|a|one|two|both|i|we|he|she|"
    r"they|someone|somebody)\b"
)
_NOT_SAID = re.compile(
    r"\b(?:no|not|never|nobody|none|nothing|neither|nor|fine|ok|okay|alright|safe|unhurt|"
    r"good|well|unsure|sure|prefer|decide|ask|maybe|perhaps|think|depends|optional)\b"
    r"|n't\b|\?"
)
# A yes/no question about people: whether anyone is hurt, needs something, comes.
_ABOUT_PEOPLE = re.compile(
    r"\b(?:anyone|anybody|someone|somebody|everyone|injur\w*|hurt|passengers?|people|"
    r"who|household|family|patient)\b"
)


_NONE_SAID = re.compile(
    r"\b(?:nobody|no one|noone|none|nothing|not really|not that i know|not at all|"
    r"thankfully no|luckily no|luckily not|thankfully not|no way|not anymore|neither)\b"
)
# A yes said otherwise ("keep my current one" when asked whether to keep it).
_STILL_YES = frozenset(
    {"indeed", "definitely", "absolutely", "certainly", "yup", "affirmative", "keep", "same"}
)


def mention(slot: SlotInfo, text: str, today: dt.date) -> Any | None:
    """A value of ``slot`` the message gives unasked, if it clearly gives one."""
    if slot.pattern is not None:
        # "cancel booking BK-5678 please": the pattern says what a value looks like,
        # unless it takes plain words too (a name's ``[A-Za-z ]+``): then nothing
        # unasked is a value, as for any free-text slot.
        if not distinctive(slot):
            return None
        return matched_span(slot.pattern, text, whole=False)
    said = normal(text)
    kind = slot.kind
    if kind == "date":
        return _date(text, today, anywhere=False, past=PAST in slot.words)
    if kind == "time":
        found = find_time(said, loose=False, lean=_lean(slot))
        return None if found is None else _clock(found.time)
    if kind == "datetime":
        return _date_and_time(slot, text, today, None, loose=False)
    if kind == "email":
        match = _EMAIL.search(text)
        return match.group(0) if match else None
    if kind == "choice":
        named = choice_of(slot.choices, said, fuzzy=False)
        return named if named is not None else _time_choice(slot, said, loose=False)
    if kind in ("integer", "float"):
        # "for 3 nights", "a 5kg parcel": a number right next to the slot's own name
        # or the unit its prompt counts in — not a day counted from now ("in 3 days").
        said = _units_apart(_FROM_NOW.sub(" ", said))
        names = _words_of(slot.name) | slot.words
        if kind == "integer" and any(
            none.group(1) in names for none in _NONE_OF_THEM.finditer(said)
        ):
            return 0  # "2, no kids obviously", "no kids and no concessions either"
        if names & set(said.split()):
            return _number_near(said, names, integral=kind == "integer")
        return None
    if holds_a_code(slot):
        # "where's my parcel PX4482913DE?": a code in the message is the slot's
        # value when the slot holds a code (a tracking number, a reference).
        codes = CODE.findall(text)
        return codes[0] if len(set(codes)) == 1 else None
    if for_a_person(slot):
        # "a laptop for Ben Ali", "for our new designer, Chloé Dubois": a name as
        # written, with capitals, after "for".
        after_for = _FOR_NAME.search(text)
        return after_for.group("name") if after_for else None
    return None


def for_a_person(slot: SlotInfo) -> bool:
    """Whether a free-text slot holds who something is for, by its name."""
    return (
        slot.kind in ("string", "any")
        and slot.pattern is None
        and _PERSON_NAME.search(slot.name) is not None
    )


_PERSON_NAME = re.compile(
    r"(?:^|_)(?:for|recipient|beneficiary|person|who|employee|user_name|owner|holder)(?:_|$)"
)
_UPPER_WORD = r"[A-ZÀ-Þ][\w'\u2019-]+"
_FOR_NAME = re.compile(
    r"\bfor\s+(?:(?:my|our|the|a|his|her|their)\s+)?(?:(?:new|colleague|designer|boss|"
    r"manager|intern|friend|son|daughter|wife|husband|partner|mother|father|mum|mom|dad|"
    r"brother|sister|team|client|customer|employee|hire|developer|engineer|[a-z]+er)"
    r"\s*,?\s+)*"
    rf"(?P<name>{_UPPER_WORD}(?:\s+{_UPPER_WORD}){{0,2}})"
)


def names_a_date(text: str) -> bool:
    """Whether a word in ``text`` says "date" (a weekday, a month, "tomorrow", "5th"…)."""
    return _DATE_WORDS.search(normal(text)) is not None


def free_text(text: str) -> str:
    """A free-text answer without the words around it.

    "to Bob please" → "Bob"; the phrases that carry a value are dropped too: "my
    code is BK-1234", "it's for my son, Leo Martín", "under Kowalski", "name's Tom",
    "me, Ana Ruiz"; so are a hedge after it ("INC-20388 I think"), the clause after a
    code ("BK-5678, something came up") and a slip corrected on the way ("j smith…
    sorry, jsmith" → "jsmith").
    """
    stripped = text.strip().strip(".!?,;")
    stripped = _COLON_LEAD.sub("", stripped, count=1)
    stripped = _EXCLAIMED.sub("", stripped, count=1)  # "sorry! it's Hannah Schmidt"
    # "08012? nothing works here", "5 Rue des Lilas, and no, nobody …": the value
    # ends where its clause does.
    stripped = _CLAUSE_END.split(stripped, maxsplit=1)[0].strip() or stripped
    slip = _SLIP.search(stripped)
    if slip is not None and stripped[slip.end() :].strip():
        stripped = stripped[slip.end() :].strip().strip(".!?,;")
    lowered = stripped.lower()
    start = 0
    while True:  # the carriers in front, one after another ("it's for my son, Leo")
        if _TITLE.match(stripped, start):
            break  # "The Hobbit", "The Buried Giant": a title keeps its article
        lead = _CARRIER.match(lowered, start) or _LEAD.match(lowered, start)
        if lead is None or lead.end() == start or lead.end() >= len(lowered):
            break
        word = lowered[start : lead.end()].strip(" ,:!.\u2026")
        if word in _LEAD_IF_LOWER and stripped[start].isupper() and "," not in lead.group(0):
            break  # "Just Mercy", "Only Murders in the Building": a title's own word
        start = lead.end()
    tail = _TAIL.search(lowered)
    end = tail.start() if tail else len(stripped)
    value = stripped[start:end].strip(" ,.:") if start < end else stripped
    cut = _AFTER_CODE.match(value) or _AFTER_WORD.match(value)
    return next(g for g in cut.groups() if g) if cut else value


def choice_of(choices: Mapping[str, Sequence[str]], said: str, *, fuzzy: bool) -> str | None:
    """The choice ``said`` names: by value or synonym as words, else by a close spelling."""
    names: dict[str, str] = {}
    for value, synonyms in choices.items():
        for name in (value, *synonyms):
            names[normal(str(name).replace("_", " "))] = value
    padded = f" {said} "
    hits = {value for name, value in names.items() if name and f" {name} " in padded}
    if len(hits) == 1:
        return hits.pop()
    if hits or not fuzzy or not said:
        return None
    best = process.extract(said, list(names), scorer=fuzz.WRatio, limit=2)
    if not best or best[0][1] < CHOICE_THRESHOLD:
        return None
    if len(best) > 1 and names[best[1][0]] != names[best[0][0]] and best[1][1] >= best[0][1] - 3:
        return None  # two different choices spelled about as closely: ask again
    return names[best[0][0]]


_NTH = re.compile(
    r"^(?:the\s+)?(?P<n>first|second|third|fourth|fifth|last|1st|2nd|3rd|4th|5th)"
    r"(?:\s+(?:one|option|choice))?(?:\s+please)?$"
)
_NTH_INDEX = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2,
              "fourth": 3, "4th": 3, "fifth": 4, "5th": 4, "last": -1}  # fmt: skip


def _nth_choice(slot: SlotInfo, said: str) -> str | None:
    """ "the second option": the choice in that place, as the question lists them."""
    found = _NTH.match(said)
    if found is None:
        return None
    values = list(slot.choices)
    index = _NTH_INDEX[found.group("n")]
    return values[index] if -len(values) <= index < len(values) else None


def times_of_day(slot: SlotInfo) -> bool:
    """Whether a choice slot's values are times of day ("13:00", "19:30"): a time said
    in any way names one, as for a ``time`` slot."""
    return slot.kind == "choice" and len(_clocks(slot)) >= 2


def _clocks(slot: SlotInfo) -> dict[dt.time, str]:
    clocks: dict[dt.time, str] = {}
    for value in slot.choices:
        if _CLOCK_VALUE.fullmatch(str(value)):  # not "asap", not a bag of "20" kg
            clocks[dt.time.fromisoformat(f"{value!s:0>5}")] = value
    return clocks


_CLOCK_VALUE = re.compile(r"(?:[01]?\d|2[0-3]):[0-5]\d")


def _time_choice(slot: SlotInfo, said: str, *, loose: bool) -> str | None:
    """The choice a time names when the choices are times of day ("13:00", "19:30"):
    "7.30pm", "half 8", "at 9" — a bare hour in whichever half of the day is offered."""
    clocks = _clocks(slot)
    if len(clocks) < 2:
        return None
    found = find_time(said, loose=loose, lean=_lean(slot))
    if found is None:
        return None
    moment = found.time
    if moment in clocks:
        return clocks[moment]
    if moment.hour >= 12 or _HALF_SAID.search(said):
        return None  # "9am" is not 21:00
    # The other half of the day, when only that one is offered ("9" for 21:00).
    return clocks.get(dt.time(moment.hour + 12, moment.minute))


_HALF_SAID = re.compile(r"(?:\d\s*|\b)[ap]\s?m\b|\b(?:morning|afternoon|evening|tonight|night)\b")


def _words_of(name: str) -> set[str]:
    return {w for w in name.lower().split("_") if len(w) > 2}


def _units_apart(said: str) -> str:
    """ "5kg" → "5 kg", "2packs" → "2 packs" (not "2nd", "3rd")."""
    return _ATTACHED.sub(r"\1 \2", said)


def _hours(said: str) -> float | None:
    """A length of time in hours, said in words or minutes ("an hour and a half", "90
    minutes", "1 hour 30 minutes"); the last said after a change of mind."""
    fixes = list(_SELF_FIX.finditer(said))
    if fixes:
        said = said[fixes[-1].end() :]
    if " or " in said:
        return None  # "an hour or two": no one length
    minutes = _MINUTES.search(said)
    hours = _WHOLE_HOURS.search(said)
    if minutes is not None:
        whole = (
            float(hours.group(1)) if hours is not None else (1.0 if _AN_HOUR.search(said) else 0.0)
        )
        return round(whole + float(minutes.group(1)) / 60, 2)
    if hours is not None:
        return None  # "2 hours": the number reads it
    for phrase, value in _HOUR_PHRASES:
        if re.search(phrase, said):
            return value
    return None


_MINUTES = re.compile(r"\b(\d{1,3})\s*(?:minutes|mins|min)\b")
_WHOLE_HOURS = re.compile(r"\b(\d{1,2})\s*(?:hours?|hrs?|h)\b")
_AN_HOUR = re.compile(r"\b(?:an|one) hour\b")
_HOUR_PHRASES = (
    (r"\b(?:an|one) hour and a half\b|\bone and a half hours?\b", 1.5),
    (r"\bhalf an hour\b|\bhalf hour\b", 0.5),
    (r"\b(?:a|one) quarter of an hour\b", 0.25),
    (r"^(?:just |only |about |around )?(?:an|one) hour\b", 1.0),
)


def says_none(said: str) -> bool:
    """Whether the message only says "none", "nope", "no kids"…: a count of 0 when
    asked how many, and never a new value at a confirmation."""
    return _ZERO.match(said) is not None or said in _NOTHING_WORDS


_NOTHING_WORDS = frozenset({"nada", "nil", "nobody", "nothing", "zilch", "no one", "none"})


def _own_group(slot: SlotInfo, said: str) -> int | None:
    """The count of the slot's own group when the message counts several groups and
    the slot counts one of them by name (``adults``, ``children``): the others are
    other slots' values, not part of this one."""
    groups = _GROUP.findall(said)
    if len(groups) < 2:
        return None
    own = {_GROUP_NOUN.get(w, w) for w in _words_of(slot.name)}
    for number, noun in groups:
        if _GROUP_NOUN.get(noun, noun) in own:
            found = find_numbers(number)
            return int(found[0].value) if len(found) == 1 else None
    return None


_GROUP_NOUN = {
    "adults": "adult", "grown up": "adult", "grown ups": "adult", "grownups": "adult",
    "kids": "child", "kid": "child", "children": "child", "babies": "baby",
    "toddlers": "toddler", "teens": "teen", "teenagers": "teen", "teenager": "teen",
    "seniors": "senior", "guests": "guest",
}  # fmt: skip
# "none", "nope", "no kids", "zero", "nobody else": nothing to count.
_ZERO_WORD = (
    r"(?:none(?: of (?:those|them|us))?|nope|no|zero|nobody|no one|nil|nada|not any|"
    r"no (?:kids|children|child|one|bags?|pets?|extras?|others?|more|thanks))"
)
_ZERO = re.compile(
    rf"^(?:(?:um|hmm|oh|well|ok|okay)\s+)*{_ZERO_WORD}"
    rf"(?:\s+(?:{_ZERO_WORD}|at all|thanks|thank you|obviously|lol|sorry|please|this time))*$"
)
# "3... no wait, make that 4": the number after the last change of mind.
_SELF_FIX = re.compile(
    r"(?:\.\.\.|,|\s)\s*(?:no wait|wait|sorry|i mean|i meant|make (?:that|it)|"
    r"or rather|scratch that)\b[\s,]*"
)


def _number(said: str, *, integral: bool) -> int | float | None:
    fixes = list(_SELF_FIX.finditer(said))
    if fixes:
        tail = said[fixes[-1].end() :]
        if find_numbers(_units_apart(without_times(tail))):
            said = tail
    # "12 grand", "10k": thousands.
    said = _THOUSANDS.sub(lambda m: str(round(float(m.group(1)) * 1000)), said)
    # "7:30" and "8pm" are times, not 7 and 8.
    numbers = [n for n in find_numbers(_units_apart(without_times(said))) if not n.ordinal]
    if not numbers:
        return None
    marked = [n for n in numbers if n.currency]
    value = (marked or numbers)[0].value
    if integral and isinstance(value, float):
        return int(value) if value.is_integer() else None
    return value


_THOUSANDS = re.compile(
    r"(?<![\w.,])(\d{1,3}(?:\.\d{1,2})?)\s?(?:k|grand|thousand)"
    r"(?=\s*(?:$|[,.!?]|of\b|in\b|for\b|worth\b|total\b|euros?\b|pounds?\b|dollars?\b|"
    r"cover\b|please\b|tops\b|max\b|roughly\b|or so\b|ish\b|miles\b|km\b|approx))"
)


def _number_near(
    said: str, names: set[str] | frozenset[str], *, integral: bool
) -> int | float | None:
    tokens = said.split()
    for i, token in enumerate(tokens):
        if token in names or token.rstrip("s") in names:
            for near in (tokens[i - 1] if i else "", tokens[i - 2] if i > 1 else ""):
                value = _number(near, integral=integral)
                if value is not None:
                    return value
    return None


_LEAD_INS = frozenset(
    {"next", "this", "on", "the", "coming", "following", "in", "of", "a", "at", "by", "until"}
)
_YEAR = re.compile(r"\b\d{4}\b")
_MONTH = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b|\d{1,2}[/.-]\d{1,2}"
)


def _date_words(said: str) -> str:
    """The part of the message that says the date: "we arrive on friday" → "on friday".

    dateparser reads every word it can ("we" is Wednesday), so it gets only the words
    from the first one that names a date, with the little words just before it.
    """
    found = _DATE_WORDS.search(said)
    if found is None:
        return said
    words = said[: found.start()].split()
    while words and (words[-1] in _LEAD_INS or words[-1].isdigit()):
        words.pop()
    start = len(" ".join(words)) + (1 if words else 0)
    tail = re.sub(r"(?:\s+(?:please|thanks|thank you|pls))+$", "", said[start:])
    return tail.strip()


_VAGUE_DAY = re.compile(
    r"\b(?:next|this|coming|following|the)\s+(?:week|month|weekend)\b"
    r"|\bin\s+(?:a few|a couple of|a|one|two|three|four|\d+)\s+months?\b"
    r"|\bin\s+(?:a few|a couple of)\s+weeks?\b"
    r"|\b(?:end|beginning|start|middle) of (?:the |next |this )?(?:week|month)\b"
    r"|\b(?:sometime|some day|later) (?:this|next) (?:week|month)\b"
)
_DAY_OF_MONTH = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)\b")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)  # fmt: skip
_MONTH_NAMES = frozenset((*_MONTHS, *(m[:3] for m in _MONTHS), "sept"))
_EVERY_WEEKDAY = re.compile(r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)days\b")
_NO_DAY_WORDS = _MONTH_NAMES | {"day", "days", "week", "weeks", "month"}
_ORDINAL_WORDS = (
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
    "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth",
    "seventeenth", "eighteenth", "nineteenth", "twentieth",
)  # fmt: skip


def _nth(number: int) -> str:
    """1 → "1st", 12 → "12th"."""
    if number % 10 in (1, 2, 3) and number % 100 not in (11, 12, 13):
        return f"{number}{('st', 'nd', 'rd')[number % 10 - 1]}"
    return f"{number}th"


_ORDINAL_DAYS = {word: _nth(i) for i, word in enumerate(_ORDINAL_WORDS, start=1)}
# "the first of march": an ordinal in words before a month, as dateparser reads it.
_ORDINAL_DAY = re.compile(rf"\b({'|'.join(_ORDINAL_WORDS)})\b(?=\s+of\s+(?:{'|'.join(_MONTHS)})\b)")


def _day_on_or_after(start: dt.date, day: int) -> dt.date | None:
    """The first date from ``start`` on whose day of the month is ``day``."""
    for months in range(13):
        year, month = divmod(start.month - 1 + months, 12)
        try:
            candidate = dt.date(start.year + year, month + 1, day)
        except ValueError:
            continue
        if candidate >= start:
            return candidate
    return None


_IN_WEEKS = re.compile(r"\bin\s+(?P<n>a|one|two|three|four|five|six|\d{1,2})\s+weeks?\b")
# Names a misspelling is put right to: the weekdays and the long months (a short one,
# "march", is one letter from "match": too near other words to guess at).
_DAY_NAMES = (*_WEEKDAYS, *(m for m in _MONTHS if len(m) >= 7), "tomorrow")


def _day_names_spelled(said: str) -> str:
    """A misspelt weekday or long month name as it is spelled ("saturdy" → "saturday")."""
    words = said.split()
    for i, word in enumerate(words):
        if len(word) >= 5 and word.isalpha():
            best = process.extractOne(word, _DAY_NAMES, scorer=fuzz.ratio, score_cutoff=80)
            if best is not None:
                words[i] = best[0]
    return " ".join(words)


_FROM_NOW = re.compile(
    r"\bin\s+\S+\s+(?:days?|weeks?)\b|\b\S+\s+(?:days?|weeks?)\s+(?:from|after)\s+\w+"
)
# Words that put the day in the past whatever the slot: "yesterday", "last friday",
# "2 days ago".
# "last" of a day, not of a title ("tickets for The Last Lighthouse on saturday").
_GONE = re.compile(
    r"\b(?:yesterday|last\s+(?:\w*day|week|weekend|month|night|year|time)|ago|"
    r"earlier this week|the other day)\b"
)
_AHEAD = re.compile(r"\b(?:tomorrow|tonight|next|coming|from now|in \w+ (?:days?|weeks?))\b")
_THIS_PART_OF_DAY = re.compile(r"\bthis (?:morning|afternoon|evening)\b")
_HOW_LONG = re.compile(
    r"\b(?:for|about|around|roughly)\s+(?:a|an|one|two|three|four|five|six|seven|eight|nine|"
    r"ten|a couple of|a few|\d{1,3})\s+(?:days?|weeks?|nights?|months?)\b"
)
_DAY_LEAD = frozenset({"next", "this", "coming", "the"})
_NOT_THAT_DAY = re.compile(r"\bnot\s+(?:on\s+)?(?:the\s+)?\w+")
_MONTH_AFTER = re.compile(
    r"^\s+(?:of\s+)?(?:"
    + "|".join((*_MONTHS, *(m[:3] for m in _MONTHS), "sept"))
    + r")\b(?:\s+\d{4}\b)?"
)


def _one_day_words(said: str) -> str | None:
    """The words of the one day a message names among other words about time: "the
    21st" in "for 3 weeks from the 21st", "next friday" in "2 weeks starting next friday",
    "sunday" in "the sunday one not saturday"."""
    kept = _NOT_THAT_DAY.sub(" ", said)
    days = list(_ONE_DAY.finditer(kept))
    if len(days) != 1 or "/" in days[0].group(0) or "-" in days[0].group(0):
        return None
    day = days[0]
    before = kept[: day.start()].split()
    lead: list[str] = []
    while before and before[-1] in _DAY_LEAD and len(lead) < 2:
        lead.insert(0, before.pop())
    month = _MONTH_AFTER.match(kept[day.end() :])
    end = day.end() + (month.end() if month else 0)
    if _MONTH.search(kept[: day.start()]) or _MONTH.search(kept[end:]):
        return None  # "December 3rd": the month before the day; read the whole
    return " ".join([*lead, kept[day.start() : end].strip()])


# Days of the year people name rather than date (the same every year).
_HOLIDAYS = {
    "christmaseve": (12, 24), "christmasday": (12, 25), "christmas": (12, 25),
    "xmaseve": (12, 24), "xmas": (12, 25), "boxingday": (12, 26),
    "newyearseve": (12, 31), "newyeareve": (12, 31), "newyearsday": (1, 1),
    "newyearday": (1, 1), "valentinesday": (2, 14), "halloween": (10, 31),
}  # fmt: skip
_HOLIDAY = re.compile(
    r"\b(?:christmas eve|christmas day|christmas|xmas eve|xmas|boxing day|"
    r"new year'?s? eve|new year'?s? day|valentine'?s day|halloween)\b"
)
_COUNTED_DAYS = re.compile(
    r"\b(?P<n>a|an|one|two|three|four|five|six|seven|ten|\d{1,2})\s+(?P<unit>days?|weeks?)\s+"
    r"(?:(?:from|after)\s+)?(?P<from>today|now|tomorrow)\b"
)
# What names one day even inside "next week": a weekday, a day of the month, a date.
_ONE_DAY = re.compile(
    r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|"
    r"sat|sun|\d{1,2}(?:st|nd|rd|th)|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}(?:/\d{2,4})?)\b"
)


def _date(text: str, today: dt.date, *, anywhere: bool, past: bool = False) -> str | None:
    """The day ``text`` names, as ISO; ``past`` when the slot asks about a day gone
    ("When did it happen?": "monday" is the last one)."""
    # The time in "tomorrow at 8pm" says no day: "7:30" alone is no date.
    # "for 4 days" is how long, not when.
    said = _HOW_LONG.sub(" ", without_times(normal(text)))
    said = _ORDINAL_DAY.sub(lambda m: _ORDINAL_DAYS[m.group(1)], said)  # "the first of march"
    if _EVERY_WEEKDAY.search(said) and not re.search(r"\d", said):
        return None  # "move me to saturdays": every saturday, no one day
    if not _DATE_WORDS.search(said):
        said = _day_names_spelled(said)  # "saturdy", "wensday"
    holiday = _HOLIDAY.search(said)
    if holiday is not None:
        # "on Christmas Eve": the next one to come.
        month, of_month = _HOLIDAYS[holiday.group(0).replace("'", "").replace(" ", "")]
        that = dt.date(today.year, month, of_month)
        if past:
            that = that if that <= today else that.replace(year=today.year - 1)
        else:
            that = that if that >= today else that.replace(year=today.year + 1)
        of_month_said = _DAY_OF_MONTH.search(said)
        if of_month_said is not None and not past:
            # "after christmas, say the 28th": the first such day from the holiday on.
            after = _day_on_or_after(that, int(of_month_said.group(1)))
            return after.isoformat() if after is not None else None
        return that.isoformat()
    if _THIS_PART_OF_DAY.search(said) and not _DATE_WORDS.search(said):
        return today.isoformat()  # "it started this morning"
    if not _DATE_WORDS.search(said) and not (anywhere and re.search(r"\d", said)):
        return None
    if _VAGUE_DAY.search(said) and not _ONE_DAY.search(said):
        # "next week", "in a few weeks", "this weekend": a week or a month is not a
        # day, and picking one for the user would be a guess. The bot asks again.
        return None
    weeks = _IN_WEEKS.search(said)
    if weeks is not None and not _ONE_DAY.search(said):
        # "in two weeks", "in a week": that many weeks from today, to the day.
        amount = find_numbers(weeks.group("n"))
        n = int(amount[0].value) if amount else 1
        return (today + dt.timedelta(weeks=n)).isoformat()
    counted = _COUNTED_DAYS.search(said)
    if counted is not None:
        # "a week from today", "10 days from tomorrow": counted from that day.
        amount = find_numbers(counted.group("n"))
        n = int(amount[0].value) if amount else 1
        days = n * (7 if counted.group("unit").startswith("week") else 1)
        start = today + dt.timedelta(days=1 if counted.group("from") == "tomorrow" else 0)
        return (start + dt.timedelta(days=days)).isoformat()
    words = _DATE_WORDS.findall(said)
    if words and all(w in _NO_DAY_WORDS for w in words) and not re.search(r"\d", said):
        return None  # "Jan Kowalski", "may I book": a month alone names no day
    import dateparser
    from dateparser.search import search_dates

    base = dt.datetime.combine(today, dt.time())
    # Day first, as the engine reads "04/07/2025" when it checks the value.
    # A slot about a day gone still takes "tomorrow" as tomorrow.
    gone = (past and not _AHEAD.search(said)) or _GONE.search(said) is not None
    settings: Any = {
        "RELATIVE_BASE": base,
        "PREFER_DATES_FROM": "past" if gone else "future",
        "DATE_ORDER": "DMY",
    }
    wanted = _one_day_words(said) or _date_words(said)
    # One parse at a time: dateparser loads its languages lazily and is not safe to
    # call from several threads at once (the rules run in a worker thread with the
    # embeddings matcher on).
    with _DATEPARSER, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dateparser's own deprecation chatter
        parsed = dateparser.parse(wanted, languages=["en"], settings=settings)
        if parsed is None:
            found = search_dates(wanted, languages=["en"], settings=settings)
            parsed = found[0][1] if found else None
    if parsed is None:
        return None
    day: dt.date = parsed.date()
    if gone:
        if day > today and not _YEAR.search(wanted):
            # "the 3rd of december" asked about a day gone, on the 10th: this year's.
            day = day.replace(year=day.year - 1) if _MONTH.search(wanted) else _last_month(day)
        return day.isoformat()
    # "on the 5th" when it is the 23rd means the 5th to come, not the one gone.
    if day < today and not _YEAR.search(wanted):
        if not _MONTH.search(wanted):
            day = _next_month(day)
        else:  # "march 3rd" in November: next March
            day = day.replace(year=day.year + 1, day=min(day.day, 28 if day.month == 2 else 31))
    return day.isoformat()


_DATEPARSER = threading.Lock()


def _last_month(day: dt.date) -> dt.date:
    """The same day of the month before ("the 28th" asked on the 10th, about a day gone)."""
    year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def _next_month(day: dt.date) -> dt.date:
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    try:
        return day.replace(year=year, month=month)
    except ValueError:  # the 31st of a shorter month
        return day.replace(year=year, month=month, day=28)


def _lean(slot: SlotInfo) -> Lean:
    """The half of the day the slot's prompt leans to ("What time this evening?")."""
    return "pm" if "pm" in slot.words else "am" if "am" in slot.words else None


def offered_half(value: str, text: str, offered: Iterable[Any]) -> str:
    """``value`` (a time read from ``text``) in the half of the day the times on offer
    are in: "the 8:30 one" among "11:00, 14:00, 17:30, 20:30" is 20:30, "quarter to
    nine" among "18:00, 20:45, 23:30" is 20:45 — unless the message says which half."""
    try:
        moment = dt.time.fromisoformat(value)
    except (TypeError, ValueError):
        return value
    if not 1 <= moment.hour < 12 or _HALF_SAID.search(normal(text)):
        return value
    # The times on offer: a value listing several ("11:00, 14:00, 17:30"), not a time
    # a slot happens to hold.
    times = {
        f"{int(h):02d}:{m}"
        for said in offered
        if len(found := _TIME_IN_TEXT.findall(str(said))) > 1
        for h, m in found
    }
    later = _clock(moment.replace(hour=moment.hour + 12))
    return later if later in times and value not in times else value


_TIME_IN_TEXT = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)\b")


def _clock(moment: dt.time) -> str:
    """A time as the engine reads it back: ``14:30``."""
    return moment.isoformat("minutes")


def _date_and_time(
    slot: SlotInfo, text: str, today: dt.date, base: Any, *, loose: bool
) -> str | None:
    """ "tomorrow at 2pm" → ``2026-12-07T14:00``; without a day, today's (or ``base``'s).

    A message with only a day keeps ``base``'s time; with neither, there is no value.
    """
    said = normal(text)
    found = find_time(said, loose=loose, lean=_lean(slot))
    # The day from the words around the time: the 7 in "at 7" is no 7th.
    rest = said if found is None else f"{said[: found.start]} {said[found.end :]}"
    day = _date(rest, today, anywhere=loose, past=PAST in slot.words)
    previous = _as_datetime(base)
    if found is not None:
        moment = found.time
    elif day is not None and previous is not None:
        moment = previous.time()
    else:
        return None
    if day is not None:
        on = dt.date.fromisoformat(day)
    else:
        on = previous.date() if previous is not None else today
    return f"{on.isoformat()}T{_clock(moment)}"


def _as_datetime(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    return None
