"""Fixtures for running example bots: their handlers, fresh per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from soni import ActionRegistry, load_actions
from soni.actions import ActionSpec
from soni.engine.runtime import Bot, TurnResult

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="session")
def example_handlers() -> Mapping[str, ActionSpec]:
    """Every example's handlers, registered once by (re)running their modules."""
    previous = ActionRegistry._replace_global({})
    try:
        for folder in sorted(p for p in EXAMPLES.iterdir() if (p / "actions.py").exists()):
            for module in load_actions(folder / "actions.py"):
                # Another test may have imported it already: run the decorators again.
                assert module.__spec__ is not None and module.__spec__.loader is not None
                module.__spec__.loader.exec_module(module)
        return dict(ActionRegistry._global)
    finally:
        ActionRegistry._replace_global(previous)


@pytest.fixture
def handlers(example_handlers: Mapping[str, ActionSpec]) -> Mapping[str, ActionSpec]:
    # The autouse isolation fixture emptied the global map; put the examples back.
    ActionRegistry._replace_global(example_handlers)
    return example_handlers


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
