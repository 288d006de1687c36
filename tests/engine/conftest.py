"""Fixtures for running example bots: their handlers, fresh per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from soni.actions import ActionSpec
from soni.engine.runtime import Bot, TurnResult

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


BotFactory = Callable[..., Awaitable[Bot]]


@pytest.fixture
async def make_bot(handlers: Mapping[str, ActionSpec], tmp_path: Path) -> AsyncIterator[BotFactory]:
    bots: list[Bot] = []

    async def make(example: str = "banking", db: str | Path | None = None, **options: Any) -> Bot:
        bot = await Bot.load(EXAMPLES / example, db=str(db or tmp_path / "state.db"), **options)
        bots.append(bot)
        return bot

    yield make
    for bot in bots:
        await bot.aclose()


async def talk(bot: Bot, conversation: str, *texts: str) -> list[TurnResult]:
    """Send each text in turn; what the bot answered each time."""
    return [await bot.handle(conversation, text) for text in texts]


async def replies(bot: Bot, conversation: str, *texts: str) -> list[list[str]]:
    """Each turn's reply texts, the messages sent as user u1."""
    return [(await bot.handle(conversation, text, user_id="u1")).texts for text in texts]
