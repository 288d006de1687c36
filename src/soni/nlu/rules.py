"""The rule-based understanding: ordinary messages to commands, offline, without a model.

It reads a message in this order, and the first reading that fits wins:

1. **Repairs** — cancel ("never mind"), help ("what can you do").
2. **The pending confirmation** — choosing an option by name, label or ordinal ("the
   second one"), yes ("sure, go ahead") or no ("not now", "hmm, no, leave it as it
   is", "I don't want that"); "no, to Bob" is a correction, not a refusal, but only a
   real value for one of the action's slots corrects: a refusal is never read as a
   new value.
3. **Corrections** of a filled slot — "actually 5", "make it 5", "change the date to
   friday", "no, to Bob"; a time goes to the slot a time fits ("actually 5pm
   instead"), a day to the date.
4. **The open question** — a value of the slot being collected, by its type, when the
   message is not clearly a request for another flow.
5. **Flows** — fuzzy matching against trigger phrases; values in ``{slot}``
   placeholders and values of the flow's other slots are taken along; two flows
   about as close → ``clarify``.

Anything else is ``out_of_scope``: understanding never raises on what a user types.
With ``settings.nlu.embeddings`` the semantic matcher (``soni.nlu.embeddings``)
reads, last, what would otherwise be ``out_of_scope``, and an option no rule named.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rapidfuzz import fuzz

from soni.nlu._lexicon import RulesSettings
from soni.nlu._names import NAME_SLOT, a_name_in, name_slot, not_a_name
from soni.nlu._options import AGAINST, NEGATION, chosen, in_window
from soni.nlu._text import CODE, chat_spelled_out, find_numbers, normal
from soni.nlu._times import find_time
from soni.nlu._triggers import Match, TriggerIndex, index_for
from soni.nlu._values import (
    answer,
    choice_of,
    distinctive,
    for_a_person,
    free_text,
    holds_a_code,
    lone_count,
    matched_span,
    mention,
    names_a_date,
    offered_half,
    pair_of_people,
    says_none,
    times_of_day,
)
from soni.nlu._vocab import flow_words
from soni.nlu.commands import (
    Affirm,
    AskDecision,
    CancelFlow,
    Choose,
    Clarify,
    Command,
    CorrectSlot,
    Deny,
    Help,
    OutOfScope,
    SetSlot,
    StartFlow,
)
from soni.nlu.embeddings._matcher import semantic_flow, semantic_option
from soni.nlu.protocol import ConversationContext, FlowInfo, PendingInfo, SlotInfo
from soni.nlu.units import PEOPLE

__all__ = ("RulesSettings", "RulesUnderstanding")

_CORRECTION = re.compile(
    r"^(?:(?:actually|sorry|oops|wait|no|nope|oh|hmm|i meant|i mean|i said|correction|rather|"
    r"typo|my bad|my mistake|wrong(?:\s+one|\s+(?!it\b|is\b)[a-z]+)?)\b[\s,]*)+"
    r"|^(?:make it|change it to|let's say|lets say|instead)\b\s*"
    # "should be 32 kilos", "change it, it should be Carrer de Mallorca 410"
    r"|^(?:(?:no|sorry|actually|change it|wait)\b[\s,]*)*(?:(?:it|that|this|the \w+)\s+)?"
    r"(?:should (?:be|have been)|should've been|was meant to be|needs to be)\b\s*"
)
# Lead words that only hesitate: after them a value may as well answer the open
# question ("oh ok, thursday") as correct a filled slot.
_WEAK_MARKER = re.compile(r"^(?:(?:sorry|oops|wait|no|nope|oh|hmm|ok|okay)\b[\s,]*)+$")
# What a value is said to be that is no value: "the location is wrong".
_JUDGED = re.compile(
    r"^(?:(?:all|completely|totally|just|so|a bit|a little)\s+)?(?:wrong|incorrect|not right|"
    r"not correct|a mistake|off|bad|not it|not what i (?:said|meant|asked for))\b"
)
# A number, an ordinal or a day in a message: a value, not the name of an action.
_GIVES_A_VALUE = re.compile(
    r"\d|\b(?:first|second|third|fourth|fifth|last|monday|tuesday|wednesday|thursday|"
    r"friday|saturday|sunday|today|tomorrow|tonight)\b"
)
# A pick said with a judgement of it: "the middle one was a mistake", "7am? no wait".
_JUDGES_PICK = re.compile(r"\b(?:wrong|a mistake|incorrect|no wait|not that|anything but)\b")
_SHOULD_BE = re.compile(r"\bshould(?:'ve| have)? be(?:en)?\b|\b(?:meant|needs) to be\b")
_CHANGE = re.compile(
    r"^(?:(?:actually|sorry|no|please|can you|could you|can we|i want to|i'd like to)\s+)*"
    r"(?:change|set|update|switch|make|move)\s+(?:the\s+|my\s+)?(?P<what>[a-z][a-z -]*?)\s+"
    r"(?:to|into|for|be)\s+(?P<value>.+)$"
)
_INSTEAD = re.compile(
    r"^(?P<value>.+?)\s+(?:instead|i meant|i mean|is what i meant|i said)(?:\s+please)?$"
)
_ALONE = frozenset({"stop", "exit", "quit", "abort"})
# Hesitations and openers in front of what a message says ("hmm, no", "oh wait, yes"):
# they change nothing in a yes, a no or a cancel.
_LEAD_IN = re.compile(
    r"^(?:(?:h+m+|u+h+m*|u+m+|e+r+m*|oh+|ah+|u+gh+|argh+|meh|well|wait|actually|honestly|so|"
    r"sorry|on second thought|thinking about it|come to think of it|you know what|"
    r"i think|i guess|hold on|hang on|one sec(?:ond)?|quick question|by the way|btw|"
    r"excuse me|hey|hi|hello)\b[\s,]*)+"
)
# Words a refusal is made of and a slot's free-text value never is: after "no",
# words like these mean no, not a new value ("no, leave it as it is").
_REFUSAL_WORDS = """
    it that this those these them me you i we us do does did don't dont doing done
    leave keep forget cancel stop want wanted need go send sent change changed mind
    my as is are was be been not now never thing things everything anything nothing
    all way there here please thanks thank actually again just right ok okay yes no
    nope nah anymore more time later sorry wait hold off what like so let let's us
    any fine good idea sure really
    """
_NOT_A_VALUE = frozenset(_REFUSAL_WORDS.split())
# A refusal said in a sentence rather than with "no" ("I don't want that", "I'd
# rather not"): at a confirmation, with no yes in front of it, it is a no.
_REFUSES = re.compile(
    r"\b(?:don't|dont|do not|won't|will not|would not|wouldn't|rather not|better not|"
    r"not anymore|no longer|not interested|not needed|changed my mind|rather keep|"
    r"leave (?:the \w+|it) alone)\b"
)
_EMOJI = {"\U0001f44d": " yes ", "\U0001f44c": " yes ", "\u2705": " yes ", "\u2714": " yes ",
          "\U0001f44e": " no ", "\u274c": " no ", "\U0001f6ab": " no "}  # fmt: skip
_STRETCHED = (
    (re.compile(r"\bno{2,}\b"), "no"),
    (re.compile(r"\bnope+\b"), "nope"),
    (re.compile(r"\bye+s+\b"), "yes"),
    (re.compile(r"\bstop+\b"), "stop"),
)


def _emoji_words(text: str) -> str:
    """Thumbs and crosses as the words they stand for (normalising drops them)."""
    for sign, word in _EMOJI.items():
        text = text.replace(sign, word)
    return text


def _elongated(said: str) -> str:
    """ "noooo" → "no", "yesss" → "yes", "stopp" → "stop"."""
    for stretched, word in _STRETCHED:
        said = stretched.sub(word, said)
    return said


# The no words a correction may follow ("no, to Bob"); after the others ("don't …",
# "not now …") the words say what not to do.
_NO_THEN_VALUE = frozenset({"no", "n", "nope", "nah", "wrong", "no no"})
# After a yes word, a "not" turns it round: "absolutely not", "of course not".
_NEGATED_YES = re.compile(r"^(?:not|no)\b(?!\s+(?:problem|worries|rush|doubt|question)\b)")
# Words that, after a "no", say why or how it is no — never a new value with it.
_REFUSAL_SIGNAL = re.compile(
    r"\b(?:don't|dont|do not|won't|will not|forget|cancel|skip|hold off|leave it|"
    r"not now|not yet|no need|still have|keep it|changed my mind|first|later|"
    r"anymore|no longer|rather not|think about it)\b"
)
# Words a help question may have around its phrase ("what kind of things can you help
# me with here?", "I'm not sure, what are the options?").
_HELP_EXTRA_WORDS = """
    a the of kind sort type things stuff else for me exactly here all other with you i
    please could would can what which tell anything ask actually really am not sure so
    um hmm ok okay again do does is are my there any then now
"""
_HELP_EXTRA = frozenset(_HELP_EXTRA_WORDS.split())
# Words that say something should be different, not that nothing should happen.
_CHANGE_SAID = frozenset(
    [
        "change",
        "wrong",
        "different",
        "other",
        "another",
        "mistake",
        "typo",
        "incorrect",
        "fix",
        "edit",
        "update",
    ]
)
_CHANGE_WORDS = re.compile(r"\b(?:" + "|".join(sorted(_CHANGE_SAID)) + r")\b")
_NOT_THIS = re.compile(r"\bnot\s+(\S+(?:\s\S+){0,2})$")
_BUT = re.compile(r"^(?:but|and|so|then|well|um+|hmm+)\b\s*")
_NO_PROBLEM = re.compile(r"^no (?:problem|worries|rush|doubt|question)\b")
_SPACES = re.compile(r"[ \t]{2,}|\s{3,}")
_FOR_NOW = re.compile(r"\b(?:for now|for the moment|now|then|this|that|all this)\b")
_AND = re.compile(r"^(?:and|also|plus|oh and|but)\b\s*")
_CLAUSES = re.compile(r"[.!?;,]+\s*|\s+-+\s+")
# Words that say a new value follows, whatever no came first: "no way, not 10, I said 9".
_SAID_IT = re.compile(r"\b(?:i said|i meant|it should be|make it|it has to be)\b")
_NAMED_IS = re.compile(
    r"^(?:(?:no|nope|actually|sorry|oops|oh|wait|i meant|i mean)\s+)*(?:the\s+|my\s+|our\s+)?"
    r"(?P<what>(?!(?:it|this|that|he|she|they)\b)[a-z][a-z -]{1,30}?)\s+"
    r"(?:is|should be|will be|=|:)\s+(?:on\s+|at\s+)?"
    r"(?P<value>.+)$"
)
_NOT_THIS_BUT = re.compile(r"^(?:no\s+)?not\s+[^,]+,\s*(?:but\s+)?(?P<value>.+)$")
_VALUE_LEAD = re.compile(
    r"^(?:(?:send|transfer|pay|give|deliver|ship|order|book|put|change|set|move|switch)"
    r"\s+(?:it|them|that|the\s+\w+)\s+)?(?:(?P<to>to|for)\s+|it'?s\s+|it is\s+|make it\s+)"
)
# A question rather than an answer: "when do you open", "do you have vegan options",
# "where do I find that".
# "stop, I remembered it": a cancelling word set apart by its punctuation.
_STOP_SAID = re.compile(
    r"^(?:(?:ok|okay|alright|right|fine)[\s,]+)?(?:stop|cancel|quit|abort|exit)\s*[,.!]"
)
_QUITS = re.compile(
    r"^(?:forget|scrap|ditch) (?:it|that|this|the \w+|about it)\b"
    r"|\b(?:do not|don't|dont) (?:want|need) (?:to \w+(?: \w+){0,2} |it |this |that |one )?"
    r"any ?more\b|\bno longer (?:want|need)\b|\bnot interested any ?more\b"
)
# A last clause that calls the task off: "cancel the whole booking", "scrap the visit".
_OFF_LAST = re.compile(
    r"^(?:(?:just|please|so|ok|okay) )?(?:cancel|scrap|ditch|forget|drop) "
    r"(?:it|this|that|everything|the lot|(?:the|my|this|that) (?:whole |entire )?[a-z]+)$"
)
_LATER = re.compile(r" (?:for now|for the moment|for today|now|then)$")
# Keeping something, said of what the actions would undo: "keep the first one".
_KEEPS = re.compile(r"\b(?:keep|keeping|leave|hold on to|hang on to)\b")
_QUESTION = re.compile(
    r"^(?:what|when|where|why|how|who|which|whats|wheres|hows|do you|does|did you|"
    r"can you|could you|can i|could i|is there|are there|are you|is it|is the|will you)\b"
)


_ONES_OWN = re.compile(r"\b(?:my|mine|i|i've|i'm|me)\b")


def _bare_change(
    text: str, said: str, context: ConversationContext, today: dt.date
) -> CorrectSlot | None:
    """A value alone, said at a question before an action, for the one filled slot of
    the flow it fits and changes: "it's 612345679", "from the 22nd", "1.50". Only the
    value and the words that introduce it: a number with nothing but its unit, a day,
    a time, a choice as named, a code its slot's pattern matches whole; nothing that
    says no ("nada", "nobody"), nothing in a sentence ("it's 2 too many")."""
    if NEGATION.search(said) or _QUESTION.match(said) or says_none(said):
        return None
    rest = _BARE_LEAD.sub("", said).strip()
    if not rest:
        return None
    fits: list[CorrectSlot] = []
    for info in _filled_slots(context):
        value = _alone(info, text, rest, rest == said, today)
        if value is not None and str(value) != str(context.slots.get(info.name)):
            fits.append(CorrectSlot(info.name, _cased(text, info, value)))
    return fits[0] if len(fits) == 1 else None


def _alone(info: SlotInfo, text: str, rest: str, bare: bool, today: dt.date) -> Any:
    """``rest`` as a value of ``info`` when it is nothing else (see ``_bare_change``);
    ``bare`` when no words introduced it ("1", not "it's 1")."""
    kind = info.kind
    if kind in ("integer", "float"):
        number = _NUMBER_ALONE.fullmatch(rest)
        if number is None or (number.group("unit") and number.group("unit") not in info.words):
            return None
        if (
            bare
            and not number.group("unit")
            and not _MONEY.search(rest)
            and re.fullmatch(r"\d", rest)
        ):
            return None  # "1" alone: an option's number as much as a new amount
        return answer(info, rest, today)
    if kind in ("date", "datetime"):
        rest = _DAY_LEAD.sub("", rest)
        if not names_a_date(rest) or not _ONLY_DAY_WORDS.fullmatch(rest):
            return None  # "the 1st of march", not "I'm busy on friday"
        return answer(info, _original(text, rest), today)
    if kind == "time":
        rest = _TIME_LEAD.sub("", rest)
        return answer(info, rest, today) if _TIME_ALONE.fullmatch(rest) else None
    if kind == "choice":
        rest = rest.removeprefix("the ")  # "the terrace"
        value = choice_of(info.choices, rest, fuzzy=False)
        return value if value is not None and _exact(info, rest) else None
    if info.pattern is not None and distinctive(info):
        written = _original(text, rest)
        return written if info.pattern.fullmatch(written) else None
    return None


# Actions whose names are a way of saying no: "yes cancel it" at a cancelling action.
_UNDOING_VERBS = frozenset({"cancel", "skip", "delete", "remove", "stop", "end", "drop"})
_AROUND_A_VERB = frozenset(
    {"it", "that", "this", "anyway", "please", "then", "now", "them", "go", "ahead", "and", "just"}
)
_SECOND_THOUGHT = re.compile(
    r"^(?:actually|wait|no wait|hold on|hang on|on second thought|hmm+|um+)\b"
)
_CHANGE_AFTER_YES = re.compile(r"\b(?:change|update|edit|fix|make it|switch|instead)\b")
_ONLY_DAY_WORDS = re.compile(
    r"(?:(?:the|of|next|this|on|\d{1,2}(?:st|nd|rd|th)?|[a-z]+day|today|tomorrow|tonight|"
    r"jan\w*|feb\w*|mar\w*|apr\w*|may|jun\w*|jul\w*|aug\w*|sep\w*|oct\w*|nov\w*|"
    r"dec\w*|\d{1,2}[/.-]\d{1,2}(?:[/.-]\d{2,4})?|first|second|third|[a-z]+th)\s*)+"
)
_MONEY = re.compile(r"[€$£]|\b(?:euros?|pounds?|dollars?|eur|usd|gbp)\b")


_BARE_LEAD = re.compile(r"^(?:(?:it'?s|its|it is|actually|make it|rather)\s+)+")
_DAY_LEAD = re.compile(r"^(?:(?:from|on|starting|start|for)\s+)+")
_TIME_LEAD = re.compile(r"^(?:(?:at|from|around)\s+)+")
_NUMBER_ALONE = re.compile(r"[€$£]?\s?\d+(?:[.,]\d+)?\s?(?P<unit>[a-z€$£]+)?")
_TIME_ALONE = re.compile(r"\d{1,2}(?:[:.]\d{2})?\s?(?:am|pm|a\.m\.|p\.m\.)?|noon|midday|midnight")


def _asks_something(text: str) -> bool:
    """Whether the message asks a question: a "?", or a clause that opens like one."""
    return "?" in text or any(_QUESTION.match(clause) for clause in _clauses(text))


# Asking what the bot wants or offers, in any words around it: "sorry what do you
# mean, what are my options?", "why do you need that?", "help, what am I supposed to
# pick here?".
_WHAT_TO_DO = re.compile(
    r"\bwhat (?:are|were) (?:my|the) (?:options|choices)\b|\bwhat do you mean\b"
    r"|\bwhat am i (?:supposed|meant) to (?:pick|say|choose|do|type|answer)\b"
    r"|\bwhy do you (?:need|want) (?:that|this|it|to know)\b"
    r"|\b(?:do not|don't|dont) (?:get|understand) what you(?:'re| are)? "
    r"(?:asking|saying|mean)\b"
    r"|\bwhat (?:should|do|can) i (?:pick|choose|say|answer)(?: here)?\s*\??$"
)
_GREETING = re.compile(r"(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening)|sorry|ok|okay)")
_LOST = re.compile(
    r"\b(?:i am confused|im confused|what (?:exactly |else )?do you need|what do you mean|"
    r"i do not understand|i don't understand|i dont understand|what should i (?:say|type|write)|"
    r"where (?:do|can|would) i (?:even |actually )?find|no idea what|how do i find)\b"
    r"|^help\b"
)
_DONT_KNOW = re.compile(
    r"^(?:(?:lol|haha|hmm|um|well|honestly|sorry)\s+)*(?:i do not know|i have no idea|no idea|"
    r"not sure|i am not sure|no clue|i have no clue|i forgot|i do not remember|"
    r"i can not remember|i cannot remember|who knows)\b"
)
_NONE_OF = re.compile(
    r"^(?:neither|none)(?:\s+(?:of\s+(?:those|these|them|the\s+\w+)|one|thanks|please|"
    r"works|suits me|of them work|is good))*\b"
)
_FILLER = re.compile(r"\b(?:please|pls|thanks|thank you|um+|uh+|well|so|ok|okay|just)\b")


class RulesUnderstanding:
    """Understands messages with rules, fuzzy matching and typed value extraction.

    Args:
        settings: Thresholds and phrase lists; ``RulesSettings.from_settings`` reads
            them from a bot's ``settings.nlu``.
    """

    def __init__(self, settings: RulesSettings | None = None) -> None:
        self.settings = settings or RulesSettings()
        self._help_words = _HELP_EXTRA.union(*(p.split() for p in self.settings.help))

    async def understand(self, text: str, context: ConversationContext) -> list[Command]:
        try:
            if self.settings.embeddings is not None:
                # The matcher computes for milliseconds (its first use loads the model):
                # not on the event loop.
                return await asyncio.to_thread(self._understand, text, context)
            return self._understand(text, context)
        except Exception:  # a rule that trips on odd input must not fail the turn
            return [OutOfScope(text)]

    # -- the reading order ----------------------------------------------------------

    def _understand(self, text: str, context: ConversationContext) -> list[Command]:
        # One space between words: some rules read the message with lookarounds that
        # would go over a long run of spaces again and again.
        text = chat_spelled_out(_SPACES.sub(" ", text.strip()))  # "rsrv table 2ppl tmrw"
        said = _elongated(normal(_emoji_words(text)))
        if not said:
            return [OutOfScope(text)]
        opened = _LEAD_IN.sub("", said).strip() or said
        bare = _FILLER.sub(" ", opened).split()
        core = " ".join(bare) or opened
        today = context.today or dt.date.today()
        asked = context.pending is not None or context.awaiting_confirm_step
        if context.pending is not None and text in context.pending.options:
            return [Choose(text)]  # an option by its own name: "cancel_appointment.2"
        if asked and self._yes_to_its_verb(said, context):
            # "yes skip it" at "Skip your next visit?", "ok, cancel it anyway" at
            # "Cancel booking SKI-20417?": the yes, said with the action's own verb.
            return [Affirm()]
        if asked and self._stops(opened):
            # At the question itself, a message that opens with a way of cancelling
            # ("stop, maybe later") stops the flow: nothing runs.
            return [CancelFlow()]
        stopped = _STOP_SAID.match(_LEAD_IN.sub("", text.strip().lower()).strip()) is not None
        # "I don't want to book anymore": giving up the task, said in a sentence; or a
        # way of cancelling as the last clause ("it's back on now, forget it").
        quits = context.active_flow is not None and (
            (
                not asked
                and (
                    _QUITS.search(said) is not None
                    or self._said_apart(text, self.settings.cancel)
                    or self._opens_apart(text)
                )
            )
            # At a question too ("meh, not my thing. cancel the whole booking"), unless
            # what is asked is itself a cancelling ("ugh fine, cancel the booking" at
            # "Cancel booking BK-1?" may be the yes).
            # A no first is the no ("nah 120 is too expensive, forget it" skips).
            or (
                asked
                and not _undoing_asked(context)
                and self._starts(said, self.settings.deny) is None
                and self._calls_off_last(text)
            )
        )
        if stopped or quits or self._cancels(core) or self._cancels(said) or self._cancels(opened):
            # The bot's own flows come before the built-in: "cancel my appointment" is
            # the cancel-appointment flow when the bot has one, not "nothing to cancel".
            own = self._own_flow_over_cancel(core, text, context)
            if own is not None:
                return self._start(own, text, context, today)
            if context.active_flow is None and core not in self.settings.cancel:
                # "just cancel it please" with nothing running: the bot's flow for
                # cancelling, or which of them.
                calls_off = self._cancelling(text, context, today)
                if calls_off is not None:
                    return calls_off
            return [CancelFlow()]
        if (
            self._is(core, self.settings.help)
            or self._is(said, self.settings.help)
            or self._help_clauses(text)
            or (_WHAT_TO_DO.search(said) and not re.search(r"\d", said))
        ):
            return [Help()]
        # A question before an irreversible action: whatever is not plainly a value
        # for one of its slots must not become one.
        if asked:
            decided = self._decision(text, opened, core, context)
            if decided is not None:
                return decided
            # "before I confirm, where do I drop it off?": a question for another
            # flow after a clause that decides nothing.
            aside = self._question_after(text, context, skip=1)
            if aside:
                return aside
        corrected = self._correction(text, said, context, today, strict=asked)
        if corrected is not None:
            return corrected
        if asked:
            changed = _bare_change(text, said, context, today)
            if changed is not None:
                return [changed]  # "it's 612345679", "from the 22nd" at the question
        if context.pending is not None and self._wants_a_change(said, context):
            return [AskDecision()]  # "the date is wrong", and no new date
        index = index_for(tuple(context.flows))
        expected = context.expected_slot
        if expected is not None:
            # "before that - what documents do I need?": a question for another flow
            # after a clause that answers nothing.
            aside = self._question_after(text, context, skip=1)
            if aside:
                return aside
            if _LOST.search(opened) and not distinctive(expected):
                return [Help()]  # "help, where do I even find my member number??"
            unsure = _DONT_KNOW.match(opened)
            if (
                unsure is not None
                and len(opened[unsure.end() :].split()) <= 3
                and not re.search(r"\d", opened)
            ):
                return [OutOfScope(text)]  # "lol idk": no answer, and no value
            value = answer(expected, text, today)
            named = self._name_then_more(expected, text, context, today)
            if named is not None:
                return named  # "Nora Lind, born 05/09/1992": the name, and the birthday
            if expected.kind == "time" and isinstance(value, str):
                value = offered_half(value, text, context.slots.values())
            # A span the slot's own pattern matches is as sure as a typed value.
            strong = expected.kind not in ("string", "any") or distinctive(expected)
            if value is not None and strong:
                # A value of the slot's own type answers the question, whatever
                # trigger words come with it: no need to rank the flows.
                return [SetSlot(expected.name, value), *self._mentions(text, context, today)]
            # Filler words ("please", "um") neither help nor hinder a trigger phrase.
            ranked = _holding_values(_ranked(index, core), text, context, today)
            digression = self._request(ranked, strict=True, length=len(said.split()))
            if value is not None and strong:
                return [SetSlot(expected.name, value), *self._mentions(text, context, today)]
            if digression is None and _asks_something(text):
                # "quick question first, can I take a power bank in my carry on?": a
                # question in another flow's words, not the name asked for.
                about = self._about(text, context)
                if about is not None:
                    return self._start(about, text, context, today)
            if value is not None and digression is None and not _QUESTION.match(opened):
                return [SetSlot(expected.name, value), *self._mentions(text, context, today)]
            if digression is not None:
                return self._start(digression, text, context, today)
            if value is None or _QUESTION.match(opened):
                # Not an answer: a value for another of the flow's slots ("at the bar
                # is fine" when asked the time), a question ("when do you open?"), or
                # being lost ("what do you need from me?").
                other = self._not_an_answer(text, opened, core, ranked, context, today)
                if other is not None:
                    return other
            if value is not None:
                return [SetSlot(expected.name, value), *self._mentions(text, context, today)]
            # Typed, and no value of that type in it: an answer that does not parse.
            # The bot rejects it with the slot's own message and asks again.
            return [SetSlot(expected.name, text.strip())]
        ranked = _holding_values(_ranked(index, core), text, context, today)
        if context.active_flow is None and _CALLS_OFF.search(said):
            # "we won't need the appointment on Tuesday after all": calling it off,
            # though "appointment" is a word of the booking flow's triggers.
            calls_off = self._cancelling(text, context, today)
            if calls_off is not None:
                return calls_off
        clarify = self._clarify(ranked)
        if clarify is not None:
            return [clarify]
        request = self._request(ranked, strict=False)
        if request is not None:
            if request.score < _LOOSE and not request.captured:
                # A trigger met only loosely ("can I swap my tickets to sunday?" is
                # near "buy tickets" and "refund my tickets"): the flow the words are
                # clearly about, if another.
                request = self._about(text, context) or request
            return self._start(request, text, context, today)
        if self._asks_for_help(core):
            return [Help()]
        if context.active_flow is None:
            by_code = self._by_code(text, ranked, context, today)
            if by_code is not None:
                return by_code
        if context.active_flow is not None:
            mentioned = self._mentions(text, context, today)
            if mentioned:
                return mentioned
        if not asked or _QUESTION.match(opened):
            about = self._about(text, context)
            if about is not None:
                return self._start(about, text, context, today)
        return self._when_unsure(text, context, today) or [OutOfScope(text)]

    def _about(
        self, text: str, context: ConversationContext, among: Sequence[str] | None = None
    ) -> Match | None:
        """The flow a request worded unlike any trigger is clearly about, by the words
        the bot uses for each flow (see ``soni.nlu._vocab``); never the running one."""
        # A question about a value ("is the ramen spicy?") asks nothing of the flow
        # that offers it; one about the user's own ("how much data have I used?",
        # "what's my bill at?") is about it.
        question = _asks_something(text) and not _ONES_OWN.search(normal(text))
        flow = flow_words(context.flows, context.slot_types).best(text, among, question=question)
        if flow is None or flow == context.active_flow:
            return None
        return Match(flow, 0.0, {})

    @staticmethod
    def _is(said: str, phrases: frozenset[str]) -> bool:
        return said in phrases

    def _help_clauses(self, text: str) -> bool:
        """Every clause asks for help: "hello? what is this bot for", "halp, how does
        this thing work"."""
        clauses = [c for c in _clauses(text) if not _GREETING.fullmatch(c)]
        return bool(clauses) and all(
            self._is(c, self.settings.help) or self._asks_for_help(c) for c in clauses
        )

    def _asks_for_help(self, core: str) -> bool:
        """A short message that says a help phrase in more words ("what can you do for
        me", "what kind of things can you help with") — and nothing else: "help me
        reset my password" asks for the flow, not for help."""
        said = core.split()
        if len(said) > 10 or not self._help_words.issuperset(said):
            return False  # a word no help phrase has: not only asking for help
        for phrase in self.settings.help:
            words = phrase.split()
            if len(words) < 2 or fuzz.token_set_ratio(phrase, core) < 95:
                continue
            if all(w in words or w in _HELP_EXTRA for w in said):
                return True
        return False

    def _only_refusal(self, rest: str) -> bool:
        """Whether every word after a "no" only says no again, or is filler."""
        words = _FILLER.sub(" ", rest).split()
        refusal = {w for phrase in self.settings.deny for w in phrase.split()}
        return all(w in refusal or w in ("thank", "thanks", "you", "really") for w in words)

    def _cancels(self, said: str) -> bool:
        """ "never mind", or a message that opens with it ("nevermind, cancel that").

        Single words that also start ordinary sentences ("stop by the pharmacy")
        cancel only on their own.
        """
        if said in self.settings.cancel:
            return True
        opening = self._starts(said, self.settings.cancel)
        if opening is None:
            return False
        if opening in _ALONE:
            # "stop, forget it": a short word backed by another way of cancelling.
            rest = said[len(opening) :].strip()
            return rest in self.settings.cancel
        # "never mind, I'll come in person": the reason after it changes nothing.
        return len(said.split()) <= 12

    def _not_an_answer(
        self,
        text: str,
        said: str,
        core: str,
        ranked: Sequence[Match],
        context: ConversationContext,
        today: dt.date,
    ) -> list[Command] | None:
        """What a message that does not answer the open question says instead, if clear."""
        mentioned = self._mentions(text, context, today, answered=False)
        if mentioned:
            return mentioned
        if _LOST.search(said) or self._asks_for_help(core):
            return [Help()]
        if _QUESTION.match(said):
            asked = self._request(ranked, strict=False) or self._about(text, context)
            if asked is not None:
                return self._start(asked, text, context, today)
            return self._when_unsure(text, context, today) or [OutOfScope(text)]
        return None

    def _when_unsure(
        self,
        text: str,
        context: ConversationContext,
        today: dt.date,
    ) -> list[Command] | None:
        """The embeddings matcher's reading where the rules found none (off by default).

        At a pending confirmation only one of its options may be read, never a flow.
        """
        semantic = self.settings.embeddings
        if semantic is None:
            return None
        if context.pending is not None or context.awaiting_confirm_step:
            pending = context.pending
            if pending is None or len(pending.options) < 2 or NEGATION.search(normal(text)):
                return None
            option = semantic_option(semantic, text, pending)
            return None if option is None else [Choose(option)]
        match = semantic_flow(semantic, text, context.flows)
        return None if match is None else self._start(match, text, context, today)

    def _cancelling(
        self, text: str, context: ConversationContext, today: dt.date
    ) -> list[Command] | None:
        """The bot's flows about cancelling something: one starts, several are asked
        about; ``None`` when the bot has none."""
        flows = [f.name for f in _cancelling_flows(context)]
        if len(flows) == 1:
            return self._start(Match(flows[0], 0.0, {}), text, context, today)
        return [Clarify(tuple(flows))] if flows else None

    def _own_flow_over_cancel(
        self, core: str, text: str, context: ConversationContext
    ) -> Match | None:
        """A flow of the bot that a cancelling message asks for, with nothing to cancel.

        Only for more than a cancel phrase ("cancel my booking", not "cancel"), and
        only when no flow runs: while one does, "cancel …" most likely means it.
        """
        if context.active_flow is not None or core in self.settings.cancel:
            return None
        ranked = _ranked(index_for(tuple(context.flows)), core)
        best = ranked[0] if ranked else None
        # The word "cancel" alone matching a phrase does not ask for its flow.
        if (
            best is not None
            and (best.words > 1 or best.captured)
            and best.score >= self.settings.trigger_threshold
        ):
            return best
        # "cancel reservation RC-40317": the one cancelling flow that takes that code.
        cancelling = [
            f for f in _cancelling_flows(context) if _takes_code(f, text, context, by_name=False)
        ]
        return Match(cancelling[0].name, 0.0, {}) if len(cancelling) == 1 else None

    def _question_after(
        self, text: str, context: ConversationContext, *, skip: int
    ) -> list[Command]:
        """A clearly meant request in the message's last clause, a question, after
        ``skip`` clauses that said something else ("before I confirm, where do I drop
        it off?")."""
        clauses = _clauses(text)
        if len(clauses) <= skip or not text.rstrip().endswith("?"):
            return []
        last = _AND.sub("", _LEAD_IN.sub("", clauses[-1])).strip()
        if not _QUESTION.match(last):
            return []
        ranked = index_for(tuple(context.flows)).rank(_asking(last))
        request = self._request(ranked, strict=False)
        if request is None or request.flow == context.active_flow:
            return []
        today = context.today or dt.date.today()
        return self._start(request, text, context, today)

    def _wants_a_change(self, rest: str, context: ConversationContext) -> bool:
        """Whether words after a no (or a complaint) are about one of the action's
        values without giving a new one: "the amount is wrong", "change the date"."""
        if not _CHANGE_WORDS.search(rest):
            return False
        # Any value the action shows, asked for or looked up ("the date is wrong" of a
        # booking found by its reference).
        filled = [
            context.slot_types.get(name) or SlotInfo(name, "any")
            for name, value in context.slots.items()
            if value is not None
        ]
        words = [w for w in rest.split() if w not in _NOT_A_VALUE and w not in _CHANGE_SAID]
        return any(_slot_named(word, filled, context) is not None for word in words)

    def _yes_to_its_verb(self, said: str, context: ConversationContext) -> bool:
        """A yes, then the verb the one pending action is named for (cancel, skip,
        delete…) and nothing else but "it", "anyway", "please"."""
        pending = context.pending
        if pending is None or len(pending.options) != 1 or NEGATION.search(said):
            return False
        verbs = set(pending.options[0].split("_")) & _UNDOING_VERBS
        yes = self._starts(said, self.settings.affirm)
        if not verbs or yes is None:
            return False
        rest = [w for w in said[len(yes) :].split() if w not in _AROUND_A_VERB]
        return bool(rest) and rest[0] in verbs and len(rest) == 1

    def _yes_apart(self, text: str) -> bool:
        """Whether a question comes first and a yes after it: "£0? great, yes cancel it"
        (a value asked about, not given: "40 euros, yes" gives one)."""
        first = _CLAUSES.split(text.strip(), maxsplit=1)
        asked_first = len(first) > 1 and "?" in text[: len(text) - len(first[1])]
        return asked_first and any(
            self._starts(c, self.settings.affirm) for c in _clauses(text)[1:]
        )

    def _ends_with_no(self, text: str) -> bool:
        """Whether a clause after the first, set apart by punctuation, is a bare no:
        "hmm that's a lot. no", "that's more than I expected, no, leave it"."""
        return any(c in self.settings.deny for c in _clauses(text)[1:])

    @staticmethod
    def _said_apart(text: str, phrases: frozenset[str]) -> bool:
        """Whether a clause after the first, set apart by punctuation, is one of
        ``phrases`` (with a "please" or "for now" around it): "it's back on now, forget
        it", "I don't have it with me, forget it, I'll do it later"."""
        return any(
            " ".join(_FILLER.sub(" ", _FOR_NOW.sub(" ", clause)).split()) in phrases
            for clause in _clauses(text)[1:]
        )

    def _opens_apart(self, text: str) -> bool:
        """Whether the first clause, set apart by punctuation, is a way of cancelling
        longer than one word, whatever reason follows: "never mind, I don't have the
        card on me, I'll do it later"."""
        clauses = _clauses(text)
        return len(clauses) > 1 and clauses[0] in self.settings.cancel and clauses[0] not in _ALONE

    def _calls_off_last(self, text: str) -> bool:
        """Whether the last clause, after another, calls the task off in so many words:
        "the sale might fall through, cancel that for now", "it's working again, cancel
        the visit" ("nah, changed my mind" at a question is its no)."""
        clauses = _clauses(text)
        if len(clauses) < 2:
            return False
        last = " ".join(_FILLER.sub(" ", clauses[-1]).split())
        return _OFF_LAST.match(_LATER.sub("", last)) is not None

    def _stops(self, opened: str) -> bool:
        """Whether a message opens with a way of cancelling ("stop, maybe later")."""
        return self._cancels(opened) or self._starts(opened, self.settings.cancel) is not None

    def _starts(self, said: str, phrases: frozenset[str]) -> str | None:
        """The phrase ``said`` starts with (as whole words), the longest one."""
        found = [p for p in phrases if said == p or said.startswith(p + " ")]
        return max(found, key=len) if found else None

    # -- confirmations ------------------------------------------------------------

    def _decision(
        self, text: str, said: str, core: str, context: ConversationContext
    ) -> list[Command] | None:
        pending = context.pending
        if _NONE_OF.match(said):
            return [Deny()]  # "neither of those": none of the options, nor the action
        if _KEEPS.search(said) and _undoing_asked(context) and not _offers_keeping(pending):
            # "no, keep DN-1001", "leave 1002 alone" where the actions cancel, delete or
            # remove: what is to be kept is no pick of an action that undoes it.
            return [Deny()]
        refuses = _REFUSES.search(said) is not None
        # A choice offers its options with labels, one option too (a list of one).
        choice = pending is not None and (len(pending.options) > 1 or bool(pending.labels))
        if choice and _QUESTION.match(said):
            # "do I have to bring a towel for the sauna?" is a question for another
            # flow, not a pick of the option whose label says "sauna".
            aside = self._question_after(text, context, skip=0)
            if aside:
                return aside
        if (
            pending is not None
            and choice
            and not refuses
            and not self._ends_with_no(text)
            and not _JUDGES_PICK.search(said)
        ):
            # Not when the message refuses: "no, don't delete it" picks nothing. What
            # it says "not" to is no pick: "not in the morning, the afternoon one".
            kept = normal(_without_negated(_LEAD_IN.sub("", text.strip().lower())))
            picked = chosen(said, pending) or (
                chosen(kept, pending) if kept and kept != said else None
            )
            if picked is None and not AGAINST.search(said):
                picked = in_window(said, pending)
            if picked is not None:
                return [Choose(picked)]
        no = self._starts(core, self.settings.deny) or self._starts(said, self.settings.deny)
        yes = self._starts(core, self.settings.affirm) or self._starts(said, self.settings.affirm)
        if yes is not None and no is None and _NEGATED_YES.match(said[len(yes) :].strip()):
            return [Deny()]  # "absolutely not", "definitely not, not now"
        if no is not None and (yes is None or len(no) >= len(yes)):
            rest = said[len(no) :].strip() if said.startswith(no) else ""
            if rest and self._only_refusal(rest):
                rest = ""  # "nah, don't", "no thanks": more of the same no
            if (
                rest
                and (no not in _NO_THEN_VALUE or _REFUSAL_SIGNAL.search(rest))
                and not _SAID_IT.search(rest)
            ):
                # "don't order anything today", "no, forget it", "nope, I still have
                # some at home": what follows says what not to do, not a new value.
                rest = ""
            rest = _without_negated(rest)  # "no, not 50 euros": no new value in that
            if rest and context.active_flow is not None:
                # "no, to Bob": a correction of what was asked, not a refusal.
                today = context.today or dt.date.today()
                corrected = self._correction(text, f"no {rest}", context, today, strict=True)
                if corrected is not None:
                    return corrected
                if self._wants_a_change(rest, context):
                    # "no, the amount is wrong": skip it, or change the amount? Ask.
                    return [AskDecision()]
            return [Deny()]
        if yes is not None:
            raw_after = said[len(yes) :].strip() if said.startswith(yes) else ""
            after = _BUT.sub("", raw_after)
            second_thought = _SECOND_THOUGHT.match(after) is not None
            after = _LEAD_IN.sub("", after).strip()  # "sure. actually no"
            if refuses or (
                self._starts(after, self.settings.deny) is not None and not _NO_PROBLEM.match(after)
            ):
                return [Deny()]  # "yeah nah", "okay no thanks", "yes but no", "fine, don't"
            if second_thought and (self._cancels(after) or _STOP_SAID.match(after)):
                # "ok, actually cancel it": a change of mind, nothing runs ("yes cancel
                # it" at "Cancel booking BK-1?" approves the cancelling, below).
                return [CancelFlow()]
            if after and (_CHANGE_AFTER_YES.search(after) or raw_after.startswith("but ")):
                # "yes. change it to 40", "yes, but to Bob": a change, never a yes.
                today = context.today or dt.date.today()
                corrected = self._correction(text, f"no {after}", context, today, strict=True)
                if corrected is not None:
                    return corrected
                if _CHANGE_AFTER_YES.search(after):
                    return [AskDecision()]
            # "yes, and is the vpn down by the way?": a yes, then a question for
            # another flow, asked once this one is done.
            asked = self._question_after(text, context, skip=1)
            return [Affirm(), *asked]
        if _REFUSES.search(said):
            return [Deny()]
        if self._ends_with_no(text):
            return [Deny()]  # "hmm that's a lot. no", "that's the wrong one, no"
        if not NEGATION.search(said) and any(
            len(p.split()) > 1 and f" {p} " in f" {said} " for p in self.settings.affirm
        ):
            return [Affirm()]  # "all correct, go ahead"
        if (
            pending is not None
            and len(pending.options) == 1
            and not NEGATION.search(said)
            and not (_GIVES_A_VALUE.search(said) and not self._yes_apart(text))
            and not _CHANGE_WORDS.search(said)
            and chosen(said, pending)
        ):
            # Naming the one offered action ("execute the transfer") approves it —
            # unless the message says "not" about something ("my windows password,
            # not the vpn"): that is a correction or a no, never a yes; nor when it
            # gives a value or asks a change ("change it to the 1st of march": "1st"
            # is no pick of the first and only option, "change" no name of it).
            return [Affirm()]
        return None

    # -- corrections ----------------------------------------------------------------

    def _correction(
        self,
        text: str,
        said: str,
        context: ConversationContext,
        today: dt.date,
        *,
        strict: bool = False,
    ) -> list[Command] | None:
        """A new value for a filled slot, or ``None``.

        ``strict`` (at a confirmation): a free-text slot takes only what reads as a
        value — a name as written with capitals, a code, or words after "to"/"for"
        that are not the words of a refusal — never "leave it as it is".
        """
        filled = _filled_slots(context)
        if not filled:
            return None
        opened = _LEAD_IN.sub("", said).strip() or said
        # Named: "change the date to friday", "no, the amount is 40", "check-in is on
        # friday" — the slot named, if the value fits it.
        for form in (_CHANGE, _NAMED_IS):
            named = form.match(opened)
            if named is None:
                continue
            target = _slot_named(named.group("what").replace("-", " "), filled, context)
            if target is not None and not _JUDGED.match(named.group("value")):
                # The value as written: an address or a file keeps its dots; what it
                # says "not" to is no part of it ("the account is mgarcia, not amartin").
                value_said = _without_negated(named.group("value")) or named.group("value")
                written = _original(text, value_said)
                value = answer(target, written, today, context.slots.get(target.name))
                if value is not None and (
                    target.kind != "choice" or not strict or _exact(target, value_said)
                ):
                    return [CorrectSlot(target.name, _cased(text, target, value))]
        marker = _CORRECTION.match(said) or _SAID_AS_VALUE.match(opened)
        instead = _INSTEAD.match(said)
        # Read where the comma still is: "not 50, 60" (normalising drops it).
        swap = _NOT_THIS_BUT.match(_LEAD_IN.sub("", text.strip().lower()).strip())
        if marker is None and instead is None and swap is None:
            return None
        if swap is not None:
            rest = normal(swap.group("value"))  # "not 50, 60"
        elif marker is not None and marker.re is _SAID_AS_VALUE:
            # "we are 3", "in the name of Maria Garcia": the value, said as one.
            rest = opened if marker.group("keep") else opened[marker.end() :]
        else:
            rest = instead.group("value") if instead else said[marker.end() :] if marker else ""
            # "it's for Marta Lopez, not Maria": what it says "not" to is no new value.
            rest = _without_negated(rest) or rest
        rest = rest.strip(" -\u2013,")  # "no - it's Milo"
        if rest in self.settings.deny or self._only_refusal(rest) or says_none(rest):
            return None  # "no, I said", "no is what I meant": a refusal, said again
        # "send it to Carol", "make it 40", "it's for three", "to Bob".
        lead = _VALUE_LEAD.match(rest.strip())
        introduced = lead is not None and lead.group("to") is not None
        rest = rest.strip()[lead.end() :] if lead else rest.strip()
        if not rest:
            return None
        expected = context.expected_slot
        if (
            expected is not None
            and marker is not None
            and (
                _WEAK_MARKER.match(lead_said := said[: marker.end()])
                or _SHOULD_BE.search(lead_said)
            )
            and (expected.kind not in ("string", "any") or distinctive(expected))
            and (
                answer(expected, rest, today) is not None
                or answer(expected, said, today) is not None
            )
        ):
            # "oh ok, thursday", "no injuries": the answer to the question, not a change.
            return None
        valued = _LooksLikeValue(text, introduced, strict=strict)
        # "it's Milo, not Miles": the slot that holds what it says not to.
        refused = _NOT_THIS.findall(normal(text))
        holding = [
            s
            for s in filled
            if s.kind in ("string", "any")
            and normal(str(context.slots.get(s.name) or "")) in refused
        ]
        if len(holding) == 1 and valued(free_text(rest)):
            return [CorrectSlot(holding[0].name, _cased(text, holding[0], free_text(rest)))]
        target_value = self._value_for_filled(rest, filled, context, today, valued)
        if target_value is None:
            return None
        slot, value = target_value
        return [CorrectSlot(slot.name, _cased(text, slot, value))]

    def _value_for_filled(
        self,
        rest: str,
        filled: list[SlotInfo],
        context: ConversationContext,
        today: dt.date,
        valued: _LooksLikeValue,
    ) -> tuple[SlotInfo, Any] | None:
        """Which filled slot ``rest`` gives a new value for: the most specific type wins.

        Unless ``rest`` names the slot beside the value ("actually 3 guests"): then
        that slot, if the value fits it. A free-text value must pass ``valued``.
        """
        beside = _named_beside_value(rest, filled, context, today)
        if beside is not None:
            return beside
        # A span a filled slot's own pattern matches ("no, it's BK-9999") is the
        # best evidence of what the new value is for; read where the case still is.
        written = _original(valued.text, rest)
        for slot in filled:
            if slot.pattern is not None and distinctive(slot):
                span = matched_span(slot.pattern, written)
                if span is not None:
                    return slot, span
        # A code replaces a code: "wrong parcel, it's PX4482913DE", "typo, it's
        # PU-20931" — the one code said goes to the slot that holds one.
        codes = set(CODE.findall(written))
        holders = [
            s for s in filled if holds_a_code(s) or _shape(context.slots.get(s.name)) == "code"
        ]
        if len(codes) == 1 and len(holders) == 1 and holders[0].kind in ("string", "any"):
            return holders[0], codes.pop()
        by_kind: dict[str, list[SlotInfo]] = {}
        for slot in filled:
            # A choice among times of day is changed as a time ("I said 9").
            by_kind.setdefault("time" if times_of_day(slot) else slot.kind, []).append(slot)
        # A choice named by its own words comes first: in "the airport one", "one"
        # is not a number.
        said = normal(rest)
        for slot in by_kind.get("choice", []):
            named = choice_of(slot.choices, said, fuzzy=False)
            if named is not None:
                return slot, named
        if valued.strict:
            # At a confirmation a choice is changed only by naming it: a close spelling
            # of "pharmacy" in "I'll ask the pharmacist" is no new pickup.
            by_kind.pop("choice", None)
        numbers = [n for n in find_numbers(rest) if not n.ordinal]
        order = ["choice", "date", "datetime", "time", "email", "integer", "float", "boolean"]
        order += ["string", "any"]
        if find_time(said, loose=False) is not None:
            # "actually 5pm instead": the slot a time fits, not the date nor a count.
            order = ["choice", "time", "datetime", *(k for k in order if k not in _TIMED)]
        elif numbers and numbers[0].currency:
            order = ["float", "integer", *order]
        elif numbers and not names_a_date(rest):
            # "make it 5" is a count or an amount, not the 5th of the month.
            order = ["integer", "float", *(k for k in order if k != "date")]
        for kind in order:
            slots = by_kind.get(kind, [])
            if kind in ("string", "any"):
                # An address holds a number: "it's 21 Station Road, not 12".
                numbered = any(
                    re.search(r"\d", str(context.slots.get(s.name) or "")) for s in slots
                )
                if (numbers and not numbered) or len(rest.split()) > 5 or not slots:
                    continue
                text = free_text(rest)
                if not valued(text):
                    continue
                # A slot with a pattern takes only what it matches: a distinctive
                # one was tried above, one that takes plain words must match here.
                as_written = _original(valued.text, text)
                slots = [
                    s
                    for s in slots
                    if s.pattern is None
                    or (not distinctive(s) and s.pattern.fullmatch(as_written) is not None)
                ]
                if not slots:
                    continue
                # Of several free-text slots, the one whose value looks like the new
                # one: a name replaces a name, a code a code.
                same = [s for s in slots if _shape(context.slots.get(s.name)) == _shape(text)]
                return (same or slots)[0], text
            for slot in slots:
                value = answer(slot, rest, today, context.slots.get(slot.name))
                if value is not None:
                    return slot, value
        return None

    # -- flows --------------------------------------------------------------------

    def _request(self, ranked: Sequence[Match], *, strict: bool, length: int = 0) -> Match | None:
        """The flow the message asks for; ``strict`` while an answer is expected."""
        if not ranked:
            return None
        best = ranked[0]
        threshold = self.settings.strict_threshold if strict else self.settings.trigger_threshold
        if best.score < threshold:
            return None
        if strict:
            margin = self.settings.clarify_margin
            if len(ranked) > 1 and ranked[1].score >= best.score - margin:
                return None
            # One trigger word inside a longer answer ("Balance Partners Ltd") is an
            # answer that happens to contain it.
            if best.words < 2 and length > best.words + 1:
                return None
        return best

    def _by_code(
        self, text: str, ranked: Sequence[Match], context: ConversationContext, today: dt.date
    ) -> list[Command] | None:
        """The flows a code in the message belongs to, when no trigger matched: "any
        news on INC-20388?", or "INC-20417" alone (check it or close it?).

        A code fits a flow that has a slot whose pattern it matches, or a slot that
        holds a code; of several such flows, the one the words lean to clearly, else
        the bot asks which.
        """
        # A pattern that matches says more than a slot's name that suggests a code.
        by_pattern = [f.name for f in context.flows if _takes_code(f, text, context, by_name=False)]
        fits = by_pattern or [f.name for f in context.flows if _takes_code(f, text, context)]
        if not fits and _WANTS.search(normal(text)):
            # "I'd like 1 tiramisu to go": a choice one flow offers, asked for.
            fits = [f.name for f in context.flows if _names_choice(f, text, context)]
        if not fits:
            return None
        about = self._about(text, context, among=fits)  # "my fries were soggy, FD-904412"
        if about is not None:
            return self._start(about, text, context, today)
        scores = {m.flow: m.score for m in ranked if m.flow in fits}
        order = sorted(fits, key=lambda f: -scores.get(f, 0.0))
        first = scores.get(order[0], 0.0)
        second = scores.get(order[1], 0.0) if len(order) > 1 else 0.0
        if len(order) == 1 or (
            first >= _LEANS_TO and first - second >= self.settings.clarify_margin
        ):
            return self._start(Match(order[0], first, {}), text, context, today)
        return [Clarify(tuple(order))]

    def _clarify(self, ranked: Sequence[Match]) -> Clarify | None:
        if len(ranked) < 2:
            return None
        first, second = ranked[0], ranked[1]
        if second.score < self.settings.trigger_threshold:
            return None
        if first.score - second.score >= self.settings.clarify_margin:
            return None
        if first.captured and not second.captured:
            return None  # the phrase with the values in place is the one meant
        if first.words >= second.words + 2:
            return None  # a whole phrase said against one shared word
        close = [m.flow for m in ranked if m.score > first.score - self.settings.clarify_margin]
        return Clarify(tuple(close))

    def _start(
        self, match: Match, text: str, context: ConversationContext, today: dt.date
    ) -> list[Command]:
        flow = _flow(context, match.flow)
        slots: dict[str, Any] = {}
        for name, raw in match.captured.items():
            info = context.slot_types.get(name) or SlotInfo(name, "any")
            written = _original(text, raw)
            if (
                info.kind in ("string", "any")
                and _VAGUE.match(written)
                and (_names_one(info) or _POINTS_ONLY.match(written))
            ):
                # "reserve a boook", "add my brother as a driver": no title or name said
                # ("can you collect a sofa" says what to collect: the value).
                continue
            if NAME_SLOT.search(name) and not_a_name(written):
                continue  # "book Monday at 3pm" gives no pet's name
            value = answer(info, written, today)
            if value is not None:
                slots[name] = value
        # A kind a placeholder already gave cannot be told apart again ("2 packs" is
        # the quantity, not also another number); choices name themselves.
        taken = {
            context.slot_types[n].kind
            for n in slots
            if n in context.slot_types and context.slot_types[n].kind != "choice"
        }
        counts = [
            n
            for n in (flow.slots if flow is not None else ())
            if n in context.slot_types and context.slot_types[n].kind == "integer"
        ]
        infos = _unambiguous(flow, context, skip_kinds=taken) if flow is not None else []
        named = name_slot(flow, context) if flow is not None else None
        if named is not None and named.name not in slots:
            person = a_name_in(text, context)
            if person is not None:
                slots[named.name] = person  # "for my puppy Rolo", "Bella's run out of …"
        for info in infos:
            if info.name not in slots:
                value = mention(info, text, today)
                if value is None and info.kind == "integer" and counts == [info.name]:
                    # The flow counts one thing: "a table for two on friday" — not a
                    # number inside another slot's words ("the projector in room 4").
                    value = lone_count(_outside(normal(text), match.captured.values()))
                    if value is None and info.words & PEOPLE:
                        value = pair_of_people(normal(text))  # "for my husband and me"
                if value is not None and not _claimed(info, value, slots, context):
                    slots[info.name] = value
        return [StartFlow(match.flow, slots)]

    def _name_then_more(
        self, expected: SlotInfo, text: str, context: ConversationContext, today: dt.date
    ) -> list[Command] | None:
        """A name asked for, then other slots' values after a comma: "Carlos Ibáñez, for
        a filling", "Ana Morales, the card is 4539 6712 3345 0981". A name has no comma,
        so the name is the first part; the rest fills what it names."""
        if expected.kind not in ("string", "any") or not (
            NAME_SLOT.search(expected.name) or for_a_person(expected)
        ):
            return None
        head, comma, tail = text.partition(",")
        if not comma or not tail.strip():
            return None
        name = free_text(head)
        mentioned = self._mentions(tail, context, today)
        if not name or not mentioned or not_a_name(name):
            return None
        return [SetSlot(expected.name, name), *mentioned]

    def _mentions(
        self,
        text: str,
        context: ConversationContext,
        today: dt.date,
        *,
        answered: bool = True,
    ) -> list[Command]:
        """Values of the active flow's other open slots that the message also gives.

        While the message ``answered`` the open question, a value of the question's
        own type is that answer, not another slot's.
        """
        flow = _flow(context, context.active_flow)
        if flow is None:
            return []
        expected = context.expected_slot if answered else None
        # Choices name themselves: "8pm, and the terrace" answers the time and gives
        # the seating, though both are choices.
        skip = {expected.kind} if expected is not None and expected.kind != "choice" else set()
        found: dict[str, Any] = {}
        for info in _unambiguous(flow, context, skip_kinds=skip):
            if context.slots.get(info.name) is not None:
                continue
            if expected is not None and info.name == expected.name:
                continue
            value = mention(info, text, today)
            if value is not None and not _claimed(info, value, found, context):
                found[info.name] = value
        return [SetSlot(name, value) for name, value in found.items()]


# -- helpers --------------------------------------------------------------------------


# The polite frame around a request: "could you help me reset my password" asks to
# "reset my password"; its words would only dilute the match with the trigger.
_FRAME = re.compile(
    r"^(?:(?:could|can|would|will) you (?:please )?(?:help me (?:to )?)?"
    r"|(?:please )?help me (?:to )?"
    r"|(?:i|we) (?:need|want|would like|wish|have|was hoping|were hoping|am hoping|are hoping|"
    r"am trying|are trying|am looking|are looking) (?:you )?to "
    r"|(?:can|could|may) we (?:please )?"
    r"|i would love to |is it possible to |how (?:do|can|could) i "
    r"|(?:can|could|may) i (?:please )?)"
)


def _offers_keeping(pending: PendingInfo | None) -> bool:
    """Whether an option is itself about keeping ("keep_file", "Keep it for now")."""
    if pending is None:
        return False
    said = " ".join([*pending.options, *pending.labels.values()]).replace("_", " ").lower()
    return _KEEPS.search(said) is not None


def _undoing_asked(context: ConversationContext) -> bool:
    """Whether an action asked about is itself a cancelling (cancel_booking, skip_visit)."""
    pending = context.pending
    return pending is not None and any(
        set(option.split("_")) & _UNDOING_VERBS for option in pending.options
    )


def _clauses(text: str) -> list[str]:
    """The message's clauses, set apart by its punctuation, each normalised."""
    return [c for c in (normal(part) for part in _CLAUSES.split(text)) if c]


def _asking(core: str) -> str:
    """``core`` without the polite frame around the request, if something is left."""
    return _FRAME.sub("", core, count=1) or core


def _ranked(index: TriggerIndex, core: str) -> list[Match]:
    """The flows by how well ``core`` matches them, with and without its polite frame:
    "could you help me reset my pasword" is about "reset my password", while "i want
    to order {item}" needs its own frame to take the item."""
    asked = _asking(core)
    ranked = index.rank(core)
    if asked == core:
        return ranked
    best = {m.flow: m for m in ranked}
    for match in index.rank(asked):
        current = best.get(match.flow)
        if current is None or (match.score, match.words) > (current.score, current.words):
            best[match.flow] = match
    return sorted(best.values(), key=lambda m: (-m.score, -m.words, m.flow))


def _holding_values(
    ranked: list[Match], text: str, context: ConversationContext, today: dt.date
) -> list[Match]:
    """The matches, less those whose placeholders took only what their slots cannot
    hold: "order FD-904412" is no "order {dish}" when FD-904412 is no dish."""
    kept = []
    for match in ranked:
        typed = [
            (info, raw)
            for name, raw in match.captured.items()
            if (info := context.slot_types.get(name)) is not None
            and info.kind not in ("string", "any")
        ]
        if (
            typed
            and len(typed) == len(match.captured)
            and all(answer(info, _original(text, raw), today) is None for info, raw in typed)
        ):
            continue
        kept.append(match)
    return kept


# A trigger score under this, with no values in place, is a loose match: the words
# the bot uses for each flow may say better which one is meant.
_LOOSE = 85.0
# How well the words of a message with a code must match one of the flows the code
# fits for that flow to be meant rather than asked about.
_LEANS_TO = 50.0


# Words a placeholder may take that name nothing: "a book", "my brother", "it",
# "another driver" (a title or a name as written, "The Hobbit", "Jonas", is a value).
_VAGUE = re.compile(
    r"^(?:(?:a|an|another|some|something|anything|it|this|that|one|my|our|his|her|their|"
    r"the|me|him|them)\b\s*)+(?:[a-z][\w'-]*\s*){0,2}$"
)
# Words that point at a thing without saying it: "my road", "it", "something".
_POINTS_ONLY = re.compile(
    r"^(?:my|our|his|her|their|it|this|that|these|those|something|anything|one|me|him|them)\b",
    re.IGNORECASE,
)


def _names_one(info: SlotInfo) -> bool:
    """Whether the slot holds a name or a title, which "a book" or "my brother" is not."""
    return bool(
        NAME_SLOT.search(info.name)
        or for_a_person(info)
        or re.search(r"title|name|driver|guest|recipient|person|who", info.name)
    )


_CALLS_OFF = re.compile(
    r"\b(?:will not|won't|wont|do not|don't) need (?:the|my|our|this|that) \w+"
    r"|\b(?:can not|cannot|can't|cant|won't|will not|wont) "
    r"(?:make it|come|be able to (?:make it|come))\b"
    r"|\bno longer need\b|\bcall (?:it )?off\b"
)
_CANCEL_WORDS = frozenset({"cancel", "cancelling", "canceling", "cancellation", "annul"})
_WANTS = re.compile(
    r"\b(?:want|wanted|would like|like to|like a|like an|like some|get|need|order|have|book|"
    r"take|give me|looking for)\b"
)


def _cancelling_flows(context: ConversationContext) -> list[FlowInfo]:
    """The bot's flows about cancelling something, by their names and trigger phrases."""
    return [
        f
        for f in context.flows
        if any(w in _CANCEL_WORDS for w in normal(" ".join((f.name, *f.intents))).split())
    ]


def _names_choice(flow: FlowInfo, text: str, context: ConversationContext) -> bool:
    """Whether ``text`` names, as words, a choice of one of ``flow``'s choice slots."""
    said = normal(text)
    for name in flow.slots:
        slot = context.slot_types.get(name)
        if (
            slot is not None
            and slot.kind == "choice"
            and not times_of_day(slot)
            and choice_of(slot.choices, said, fuzzy=False) is not None
        ):
            return True
    return False


def _takes_code(
    flow: FlowInfo, text: str, context: ConversationContext, *, by_name: bool = True
) -> bool:
    """Whether a code in ``text`` is a value for one of ``flow``'s slots: one its
    pattern matches, or (``by_name``) one whose name says it holds a code."""
    for name in flow.slots:
        slot = context.slot_types.get(name)
        if slot is None:
            continue
        if slot.pattern is not None and distinctive(slot):
            if matched_span(slot.pattern, text, whole=False) is not None:
                return True
        elif by_name and holds_a_code(slot) and len(set(CODE.findall(text))) == 1:
            return True
    return False


def _flow(context: ConversationContext, name: str | None) -> FlowInfo | None:
    return next((f for f in context.flows if f.name == name), None)


def _unambiguous(
    flow: FlowInfo, context: ConversationContext, *, skip_kinds: set[str]
) -> list[SlotInfo]:
    """The flow's slots a value can be mentioned for without saying which slot.

    Two date slots (arrival, departure) cannot tell which one "friday" is for, and
    the kind the message already answered is taken.
    """
    infos = [context.slot_types[n] for n in flow.slots if n in context.slot_types]
    kinds = [info.kind for info in infos]
    codes = [info for info in infos if holds_a_code(info)]
    told = [
        info
        for info in infos
        if (
            info.kind not in skip_kinds
            # "2 adults and 2 kids" answers the adults and says the children by their word.
            or (info.kind in ("integer", "float") and _own_unit(info, infos))
        )
        and (
            kinds.count(info.kind) == 1
            or info.kind == "choice"
            # The one slot of the flow that holds a code: a code in the message is it.
            or (len(codes) == 1 and info is codes[0])
            # A pattern says which text is this slot's, whatever else is free text.
            or distinctive(info)
            # Who it is for: a name after "for" ("a laptop for Ben Ali").
            or (for_a_person(info) and sum(map(for_a_person, infos)) == 1)
            # A count with its own unit ("2 hours", "4 of us"): the unit says which.
            or (info.kind in ("integer", "float") and _own_unit(info, infos))
        )
    ]
    # The slots with a pattern first: what one of them matches is not left to a
    # guess from another slot's name (see ``_claimed``).
    return sorted(told, key=lambda info: not distinctive(info))


def _own_unit(info: SlotInfo, infos: Sequence[SlotInfo]) -> bool:
    """Whether a counted slot has unit words no other counted slot of the flow has."""
    others = set().union(
        *(o.words for o in infos if o is not info and o.kind in ("integer", "float"))
    )
    return bool(info.words - others)


def _claimed(
    info: SlotInfo, value: Any, taken: Mapping[str, Any], context: ConversationContext
) -> bool:
    """Whether a slot with a pattern already took ``value``, which ``info`` only guessed."""
    if info.pattern is not None:
        return False
    return any(
        other == value and (s := context.slot_types.get(name)) is not None and s.pattern
        for name, other in taken.items()
    )


def _filled_slots(context: ConversationContext) -> list[SlotInfo]:
    """The slots of the active flow that hold a value, most recently asked first."""
    flow = _flow(context, context.active_flow)
    names = list(flow.slots) if flow is not None else list(context.slots)
    filled = [
        context.slot_types.get(n) or SlotInfo(n, "any")
        for n in names
        if context.slots.get(n) is not None
    ]
    return filled[::-1]


def _named_beside_value(
    rest: str, filled: Sequence[SlotInfo], context: ConversationContext, today: dt.date
) -> tuple[SlotInfo, Any] | None:
    """``"3 guests"``, ``"2 rooms"``: a number and the name of the filled slot it is for."""
    numbers = [n for n in find_numbers(rest) if not n.ordinal]
    if len(numbers) != 1:
        return None
    words = re.sub(r"[\d.,]+", " ", normal(rest)).split()
    words = [w for w in words if w not in _FILLER_WORDS and not find_numbers(w)]
    if not words or len(words) > 3:
        return None
    counted = [s for s in filled if s.kind in ("integer", "float")]
    # The unit its prompt counts in names a slot too: "4 people" is the guests
    # ("How many guests?"), "we are 3" the people of the party.
    said = set(words) | ({"people"} if _WE_ARE.search(normal(rest)) else set())
    by_unit = [s for s in counted if s.words & said]
    slot = by_unit[0] if len(by_unit) == 1 else _slot_named(" ".join(words), filled, context)
    if slot is None or slot.kind not in ("integer", "float"):
        return None
    value = answer(slot, rest, today)
    return None if value is None else (slot, value)


# Ways of giving a value without a correction word: "we are 3" (kept whole: its words
# say which slot), "in the name of Maria Garcia" (the name after them).
_WE_COUNT = r"we are|we will be|there are|there will be"
_SAID_AS_VALUE = re.compile(
    rf"^(?:(?P<keep>{_WE_COUNT})\b"
    r"|(?:in the name of|under the name(?: of)?|the name is|name is)\s+)"
)
_WE_ARE = re.compile(rf"\b(?:{_WE_COUNT}|party of|group of)\b")
_TIMED = frozenset({"time", "datetime"})
_FILLER_WORDS = frozenset({"a", "an", "the", "of", "for", "please", "instead", "actually"})


def _slot_named(
    what: str, filled: Sequence[SlotInfo], context: ConversationContext
) -> SlotInfo | None:
    """The slot "the date", "the amount", "the number of packs" refers to."""
    candidates = list(filled) or list(context.slot_types.values())
    best: tuple[float, SlotInfo | None] = (0.0, None)
    for slot in candidates:
        spoken = slot.name.replace("_", " ")
        score = max(fuzz.token_set_ratio(what, spoken), fuzz.partial_ratio(what, spoken))
        if slot.kind == "date" and re.search(r"\b(date|day|when)\b", what):
            score = max(score, 90)
        if slot.kind in _TIMED and re.search(r"\b(time|hour)\b", what):
            score = max(score, 90)
        if score > best[0]:
            best = (score, slot)
    return best[1] if best[0] >= 75 else None


_IDENTIFIER = re.compile(r"\d|\w[.@/_\-:]\w")


def _outside(said: str, captured: Iterable[str]) -> str:
    """``said`` without the parts placeholders took."""
    for part in captured:
        said = said.replace(part, " ")
    return said


def _exact(slot: SlotInfo, said: str) -> bool:
    """Whether ``said`` names one of the slot's choices as words, not by a close spelling."""
    return choice_of(slot.choices, normal(said), fuzzy=False) is not None


def _without_negated(rest: str) -> str:
    """``rest`` without the values it says "not" to: "not 50 euros" → "", "austria,
    not italy" → "austria", "not 50, 60" → "60", "not thursday i said tuesday" → "i
    said tuesday"."""
    kept = re.sub(
        r"(?:^|[\s,]+)(?:(?:but\s+)?not|instead\s+of|rather\s+than)\s+"
        r"(?:(?!\b(?:i said|i meant|i mean|but|it is|it's|make it|rather|instead)\b)[^,])*",
        " ",
        rest,
    )
    return re.sub(r"\s+", " ", kept).strip(" ,")


class _LooksLikeValue:
    """Whether a free-text candidate reads as a value rather than more words of a no.

    A value is short and holds none of a refusal's words. At a confirmation
    (``strict``) it must also read as one as the user wrote it: a digit, or words
    joined with ``.@/_-`` (a code, a file, an address), or capitals (a name), or
    after "to"/"for" ("no, to bob").
    """

    def __init__(self, text: str, introduced: bool, *, strict: bool) -> None:
        self.text = text
        self.introduced = introduced
        self.strict = strict

    def __call__(self, candidate: str) -> bool:
        said = normal(candidate).split()
        if not said or len(said) > 4 or any(w in _NOT_A_VALUE for w in said):
            return False
        if not self.strict:
            return True  # mid-flow, "actually, maria" is her name in lower case
        written = _original(self.text, normal(candidate))
        if self.introduced or _IDENTIFIER.search(written):
            return True
        return all(w[:1].isupper() for w in written.split() if w[:1].isalpha())


def _shape(value: Any) -> str:
    """Words, a code (letters with digits), or something else."""
    text = str(value or "").replace(" ", "")
    if text.isalpha():
        return "words"
    if text.isalnum():
        return "code"
    return "other"


def _original(text: str, captured: str) -> str:
    """``captured`` (normalised) as the user wrote it, case and all."""
    words = captured.split()
    if not words:
        return captured
    pattern = r"[\W_]*".join(re.escape(w) for w in words)
    found = re.search(pattern, text, flags=re.IGNORECASE)
    return found.group(0) if found else captured


def _cased(text: str, slot: SlotInfo, value: Any) -> Any:
    """A free-text value as the user wrote it (choices and dates keep their form)."""
    if slot.kind in ("string", "any") and isinstance(value, str) and not distinctive(slot):
        return _original(text, value)  # a pattern's span is already as written
    return value
