"""A question asked beside a decision at a confirmation.

"yes, and when are you open?" approves and answers the question; "before I confirm,
when are you open?" answers it and keeps the question about the action open. Nothing
runs that was not approved.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from soni import Bot

from .._bots import written_bot

BOT = """
slots:
  amount: {type: float, prompt: "How much?"}
actions:
  pay_bill:
    inputs: [amount]
    confirm: "Pay {amount} euros?"
flows:
  pay:
    trigger: {intents: ["pay my bill"]}
    steps:
      - {step: ask, type: collect, slot: amount}
      - {step: run, type: action, call: pay_bill}
      - {step: done, type: say, message: "Paid."}
  hours:
    trigger: {intents: ["when are you open", "opening hours"]}
    steps:
      - {step: say, type: end, message: "We are open 9 to 5."}
"""

ACTIONS = """
from soni import ActionRegistry

PAID = []

@ActionRegistry.register("pay_bill")
def pay_bill(amount: float) -> dict:
    PAID.append(amount)
    return {}
"""


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Bot]:
    async with written_bot(tmp_path, BOT, ACTIONS) as loaded:
        yield loaded


async def at_the_confirmation(bot: Bot, conversation: str) -> None:
    await bot.handle(conversation, "pay my bill")
    asked = await bot.handle(conversation, "40")
    assert asked.texts[-1] == "Pay 40 euros?"


async def test_a_yes_and_a_question_approves_and_answers(bot: Bot) -> None:
    await at_the_confirmation(bot, "c1")
    said = await bot.handle("c1", "yes, and when are you open by the way?")
    assert "Paid." in said.texts
    assert "We are open 9 to 5." in said.texts


async def test_a_question_before_deciding_leaves_the_action_waiting(bot: Bot) -> None:
    await at_the_confirmation(bot, "c2")
    said = await bot.handle("c2", "before I confirm, when are you open?")
    assert "We are open 9 to 5." in said.texts
    assert "Paid." not in said.texts
    decided = await bot.handle("c2", "yes")
    assert "Paid." in decided.texts


async def test_unsure_between_skip_and_change_the_bot_asks_and_waits(bot: Bot) -> None:
    await at_the_confirmation(bot, "c3")
    asked = await bot.handle("c3", "no, the amount is wrong")
    assert asked.texts[0].startswith("Should I skip this, or change something?")
    assert "Paid." not in asked.texts
    changed = await bot.handle("c3", "the amount is 30")
    assert changed.texts[-1] == "Pay 30 euros?"
    skipped = await bot.handle("c3", "skip")
    assert "Paid." not in skipped.texts
