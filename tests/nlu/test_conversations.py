"""Whole conversations in plain words, with the offline understanding behind the bot."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from soni import Bot, load_actions

from ..engine.conftest import EXAMPLES


@pytest.fixture
async def pharmacy(handlers: object) -> AsyncIterator[Bot]:
    bot = await Bot.load(EXAMPLES / "pharmacy", db=":memory:")
    try:
        yield bot
    finally:
        await bot.aclose()


def placed(conversation: str) -> list[dict[str, object]]:
    shop = load_actions(EXAMPLES / "pharmacy" / "actions.py")[0]
    return [o for o in shop.PLACED if o["conversation"] == conversation]


async def say(bot: Bot, conversation: str, text: str) -> list[str]:
    return (await bot.handle(conversation, text, user_id="u1")).texts


async def test_a_refill_in_plain_words_with_a_correction(pharmacy: Bot) -> None:
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    c = "plain-1"

    assert await say(pharmacy, c, "I need more advil") == ["How many packs?"]
    assert await say(pharmacy, c, "2 packs please") == [
        "Where do you want it: at the pharmacy, home delivery or the airport kiosk?"
    ]
    assert await say(pharmacy, c, "the airport one") == ["For which day?"]
    assert await say(pharmacy, c, "tomorrow") == [
        f"Order 2 packs of ibuprofen for airport kiosk on {tomorrow}?"
    ]
    # A correction while the question waits: asked again with the new value.
    assert await say(pharmacy, c, "actually make it 5") == [
        f"Order 5 packs of ibuprofen for airport kiosk on {tomorrow}?"
    ]
    done = await say(pharmacy, c, "yes, go ahead")

    assert done[0].startswith(f"Ordered! 5 packs of ibuprofen, airport kiosk, {tomorrow}.")
    assert [o["quantity"] for o in placed(c)] == [5]


async def test_never_mind_cancels_and_nonsense_gets_the_fallback_and_the_question_again(
    pharmacy: Bot,
) -> None:
    c = "plain-2"
    assert await say(pharmacy, c, "refill my prescription please") == [
        "Which medication do you need?"
    ]
    # An answer that names no medication: the slot's message, and the question again.
    assert await say(pharmacy, c, "asdf qwerty") == [
        "expected one of ibuprofen, paracetamol, cetirizine, omeprazole, got 'asdf qwerty'",
        "Which medication do you need?",
    ]
    assert await say(pharmacy, c, "never mind") == ["OK, I've cancelled refill a prescription."]
    assert await say(pharmacy, c, "zzz") == ["Sorry, I didn't understand that."]


async def test_nonsense_while_a_confirmation_waits_keeps_it(pharmacy: Bot) -> None:
    c = "plain-3"
    await say(pharmacy, c, "order 2 packs of tylenol")
    await say(pharmacy, c, "in store")
    asked = await pharmacy.handle(c, "next friday")
    again = await pharmacy.handle(c, "blorp")

    assert again.texts[0] == "Sorry, I didn't understand that."
    assert again.texts[1:] == asked.texts
    assert again.pending[0].token == asked.pending[0].token
    nope = await say(pharmacy, c, "no thanks")
    assert nope[-1] == "OK, nothing was ordered."
    assert placed(c) == []
