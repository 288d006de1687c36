"""Which flow a message asks for: fuzzy matching against each flow's trigger phrases.

A phrase without placeholders is compared with ``rapidfuzz``'s token-set ratio,
which forgives word order, extra words ("um, could you please…") and small typos.
A phrase with ``{slot}`` placeholders ("order {quantity} packs of {medication}")
is also read as a pattern: when its words appear in order around the values, the
flow matches fully and the values are taken for its slots.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from soni.nlu._text import CODE, normal
from soni.nlu.protocol import FlowInfo

__all__ = ("SAME_WORD", "Match", "TriggerIndex", "canonical", "index_for")

_PLACEHOLDER = re.compile(r"\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}")


@dataclass(frozen=True, slots=True)
class Match:
    """How well a message matches a flow, and the slot values its phrase captured."""

    flow: str
    score: float
    captured: dict[str, str]
    words: int = 0  # how many of the message's words the matching phrase accounts for


@dataclass(frozen=True, slots=True)
class _Phrase:
    flow: str
    words: str  # the phrase's own words, normalised, placeholders left out
    pattern: re.Pattern[str] | None  # for a phrase with placeholders
    tokens: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "tokens", frozenset(self.words.split()))


def _compile(flow: str, phrase: str) -> _Phrase | None:
    parts = _PLACEHOLDER.split(phrase)  # text, name, text, name, …, text
    literal = normal(" ".join(parts[0::2]))
    if len(parts) == 1:
        return _Phrase(flow, literal, None) if literal else None
    pieces: list[str] = []
    seen: set[str] = set()
    last = max(i for i in range(1, len(parts), 2))
    for i, part in enumerate(parts):
        if i % 2 == 0:
            text = normal(part)
            if text:
                pieces.append(r"\s+".join(re.escape(w) for w in text.split()))
            continue
        # The last placeholder, with no words after it, takes the rest of the message.
        rest = i == last and not normal(parts[-1])
        body = ".+" if rest else ".+?"
        pieces.append(f"(?P<{part}>{body})" if part not in seen else f"(?:{body})")
        seen.add(part)
    pattern = r"(?:^|(?<=\s))" + r"\s+".join(pieces) + r"(?=\s|$)"
    return _Phrase(flow, literal, re.compile(pattern))


class TriggerIndex:
    """Every flow's trigger phrases, compiled once per bot."""

    def __init__(self, flows: Sequence[FlowInfo]) -> None:
        phrases: list[_Phrase] = []
        for flow in flows:
            named = flow.name.replace("_", " ")
            for phrase in (*flow.intents, named):
                compiled = _compile(flow.name, phrase)
                if compiled is not None:
                    phrases.append(compiled)
        self._phrases = tuple(phrases)
        self._texts = [phrase.words for phrase in self._phrases]
        self._canon = [canonical(phrase.words) for phrase in self._phrases]
        self._canon_tokens = [frozenset(text.split()) for text in self._canon]

    def rank(self, said: str) -> list[Match]:
        """The flows by how well ``said`` (normalised) matches them, best first."""
        if not said:
            return []
        said_list = said.split()
        said_words = set(said_list)
        # Every phrase scored in one call into rapidfuzz's C code.
        scores = [0.0] * len(self._phrases)
        # A code in the message ("where is my ticket INC-20388") is a value, not words a
        # phrase has: fuzzy scores leave it out; placeholders still see it.
        fuzzy = _without_codes(said)
        for _, score, index in process.extract(
            fuzzy, self._texts, scorer=fuzz.token_set_ratio, limit=None
        ):
            scores[index] = float(score)
        # The same words in other forms ("reservation" for "reserve", "move" for
        # "reschedule"): the phrases and the message compared in canonical words, a
        # little below an exact match.
        said_canon = canonical(fuzzy)
        said_canon_words = set(said_canon.split())
        if said_canon != said:
            for _, score, index in process.extract(
                said_canon, self._canon, scorer=fuzz.token_set_ratio, limit=None
            ):
                if len(self._canon_tokens[index]) > 1:  # one word says too little
                    scores[index] = max(scores[index], float(score) - _CANON_COST)
        best: dict[str, Match] = {}
        for index, phrase in enumerate(self._phrases):
            captured: dict[str, str] = {}
            score = scores[index] if phrase.words else 0.0
            if phrase.pattern is not None:
                found = phrase.pattern.search(said)
                if found is not None:
                    captured = {k: v.strip() for k, v in found.groupdict().items() if v}
                    score = 100.0
            if score and not captured and len(said_list) == 1 and len(phrase.tokens) > 1:
                score = _one_word(phrase, said_list[0], score)
            elif score >= _WHOLE and not captured and phrase.tokens:
                # A message inside a longer phrase scores 100 as much as the phrase
                # itself: "send a parcel" is "send a parcel", not "how much does it
                # cost to send a parcel". The phrase's words the message lacks count.
                tokens = self._canon_tokens[index]
                missing = len(tokens - said_canon_words) / len(tokens) if tokens else 0.0
                score -= _MISSING_WEIGHT * missing
            # How much of the message the phrase accounts for: its words found there,
            # and the values in its placeholders.
            size = len(phrase.tokens & said_words) + len(captured)
            current = best.get(phrase.flow)
            if current is None or (score, size) > (current.score, current.words):
                best[phrase.flow] = Match(phrase.flow, score, captured, size)
        # Equal scores: the longer phrase matched says more ("has my refill order
        # shipped" over "refill").
        return sorted(best.values(), key=lambda m: (-m.score, -m.words, m.flow))


def _without_codes(said: str) -> str:
    return " ".join(CODE.sub(" ", said).split()) or said


_CANON_COST = 2.0
# Words that ask for the same thing, to one word each. General English, not any bot's.
SAME_WORD = {
    "reserve": "book", "reservation": "book", "booking": "book", "reserved": "book",
    "booked": "book",
    "move": "change", "reschedule": "change", "rearrange": "change", "modify": "change",
    "update": "change", "alter": "change", "amend": "change", "switch": "change",
    "postpone": "change", "shift": "change", "edit": "change",
    "ship": "send", "post": "send", "mail": "send", "dispatch": "send", "sending": "send",
    "shipping": "send", "sent": "send",
    "package": "parcel", "packet": "parcel", "box": "parcel", "shipment": "parcel",
    "trace": "track", "tracking": "track", "locate": "track",
    "annul": "cancel", "cancellation": "cancel", "cancelled": "cancel", "canceled": "cancel",
    "purchase": "buy", "get": "buy",
    "status": "state", "progress": "state",
    "laptop": "computer", "pc": "computer", "notebook": "computer",
    "pwd": "password", "passcode": "password",
    "broken": "broke", "faulty": "broke", "dead": "broke",
    "fix": "repair",
    "opening": "open",
    "cost": "price", "fee": "price", "fees": "price",
    "delivery": "deliver", "delivered": "deliver", "deliveries": "deliver",
    "visit": "appointment",
    "raise": "open", "submit": "open", "create": "open", "lodge": "open",
    "issue": "problem", "fault": "problem", "incident": "problem", "trouble": "problem",
    "news": "state", "happening": "state",
    "bring": "deliver", "redeliver": "deliver",
    "charge": "price", "charges": "price", "rate": "price", "pricing": "price",
    "takeout": "take away", "takeaway": "take away",
    "expensive": "price", "cheap": "price", "cheaper": "price", "pricey": "price",
    "reimburse": "refund", "reimbursed": "refund", "reimbursement": "refund",
    "refunded": "refund", "repay": "refund",
}  # fmt: skip


def canonical(said: str) -> str:
    """``said`` with each word in its canonical form (see ``SAME_WORD``), plurals cut
    first ("reservations" → "reservation" → "book")."""
    words = []
    # "drop-off" is "drop off", "take-away" "take away" (a code keeps its dash).
    for word in _HYPHENATED.sub(" ", said).split():
        same = SAME_WORD.get(word)
        if same is None and len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
            same = SAME_WORD.get(word[:-1], word[:-1])
        words.append(same or word)
    return " ".join(words)


_HYPHENATED = re.compile(r"(?<=[a-z])-(?=[a-z])")
_WHOLE = 95.0
_MISSING_WEIGHT = 7.0


def _one_word(phrase: _Phrase, word: str, score: float) -> float:
    """A message of one word matches a longer phrase only through a word that carries
    meaning ("order" → "order status"); "my" or "i" alone says nothing."""
    if len(word) < 4 or word in _STOPWORDS or word not in phrase.tokens:
        return min(score, float(fuzz.ratio(phrase.words, word)))
    return score


_STOPWORDS = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "this",
        "that",
        "what",
        "your",
        "you",
        "have",
        "need",
        "want",
        "like",
        "please",
        "some",
        "more",
        "from",
        "into",
        "about",
        "would",
        "could",
        "should",
        "can",
        "will",
    ]
)


@functools.lru_cache(maxsize=64)
def index_for(flows: tuple[FlowInfo, ...]) -> TriggerIndex:
    """The index of a bot's flows (the engine hands the same tuple every turn)."""
    return TriggerIndex(flows)
