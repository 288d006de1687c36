"""An understanding that hands a message on untouched, for tests of what the engine does."""

from __future__ import annotations

from soni.nlu import Command, ConversationContext, OutOfScope, SetSlot

__all__ = ("AnswersVerbatim",)


class AnswersVerbatim:
    """Takes a message, whole, as the answer to the open question.

    What reaches an understanding while a question waits may be anything (a path, a
    number too long to read); this one passes it on as given, as any understanding
    may, so a test sees what the engine makes of it. Slash commands and structured
    messages never reach it: the engine reads those itself.
    """

    async def understand(self, text: str, context: ConversationContext) -> list[Command]:
        if context.expected_slot is not None and text.strip():
            return [SetSlot(context.expected_slot.name, text.strip())]
        return [OutOfScope(text)]
