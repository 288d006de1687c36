"""A message over the length limit is refused before understanding sees it, whether
plain text or structured, and the turn changes nothing; one at the limit is read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from soni.engine import Bot
from soni.nlu import Command, ConversationContext

from ._verbatim import AnswersVerbatim
from .conftest import BotFactory

BOTS = Path(__file__).resolve().parent / "bots"


async def leftovers(make_bot: BotFactory, **options: Any) -> Bot:
    return await make_bot(str(BOTS / "leftovers"), **options)


class Recording:
    """An understanding that takes answers verbatim, noting the length of every text it is given."""

    def __init__(self) -> None:
        self.lengths: list[int] = []
        self._inner = AnswersVerbatim()

    async def understand(self, text: str, context: ConversationContext) -> list[Command]:
        self.lengths.append(len(text))
        return await self._inner.understand(text, context)


async def test_a_message_over_the_limit_is_refused_before_understanding(
    make_bot: BotFactory,
) -> None:
    from soni.nlu import MAX_MESSAGE_CHARS

    recording = Recording()
    bot = await leftovers(make_bot, understanding=recording)
    await bot.handle("long-1", "/palette")
    before = await bot.state("long-1")

    result = await bot.handle("long-1", "x" * (MAX_MESSAGE_CHARS + 1))
    structured = await bot.handle("long-1", "/set note=" + "x" * MAX_MESSAGE_CHARS)

    expected = f"Sorry, that message is too long: the limit is {MAX_MESSAGE_CHARS:,} characters."
    assert result.texts == structured.texts == [expected]
    assert result.replies[0].kind == "error"
    assert recording.lengths == []
    assert await bot.state("long-1") == before  # nothing reached the checkpoint
    at_limit = await bot.handle("long-1", "y" * MAX_MESSAGE_CHARS)
    assert at_limit.texts == ["Any note?"]
    assert recording.lengths == [MAX_MESSAGE_CHARS]
