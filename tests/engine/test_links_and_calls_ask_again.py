"""A link or a call starts its target flow anew.

A linked or called flow asks again what an earlier run of it collected, a link keeps
the answers of a flow still on the stack, and a call's inputs answer the questions
of the flow it calls.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from soni.engine import Bot

from .conftest import BotFactory, talk

BOTS = Path(__file__).resolve().parent / "bots"


async def leftovers(make_bot: BotFactory, **options: Any) -> Bot:
    return await make_bot(str(BOTS / "leftovers"), **options)


async def test_a_linked_flow_asks_again_what_an_earlier_run_of_it_collected(
    make_bot: BotFactory,
) -> None:
    bot = await leftovers(make_bot)
    await talk(bot, "link-1", "/pick", "red")

    linked = await bot.handle("link-1", "/relink")

    assert (linked.texts, linked.status) == (["Which colour?"], "awaiting_input")
    assert (await bot.handle("link-1", "blue")).texts == ["picked blue"]


async def test_a_link_keeps_the_answers_of_a_flow_still_on_the_stack(
    make_bot: BotFactory,
) -> None:
    bot = await leftovers(make_bot)
    await talk(bot, "link-2", "/palette", "red")  # palette now asks for a note

    digression = await bot.handle("link-2", "/relink")

    assert digression.texts == ["picked red", "Any note?"]
    assert (await bot.handle("link-2", "matte")).texts == ["palette red (matte)"]


async def test_a_called_flow_asks_its_questions_anew(make_bot: BotFactory) -> None:
    bot = await leftovers(make_bot)
    first = await talk(bot, "call-1", "/painter", "red")

    again = await bot.handle("call-1", "/painter")

    assert first[-1].texts == ["picked red", "painted red"]
    assert (again.texts, again.status) == (["Which colour?"], "awaiting_input")


async def test_a_call_input_answers_the_question_even_from_a_slot_the_callee_asks(
    make_bot: BotFactory,
) -> None:
    bot = await leftovers(make_bot)

    result = await bot.handle("call-2", "/repaint")

    assert result.texts == ["picked green", "repainted"]
