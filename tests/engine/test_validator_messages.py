"""A validator's own message is what the user hears when it refuses a value.

docs/bot-format.md ("Validators"): a validator that raises ``ValueError`` says why, and
its message becomes the re-ask text; the slot's ``validation_error_message`` is said
when the validator gives no reason (returns ``False``, or raises with no message).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from soni import Bot

from .._bots import written_bot

BOT = """
slots:
  country:
    type: string
    prompt: "Where to?"
    validator: eu_country
    validation_error_message: "That is not a country we know."
  weight:
    type: float
    prompt: "How heavy, in kg?"
    validator: light_enough
    validation_error_message: "Please give a weight in kg."
flows:
  ship:
    trigger: {intents: ["ship a parcel"]}
    steps:
      - {step: where, type: collect, slot: country}
      - {step: heavy, type: collect, slot: weight}
      - {step: done, type: say, message: "Shipping {weight} kg to {country}."}
"""

ACTIONS = """
from soni.dsl import validator

@validator("eu_country")
def eu_country(value: str) -> bool:
    if value.lower() in ("usa", "canada"):
        raise ValueError(f"We only ship within the EU, not to {value}.")
    if value.lower() == "atlantis":
        raise ValueError("")
    return value.lower() in ("spain", "france")

@validator("light_enough")
def light_enough(value: float) -> bool:
    return value <= 30
"""


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Bot]:
    async with written_bot(tmp_path, BOT, ACTIONS) as loaded:
        yield loaded


async def test_the_validators_reason_is_said(bot: Bot) -> None:
    await bot.handle("c1", "ship a parcel")
    refused = await bot.handle("c1", "USA")
    assert refused.texts[0] == "We only ship within the EU, not to USA."
    assert refused.texts[-1] == "Where to?"


async def test_without_a_reason_the_slots_message_is_said(bot: Bot) -> None:
    await bot.handle("c2", "ship a parcel")
    assert (await bot.handle("c2", "Atlantis")).texts[0] == "That is not a country we know."
    assert (await bot.handle("c2", "Narnia")).texts[0] == "That is not a country we know."
    await bot.handle("c2", "Spain")
    assert (await bot.handle("c2", "40")).texts[0] == "Please give a weight in kg."
    assert (await bot.handle("c2", "12")).texts == ["Shipping 12 kg to Spain."]
