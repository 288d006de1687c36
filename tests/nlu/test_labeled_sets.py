"""Every example bot ships a labeled set that fits it: real flows, slots, options and values."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from soni.dsl import ChooseStep
from soni.engine import Bot
from soni.nlu import Command, ConversationContext, OutOfScope
from soni.testing import load_labeled_set

from .._handlers import register_again

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BOTS = sorted(p.name for p in EXAMPLES.iterdir() if (p / "actions.py").exists())


def labeled_set_of(bot: str) -> Path:
    return EXAMPLES / bot / "nlu.yaml"


class _Unused:
    async def understand(self, text: str, context: ConversationContext) -> list[Command]:
        return [OutOfScope(text)]


@pytest.fixture(params=BOTS)
async def example(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, Bot]]:
    folder = EXAMPLES / request.param
    register_again(folder / "actions.py")
    bot = await Bot.load(folder, db=":memory:", understanding=_Unused())
    yield request.param, bot
    await bot.aclose()


def test_every_example_bot_has_a_labeled_set() -> None:
    assert BOTS == ["banking", "dentist", "file_assistant", "hotel_booking", "pharmacy"]
    assert [bot for bot in BOTS if not labeled_set_of(bot).is_file()] == []


async def test_the_labeled_set_fits_its_bot(example: tuple[str, Bot]) -> None:
    name, bot = example
    labeled = load_labeled_set(labeled_set_of(name))

    labeled.check(bot)  # raises, naming the case, on anything the bot lacks
    assert len(labeled.cases) >= 60
    assert len({(c.text, repr(c.context)) for c in labeled.cases}) == len(labeled.cases)


async def test_the_labeled_set_covers_what_its_bot_can_hear(example: tuple[str, Bot]) -> None:
    name, bot = example
    config = bot.engine.config
    kinds = {case.expect[0].kind for case in load_labeled_set(labeled_set_of(name)).cases}

    wanted = {"start_flow", "set_slot", "correct_slot", "cancel_flow", "affirm", "deny"}
    wanted |= {"help", "out_of_scope"}
    if any(isinstance(s, ChooseStep) for f in config.flows.values() for s in f.iter_steps()):
        wanted.add("choose")
    if sum(1 for flow in config.flows.values() if flow.trigger.intents) > 1:
        wanted.add("clarify")
    assert wanted <= kinds
