"""A bot whose bot.yaml turns the matcher on: a paraphrase starts its flow, a reworded
option is chosen, a turn at a time."""

from __future__ import annotations

from pathlib import Path

from soni import Bot

from ..._handlers import register_again

BOT = Path(__file__).parent / "bot"


async def test_the_setting_in_bot_yaml_turns_the_matcher_on(model: Path) -> None:
    register_again(BOT / "actions.py")
    bot = await Bot.load(BOT, db=":memory:")
    try:
        hours = await bot.handle("c-1", "is the coffee place still serving this afternoon?")
        chef = await bot.handle("c-2", "who is the chef?")
        await bot.handle("c-3", "I want a cake")
        await bot.handle("c-3", "lemon")
        paid = await bot.handle("c-3", "I'll settle the bill when I come to collect it")
    finally:
        await bot.aclose()

    assert hours.texts == ["We are open every day from 8:00 to 18:00."]
    assert chef.texts == ["Sorry, I didn't understand that."]
    assert paid.texts == ["Your lemon cake is ordered."]
