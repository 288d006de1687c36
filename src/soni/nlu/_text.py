"""Reading text the way people type it: normalising, and numbers written in words."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ("CODE", "NumberMatch", "chat_spelled_out", "find_numbers", "normal", "words")

# A code: letters and digits (a dash allowed), five characters or more — a tracking
# number, a reference ("PX4482913DE", "INC-20388"): a value, never words of a phrase.
CODE = re.compile(r"\b(?=[A-Za-z0-9-]*\d)(?=[A-Za-z0-9-]*[A-Za-z])[A-Za-z0-9][A-Za-z0-9-]{4,}\b")

_PUNCTUATION = re.compile(r"[^\w\s@.,!?+\-/:'€$£%]")
_SPACES = re.compile(r"\s+")


_CONTRACTIONS = {
    "what's": "what is", "that's": "that is", "it's": "it is", "there's": "there is",
    "where's": "where is", "how's": "how is", "who's": "who is", "i'm": "i am",
    "you're": "you are", "we're": "we are", "they're": "they are", "i've": "i have",
    "i'd": "i would", "i'll": "i will", "can't": "cannot", "won't": "will not",
    "let's": "let us", "isn't": "is not", "aren't": "are not", "doesn't": "does not",
    "didn't": "did not", "wasn't": "was not",
}  # fmt: skip
_CONTRACTION = re.compile(r"\b(" + "|".join(re.escape(c) for c in _CONTRACTIONS) + r")\b")


# Chat shorthand, to the words it stands for: general English, not any bot's.
_SHORTHAND = {
    "tmrw": "tomorrow", "tmr": "tomorrow", "tmrow": "tomorrow", "tomoz": "tomorrow",
    "2moro": "tomorrow", "2morrow": "tomorrow", "tonite": "tonight", "2nite": "tonight",
    "tdy": "today", "pls": "please", "plz": "please", "plse": "please", "ppl": "people",
    "pax": "people", "u": "you", "ur": "your", "thx": "thanks",
    "thnx": "thanks", "pw": "password", "pwd": "password",
    "passwd": "password", "rsrv": "reserve", "resv": "reserve", "rsvp": "reserve",
    "appt": "appointment", "appmt": "appointment", "acct": "account", "addr": "address",
    "msg": "message", "wk": "week", "wknd": "weekend", "mins": "minutes", "hrs": "hours",
    "b4": "before", "pkg": "package", "pkgs": "packages", "cxl": "cancel",
    "canx": "cancel", "abt": "about", "cuz": "because",
    "wanna": "want to", "gonna": "going to", "gotta": "got to", "lemme": "let me",
    "gimme": "give me", "dunno": "do not know", "idk": "i do not know", "nvm": "never mind",
    "cancle": "cancel", "cancell": "cancel", "cansel": "cancel", "apointment": "appointment",
    "nm": "never mind",
}  # fmt: skip
# Said in lower case, as chat shorthand is typed ("Ty" is a name); a count may stick
# to a unit ("2ppl", "3hrs").
_SHORT_WORD = re.compile(
    r"(?<![\w@.'-])(?:(?P<n>\d+)(?=(?:ppl|pax|hrs?|mins|wk)\b))?(?P<w>"
    + "|".join(sorted(map(re.escape, _SHORTHAND), key=len, reverse=True))
    + r")(?![\w@'-]|\.\w)"
)


def chat_spelled_out(text: str) -> str:
    """Chat shorthand in full words: "rsrv table 2ppl tmrw" → "reserve table 2 people
    tomorrow". Whole words in lower case only."""

    def full(match: re.Match[str]) -> str:
        word = _SHORTHAND[match.group("w")]
        number = match.group("n")
        return f"{number} {word}" if number else word

    if not _SHORT_WORD.search(text):
        return text
    return _SHORT_WORD.sub(full, text)


def normal(text: str) -> str:
    """Lower case, accents kept, punctuation that carries no value dropped, one space.

    Common contractions are spelled out ("what's" → "what is") and underscores read
    as spaces ("share_file"), so phrases match however they were typed.
    """
    text = unicodedata.normalize("NFKC", text).lower().replace("\u2019", "'")
    text = _CONTRACTION.sub(lambda m: _CONTRACTIONS[m.group(1)], text).replace("_", " ")
    text = _PUNCTUATION.sub(" ", text)
    # A full stop, comma or question mark that ends a word is punctuation; inside a
    # number ("2.5", "1,000") it is not.
    text = re.sub(r"(?<!\d)[.,!?]|[.,!?](?!\d)", " ", text)
    return _SPACES.sub(" ", text).strip()


def words(text: str) -> list[str]:
    return normal(text).split()


_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "a": 1, "an": 1, "single": 1, "couple": 2,
    "dozen": 12, "pair": 2,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000, "k": 1000}
# "a" and "an" count only in front of a scale or "dozen"/"couple" ("a hundred").
_ONLY_BEFORE_SCALE = {"a", "an", "single"}
_NUMBER_WORDS = set(_UNITS) | set(_TENS) | set(_SCALES) | {"and"}
_DIGITS = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:[.,]\d+)?(?:st|nd|rd|th)?")
_CURRENCY_BEFORE = re.compile(r"[€$£]\s*$")
_CURRENCY_AFTER = re.compile(
    r"^\s*(?:€|\$|£|eur\b|euros?\b|usd\b|dollars?\b|gbp\b|pounds?\b|bucks\b)"
)


@dataclass(frozen=True, slots=True)
class NumberMatch:
    """A number found in a text: its value, where it is, and how it was written."""

    value: int | float
    start: int
    end: int
    currency: bool = False
    ordinal: bool = False


def _digits(text: str) -> Iterator[NumberMatch]:
    for match in _DIGITS.finditer(text):
        raw = match.group(0)
        ordinal = raw[-2:] in ("st", "nd", "rd", "th")
        if ordinal:
            raw = raw[:-2]
        # A letter right before or after makes it part of a word (an IBAN, "3d").
        before = text[match.start() - 1] if match.start() else " "
        after = text[match.end()] if match.end() < len(text) else " "
        if before.isalpha() or (after.isalpha() and not ordinal):
            continue
        if re.fullmatch(r"[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?", raw):
            raw = raw.replace(",", "")  # thousands separators
        raw = raw.replace(",", ".")
        value: int | float = float(raw) if "." in raw else int(raw)
        currency = bool(
            _CURRENCY_BEFORE.search(text[: match.start()])
            or _CURRENCY_AFTER.match(text[match.end() :])
        )
        yield NumberMatch(value, match.start(), match.end(), currency, ordinal)


def _spelled(text: str) -> Iterator[NumberMatch]:
    """Numbers written in words: "two", "twenty five", "one hundred and fifty"."""
    tokens = list(re.finditer(r"[a-z]+(?:-[a-z]+)?", text))
    i = 0
    while i < len(tokens):
        parts = tokens[i].group(0).split("-")
        if parts[0] not in _UNITS and parts[0] not in _TENS:
            i += 1
            continue
        total = current = 0
        j = i
        seen = False
        last_unit = False  # the word before was a unit ("a", "two", "twelve")
        while j < len(tokens):
            pieces = tokens[j].group(0).split("-")
            if not all(p in _NUMBER_WORDS for p in pieces):
                break
            if pieces == ["and"]:
                if not seen:
                    break
                j += 1
                continue
            unit = pieces[0] in _UNITS and pieces[0] not in ("dozen", "couple", "pair")
            if unit and last_unit:
                break  # "a two bed", "one two": two numbers, never their sum
            last_unit = unit and len(pieces) == 1
            for piece in pieces:
                if piece in ("couple", "pair") and current in (1, 0):
                    current = 2  # "a couple", "a pair": two, not one and two
                elif piece in _UNITS:
                    current += _UNITS[piece] if piece != "dozen" else 0
                    if piece == "dozen":
                        current = (current or 1) * 12
                elif piece in _TENS:
                    current += _TENS[piece]
                elif piece in _SCALES:
                    current = (current or 1) * _SCALES[piece]
                    if _SCALES[piece] >= 1000:
                        total += current
                        current = 0
            seen = True
            j += 1
        words_used = [t.group(0) for t in tokens[i:j]]
        while words_used and words_used[-1] == "and":
            words_used.pop()
            j -= 1
        lone = len(words_used) == 1 and words_used[0] in _ONLY_BEFORE_SCALE
        if seen and not lone:
            end = tokens[j - 1].end()
            currency = bool(_CURRENCY_AFTER.match(text[end:]))
            yield NumberMatch(total + current, tokens[i].start(), end, currency)
        i = max(j, i + 1)


_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
    "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10,
}  # fmt: skip


_HALF = re.compile(
    r"\b(?P<n>\d+|one|two|three|four|five|six|seven|eight|nine|ten|a|an)\s+and\s+a\s+half\b"
    r"|\bhalf\s+an?\b(?!\s+(?:hour|dozen))"
)


def _halves(text: str) -> list[NumberMatch]:
    """ "two and a half" → 2.5, "an hour and a half" is left to the hour; "half a kilo" → 0.5."""
    halves = []
    for match in _HALF.finditer(text):
        word = match.group("n")
        whole = 0 if word is None else int(word) if word.isdigit() else _UNITS.get(word, 1)
        halves.append(NumberMatch(whole + 0.5, match.start(), match.end(), False))
    return halves


def find_numbers(text: str) -> list[NumberMatch]:
    """Every number in ``text`` (already normalised), in order: digits and words."""
    found = list(_digits(text)) + list(_spelled(text))
    halves = _halves(text) if "half" in text else []
    if halves:
        found = [m for m in found if not any(h.start <= m.start < h.end for h in halves)] + halves
    for match in re.finditer(r"\b(" + "|".join(_ORDINALS) + r")\b", text):
        found.append(
            NumberMatch(_ORDINALS[match.group(1)], match.start(), match.end(), False, True)
        )
    found.sort(key=lambda m: m.start)
    return found
