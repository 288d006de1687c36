"""A small keyword-based Understanding: the default until the rule-based NLU lands.

It knows yes/no answers, cancelling, help, flows whose trigger phrase the message
contains, and — when the bot just asked for a slot — takes the message as its value.
"""

from __future__ import annotations

import functools
import re

from soni.nlu.commands import (
    Affirm,
    CancelFlow,
    Command,
    Deny,
    Help,
    OutOfScope,
    SetSlot,
    StartFlow,
)
from soni.nlu.protocol import ConversationContext

__all__ = ("KeywordUnderstanding",)

_AFFIRM = {"yes", "y", "yeah", "yep", "sure", "ok", "okay", "go ahead", "do it", "approve",
           "confirm", "correct", "right"}  # fmt: skip
_DENY = {"no", "n", "nope", "don't", "do not", "skip", "not now", "deny"}
_CANCEL = {"cancel", "stop", "never mind", "nevermind", "forget it", "abort"}
_HELP = {"help", "what can you do", "what can you do?"}


def _normal(text: str) -> str:
    return re.sub(r"[\s!.,?]+", " ", text.lower()).strip()


@functools.lru_cache(maxsize=4096)
def _phrase(text: str) -> str:
    """A trigger phrase, normalised once: the same few phrases are read every turn."""
    return _normal(text)


class KeywordUnderstanding:
    """Exact phrases and trigger phrases; anything else is the expected slot's value."""

    async def understand(self, text: str, context: ConversationContext) -> list[Command]:
        said = _normal(text)
        if not said:
            return [OutOfScope(text)]
        if said in _CANCEL:
            return [CancelFlow()]
        if said in _HELP:
            return [Help()]
        if context.pending is not None or context.awaiting_confirm_step:
            if said in _AFFIRM:
                return [Affirm()]
            if said in _DENY:
                return [Deny()]
        expecting = context.expected_slot is not None
        for flow in context.flows:
            for phrase in flow.intents:
                wanted = _phrase(phrase)
                if "{" in phrase or not wanted:
                    continue
                # While a question is open, only the whole phrase starts a flow:
                # "Balance Partners Ltd" is an answer, not a balance check.
                if said == wanted or (not expecting and wanted in said):
                    return [StartFlow(flow.name)]
        if context.expected_slot is not None:
            return [SetSlot(context.expected_slot.name, text.strip())]
        return [OutOfScope(text)]
