"""The words of the rule-based understanding, and the settings a bot may tune them with."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from soni.nlu._setting_fields import NluSettingsModel, number
from soni.nlu._text import normal
from soni.nlu.embeddings._settings import EmbeddingSettings

__all__ = ("RulesSettings",)

AFFIRM = (
    "yes", "y", "yeah", "yea", "yep", "yup", "sure", "ok", "okay", "k", "go ahead",
    "do it", "approve", "approved", "confirm", "confirmed", "correct", "right",
    "absolutely", "of course", "please do", "go for it", "sounds good", "that's right",
    "yes please", "alright", "fine", "affirmative", "proceed", "sure thing", "why not",
    "let's do it", "perfect", "great", "definitely", "looks good", "all good",
    "all correct", "looks right", "sounds right", "that works", "works for me",
    "good to go", "yes go ahead", "that's correct", "that is correct", "that is right",
    "go on", "go on then", "ya", "yah", "yass", "yess", "aye", "exactly", "spot on",
    "certainly", "indeed", "ok then", "okay then", "yes that's it", "that's it",
    "lovely", "brilliant", "excellent", "awesome", "cool", "nice", "great stuff",
)  # fmt: skip
DENY = (
    "no", "n", "nope", "nah", "don't", "do not", "dont", "skip", "not now", "deny",
    "denied", "no thanks", "no thank you", "not really", "negative", "reject",
    "decline", "no way", "not yet", "wrong", "leave it", "hold off", "not right now",
    "not at the moment", "maybe later", "later", "not today", "not this time",
    "keep it", "nothing", "do nothing", "leave it alone", "none",
)  # fmt: skip
CANCEL = (
    "cancel", "stop", "never mind", "nevermind", "forget it", "abort", "quit",
    "cancel that", "cancel it", "stop it", "forget about it", "drop it",
    "i changed my mind", "changed my mind", "exit", "cancel please", "please cancel",
    "stop please", "cancel this", "forget that", "forget the whole thing",
    "forget everything", "cancel everything", "cancel all of it",
)  # fmt: skip
HELP = (
    "help", "what can you do", "what can i do", "how does this work", "help me",
    "what are my options", "options", "menu", "what do you do", "i need help",
    "can you help", "what can you help with", "how can you help", "what can you help me with",
    "what can i ask", "what can i ask you", "what are the options", "what do you offer",
    "what can i use you for", "what are you for", "what can this bot do",
    "what is this bot for", "what is this for", "what is this", "how do i use this",
    "how do i use this thing", "how does this thing work", "how do i use you",
    "what are you asking", "what are you asking me", "what do you want from me",
    "what am i supposed to say", "halp", "how do i do this",
)  # fmt: skip


def _phrases(defaults: Sequence[str]) -> Callable[[Any], frozenset[str]]:
    """A reader of a bot's phrases: the defaults plus the given ones, normalised."""

    def read(extra: Any) -> frozenset[str]:
        if extra is None:
            extra = ()
        elif isinstance(extra, str) or not isinstance(extra, Sequence):
            raise ValueError(f"must be a list of phrases, got {extra!r}")
        return frozenset(normal(str(p)) for p in (*defaults, *extra))

    return read


def _score(value: float) -> float:
    if not 0 <= value <= 100:
        raise ValueError(f"must be between 0 and 100, got {value}")
    return value


Score = Annotated[float, BeforeValidator(number), AfterValidator(_score)]
"""A fuzzy-match score, 0-100 (or its text)."""


def _phrase_field(defaults: Sequence[str]) -> Any:
    return Field(default_factory=lambda: _phrases(defaults)(None))


class RulesSettings(NluSettingsModel):
    """How the rule-based understanding reads messages; from ``settings.nlu``.

    Attributes:
        trigger_threshold: The fuzzy score (0-100) a message needs against a flow's
            trigger phrase to start it.
        strict_threshold: The score needed to start a flow while the bot waits for
            an answer (a digression): higher, so answers are not read as requests.
        clarify_margin: Two flows whose scores differ by less than this → ask which.
        choice_threshold: The score a misspelt choice needs ("ibuprofin").
        affirm, deny, cancel, help: Phrases, the defaults plus the bot's own.
        embeddings: The semantic matcher the rules ask where they are unsure, or
            ``None`` (the default: off). See ``soni.nlu.embeddings``.
    """

    trigger_threshold: Score = 80.0
    strict_threshold: Score = 92.0
    clarify_margin: Score = 4.0
    choice_threshold: Score = 85.0
    affirm: Annotated[frozenset[str], BeforeValidator(_phrases(AFFIRM))] = _phrase_field(AFFIRM)
    deny: Annotated[frozenset[str], BeforeValidator(_phrases(DENY))] = _phrase_field(DENY)
    cancel: Annotated[frozenset[str], BeforeValidator(_phrases(CANCEL))] = _phrase_field(CANCEL)
    help: Annotated[frozenset[str], BeforeValidator(_phrases(HELP))] = _phrase_field(HELP)
    embeddings: EmbeddingSettings | None = None

    @classmethod
    def from_settings(cls, nlu: Mapping[str, Any]) -> RulesSettings:
        """Read ``settings.nlu`` (its extra keys); unknown keys are left to other engines.

        Raises:
            NluSettingsError: a threshold that is not a number in 0-100, phrases that
                are not a list, the embeddings matcher's settings are wrong, or it is
                asked for without its extra installed.
        """
        own = {key: value for key, value in nlu.items() if key != "embeddings"}
        return cls.read({**own, "embeddings": EmbeddingSettings.from_settings(nlu)})
