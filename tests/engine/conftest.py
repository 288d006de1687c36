"""Fixtures for running example bots: their handlers, fresh per test."""

from __future__ import annotations

import copy
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from soni.actions import ActionSpec
from soni.engine import Bot, TurnResult

from .._postgres import create_database, drop_database

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


BotFactory = Callable[..., Awaitable[Bot]]
DEPLOYMENT_SECRET = "the SONI_SECRET of the engine tests' deployment"


# Handler modules' mutable globals as they were when first seen, by module name.
_INITIAL: dict[str, dict[str, Any]] = {}


def _remember(module: ModuleType | None) -> None:
    if module is None or module.__name__ in _INITIAL:
        return
    _INITIAL[module.__name__] = {
        name: copy.deepcopy(value)
        for name, value in vars(module).items()
        if not name.startswith("__") and type(value) in (list, dict, set)
    }


def _restore() -> None:
    """Put every remembered module's lists, dicts and sets back as they were first seen."""
    for module_name, values in _INITIAL.items():
        module = sys.modules.get(module_name)
        for name, initial in values.items():
            current = getattr(module, name, None)
            if isinstance(current, list):
                current[:] = copy.deepcopy(initial)
            elif isinstance(current, dict | set):
                current.clear()
                current.update(copy.deepcopy(initial))


@pytest.fixture
async def make_bot(
    handlers: Mapping[str, ActionSpec], tmp_path: Path, backend: str
) -> AsyncIterator[BotFactory]:
    """Load example bots; ``db`` names a database (a path) that bots of the test share.

    On PostgreSQL each distinct ``db`` is a database of its own, created for the test,
    so a test that restarts a bot on "the same file" restarts it on the same database.
    """
    bots: list[Bot] = []
    databases: dict[str, str] = {}
    # What handler modules record (calls made, orders placed) belongs to the test
    # that ran them: the same conversation ids come back in the other backend's case.
    for spec in handlers.values():
        _remember(sys.modules.get(spec.handler.__module__))
    _restore()

    def location(db: str | Path | None) -> str:
        name = str(db or tmp_path / "state.db")
        if backend == "sqlite" or name == ":memory:":
            return name
        if name not in databases:
            databases[name] = create_database(with_schema=True)
        return databases[name]

    async def make(example: str = "banking", db: str | Path | None = None, **options: Any) -> Bot:
        if backend == "postgres":
            # As every deployment of several workers has (a SQLite file keeps its own).
            options.setdefault("secret", DEPLOYMENT_SECRET)
        # Handler modules loaded by the test or by the bot, as they are before the
        # bot's first turn.
        for name in [n for n in sys.modules if n.startswith("soni_user_actions.")]:
            _remember(sys.modules[name])
        imported = set(sys.modules)
        bot = await Bot.load(EXAMPLES / example, db=location(db), **options)
        for name in set(sys.modules) - imported:
            _remember(sys.modules[name])
        bots.append(bot)
        return bot

    try:
        yield make
    finally:
        for bot in bots:
            await bot.aclose()
        _restore()
        for url in databases.values():
            drop_database(url)


async def talk(bot: Bot, conversation: str, *texts: str) -> list[TurnResult]:
    """Send each text in turn; what the bot answered each time."""
    return [await bot.handle(conversation, text) for text in texts]


async def replies(bot: Bot, conversation: str, *texts: str) -> list[list[str]]:
    """Each turn's reply texts, the messages sent as user u1."""
    return [(await bot.handle(conversation, text, user_id="u1")).texts for text in texts]
