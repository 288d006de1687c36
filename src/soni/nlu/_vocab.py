"""Which flow a request is about, by the words the bot itself uses for each flow.

Trigger phrases say how a request is usually worded; people word it otherwise ("they
forgot my drink", "can I bring my dog on the plane?"). What the bot says about a flow
carries more: the flow's name and description, its trigger phrases, what its slots
are called in their prompts and descriptions, and the values (with synonyms) its
choice slots offer. Each word weighs by how few flows share it — a word every flow
has ("order" in a delivery bot) says nothing about which one is meant — and a
message is about the flow whose words it says clearly more of than any other's.

Used only where the trigger phrases found nothing: it reads requests worded unlike
any trigger, never overrules a phrase that matched.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz.distance import OSA

from soni.nlu._text import CODE, chat_spelled_out, normal
from soni.nlu._triggers import SAME_WORD
from soni.nlu.protocol import FlowInfo, SlotInfo

__all__ = ("FlowWords", "flow_words")

_PLACEHOLDER = re.compile(r"\{[^}]*\}")
_WORD = re.compile(r"[a-z][a-z']+")
_HOW_MUCH = re.compile(r"\bhow much\b(?! (?:data|time|longer|more|of)\b)")
_NAME_INSIDE = re.compile(r"(?<=[a-z,] )[A-Z][a-z]+")


def stem(word: str) -> str:
    """A light stem: enough that "snacks", "snack", "delivered", "delivery", "arrives"
    and "arrived" meet; a word ``canonical`` knows, in any of those forms, is its word
    ("charged" is "price")."""
    word = word.removesuffix("'s").strip("'")
    if word in SAME_WORD:
        return SAME_WORD[word].replace(" ", "_")  # "takeaway": one word, not "take away"
    cut = word
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("ery", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            cut = word[: len(word) - len(suffix)] + keep
            break
    for form in (cut, cut + "e"):
        if form in SAME_WORD:
            return SAME_WORD[form].replace(" ", "_")
    if cut.endswith("e") and len(cut) > 4:
        cut = cut[:-1]  # "arrive", "arrived": "arriv"
    return cut


def content(text: str) -> list[str]:
    """The words of ``text`` that can say what it is about, stemmed."""
    words = []
    said = normal(chat_spelled_out(_PLACEHOLDER.sub(" ", text)))
    said = _HOW_MUCH.sub(" price ", said)  # "how much is a filling?" asks a price
    for word in _WORD.findall(CODE.sub(" ", said)):
        if word in _STOPWORDS or len(word) < 3:
            continue
        stemmed = stem(word)
        if stemmed and stemmed not in _STOPWORDS:
            words.extend(stemmed.split())
    return words


@dataclass(frozen=True, slots=True)
class FlowWords:
    """Each flow's words, and how much each word tells the flows apart."""

    words: Mapping[str, frozenset[str]]  # flow -> its stemmed words
    weight: Mapping[str, float]  # word -> weight (0 for a word every flow has)
    values: frozenset[str]  # words only the choices' values and synonyms have

    def scores(self, text: str, *, question: bool = False) -> dict[str, float]:
        """How much of each flow's own vocabulary the message says (the weights of
        the words it shares with the flow, each word counted once).

        In a ``question`` a value is what is asked about, not what is asked for: "is
        the food spicy?", "who directed Paper Tigers?" want no order or ticket.
        """
        said = set(content(text))
        # A name said inside a sentence ("can I get Duke in on monday", "deliver to
        # Calle Serrano 5") is no word of another service, only one the bot has no use for.
        names = {stem(w.lower()) for w in _NAME_INSIDE.findall(text)}
        known = self.weight
        if question:
            known = {w: v for w, v in known.items() if w not in self.values}
        found: set[str] = set()
        unknown = 0
        for word in said:
            if word in known:
                found.add(word)
                continue
            if len(word) >= 5:
                # A typo of a word the bot uses ("snaks", "flihgt", "cancle").
                close = [w for w in known if abs(len(w) - len(word)) <= 1 and len(w) >= 4]
                typo = {w for w in close if OSA.distance(w, word) <= 1}
                if typo:
                    found.update(typo)
                    continue
            if word not in names:
                unknown += 1
        # Words no flow has may be about something else ("can you book me a taxi to the
        # airport"): then the message must say more of a flow. Once is enough — people
        # say more than a bot's words ("my dad uses a wheelchair, can he get in?").
        cost = _UNKNOWN if unknown else 0.0
        return {
            flow: sum(known[w] for w in found & words) - cost
            for flow, words in self.words.items()
            if found & words
        }

    def best(
        self, text: str, among: Sequence[str] | None = None, *, question: bool = False
    ) -> str | None:
        """The flow the message is clearly about, if one is; of the flows ``among``,
        when something else (a code they take) already points to them, with less
        said."""
        scores = self.scores(text, question=question)
        enough = _ENOUGH
        if among is not None:
            scores = {f: s for f, s in scores.items() if f in among}
            enough = _ENOUGH_AMONG
        if not scores:
            return None
        ranked = sorted(scores.items(), key=lambda item: -item[1])
        flow, first = ranked[0]
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        if first < enough or first < _LEAD * max(second, 0.0):
            return None
        return flow


# What a message must say of one flow (a word only that flow has weighs log(flows)),
# how far ahead of the next flow, and what saying words no flow has takes from it —
# chosen on the sets of tests/nlu/fresh* and near-domain out-of-scope questions.
_ENOUGH = 1.5
_ENOUGH_AMONG = 0.75
_LEAD = 1.5
_UNKNOWN = 0.8


def flow_words(flows: Sequence[FlowInfo], slot_types: Mapping[str, SlotInfo]) -> FlowWords:
    """The words of every flow of a bot (computed once per bot)."""
    last = _LAST.get((id(flows), id(slot_types)))
    if last is not None and last[0] is flows and last[1] is slot_types:
        return last[2]  # the engine hands the same objects every turn
    key = tuple(
        (
            flow,
            tuple(
                (
                    slot,
                    (*sorted(info.words), info.about),
                    tuple((c, tuple(s)) for c, s in info.choices.items()),
                )
                for slot in flow.slots
                if (info := slot_types.get(slot)) is not None
            ),
        )
        for flow in flows
    )
    words = _flow_words(key)
    if len(_LAST) > 64:
        _LAST.clear()
    _LAST[id(flows), id(slot_types)] = (flows, slot_types, words)
    return words


_LAST: dict[tuple[int, int], tuple[Any, Any, FlowWords]] = {}


@functools.lru_cache(maxsize=64)
def _flow_words(
    key: tuple[tuple[FlowInfo, tuple[tuple[str, tuple[str, ...], tuple[Any, ...]], ...]], ...],
) -> FlowWords:
    words: dict[str, frozenset[str]] = {}
    said: set[str] = set()  # words of the flows' names, descriptions, triggers
    named: set[str] = set()  # words of the choices' values and synonyms
    for flow, slots in key:
        texts = [flow.name.replace("_", " "), flow.description, *flow.intents]
        values: list[str] = []
        choice_texts: list[str] = []
        for _slot, slot_words, choices in slots:
            # A slot's prompt may list its values ("Now showing: Paper Tigers, …"):
            # its words are the flow's, and those of them that name a value stay values.
            values.extend(slot_words)
            for value, synonyms in choices:
                choice_texts.append(str(value))
                choice_texts.extend(str(s) for s in synonyms)
        values.extend(choice_texts)
        own = {w for text in texts for w in content(text)}
        said |= own
        words[flow.name] = frozenset(own | {w for text in values for w in content(text)})
        named |= {w for text in choice_texts for w in content(text)}
    count = len(words)
    df: dict[str, int] = {}
    for flow_set in words.values():
        for word in flow_set:
            df[word] = df.get(word, 0) + 1
    weight = {w: math.log(count / n) if count > 1 else 1.0 for w, n in df.items()}
    return FlowWords(words, weight, frozenset(named - said))


_STOPWORDS_TEXT = """
    a an the and or but if then than so to of in on at by for with from into onto about
    over under up down out off as is are was were be been being am do does did doing
    done have has had having i me my mine we us our ours you your yours he him his she
    her hers it its they them their theirs this that these those there here what which
    who whom whose when where why how all any some no not nor only own same too very
    just can could would should will shall may might must need needs want wants wanted
    like would please pls plz thanks thank ok okay hi hello hey yes yeah one ones get got
    let know tell said say also again now still already yet really actually maybe
    something anything thing things way lot much many more most other another each
    every both few such quick question hmm um uh oh ah well sure right sorry going
    able make made see look help new good great fine day time give put keep use try
    hang wait btw exactly somewhere anywhere near nearby also anyway though guys
    before after sometime sometimes always supposed these those
    wheres whats hows whens whos heres theres
    today tomorrow tonight yesterday weekend week month year morning afternoon
    evening night next last ago monday tuesday wednesday thursday friday saturday
    sunday mon tue tues wed thu thur thurs fri sat sun january february march april
    june july august september october november december jan feb mar apr jun jul aug
    sep sept oct nov dec
"""
_STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
