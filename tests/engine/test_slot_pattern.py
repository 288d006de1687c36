"""A value a slot's ``pattern`` does not match is refused like a validator refuses it."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from soni import ActionRegistry
from soni.engine import Bot

BOT = r"""
slots:
  booking_ref:
    pattern: "BK-\\d{4}"
    prompt: "What's your booking reference?"
    validation_error_message: "A booking reference looks like BK-1234."
  order_number:
    pattern: "(?i)RX-\\d+"
    prompt: "Your order number?"
flows:
  cancel_booking:
    description: "Cancel a booking"
    trigger:
      intents: ["cancel my booking", "cancel booking {booking_ref}"]
    steps:
      - step: ask_ref
        type: collect
        slot: booking_ref
      - step: cancel
        type: action
        call: cancel_it
        confirm: "Cancel booking {booking_ref}?"
      - step: done
        type: say
        message: "Booking {booking_ref} is cancelled."
  track_order:
    description: "Track an order"
    trigger:
      intents: ["track my order"]
    steps:
      - step: ask_number
        type: collect
        slot: order_number
        validation_error_message: "Order numbers start with RX-."
      - step: done
        type: say
        message: "Order {order_number} is on its way."
"""

ASK = "What's your booking reference?"
REFUSED = "A booking reference looks like BK-1234."


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[tuple[Bot, list[str]]]:
    (tmp_path / "bot.yaml").write_text(textwrap.dedent(BOT), encoding="utf-8")
    cancelled: list[str] = []
    registry = ActionRegistry()
    registry.register_local("cancel_it", lambda booking_ref: cancelled.append(booking_ref) or {})
    loaded = await Bot.load(tmp_path, db=":memory:", registry=registry)
    try:
        yield loaded, cancelled
    finally:
        await loaded.aclose()


async def say(bot: Bot, conversation: str, text: str) -> list[str]:
    return (await bot.handle(conversation, text, user_id="u1")).texts


async def test_a_value_the_pattern_refuses_is_asked_again_with_the_slots_message(
    bot: tuple[Bot, list[str]],
) -> None:
    b, cancelled = bot
    assert await say(b, "p1", "cancel my booking") == [ASK]

    assert await say(b, "p1", "BK-12345") == [REFUSED, ASK]
    # Case counts unless the pattern says (?i).
    assert await say(b, "p1", "bk-1234") == [REFUSED, ASK]
    assert await say(b, "p1", "BK-1234") == ["Cancel booking BK-1234?"]
    assert await say(b, "p1", "yes") == ["Booking BK-1234 is cancelled."]
    assert cancelled == ["BK-1234"]


async def test_a_value_set_directly_is_checked_against_the_pattern_too(
    bot: tuple[Bot, list[str]],
) -> None:
    b, cancelled = bot
    assert await say(b, "p2", '/cancel_booking{"booking_ref": "BK-99"}') == [REFUSED, ASK]
    assert await say(b, "p2", "/set booking_ref=BK-4321") == ["Cancel booking BK-4321?"]
    assert cancelled == []


async def test_the_collect_steps_message_wins_and_ignore_case_is_the_patterns_choice(
    bot: tuple[Bot, list[str]],
) -> None:
    b, _ = bot
    assert await say(b, "p3", "track my order") == ["Your order number?"]
    assert await say(b, "p3", "RX-") == ["Order numbers start with RX-.", "Your order number?"]
    assert await say(b, "p3", "rx-1001") == ["Order rx-1001 is on its way."]


async def test_check_slot_refuses_with_a_default_message_when_the_slot_has_none(
    bot: tuple[Bot, list[str]],
) -> None:
    b, _ = bot
    engine = b.engine
    refused = await engine.check_slot("order_number", "RX-x1", {})
    accepted = await engine.check_slot("order_number", "  Rx-7 ", {})

    assert (refused.ok, refused.message) == (False, "That is not a valid order number.")
    assert (accepted.ok, accepted.value) == (True, "Rx-7")
