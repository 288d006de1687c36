"""soni 1.0 handler modules (`soni.validation.registry` and friends) load unchanged."""

from __future__ import annotations

import textwrap
from pathlib import Path

from soni import Bot
from soni.validation.registry import ValidatorRegistry

HANDLERS = """
from soni.actions.registry import ActionRegistry
from soni.validation.registry import ValidatorRegistry

RUNS = []


@ValidatorRegistry.register("pin_code")
def validate_pin(value) -> bool:
    return str(value).isdigit() and len(str(value)) == 4


@ActionRegistry.register("unlock_card")
async def unlock_card(pin: str) -> dict:
    RUNS.append(pin)
    return {"card_status": "unlocked"}
"""

BOT = """
version: "1.0"
slots:
  pin: {type: string, validator: pin_code, validation_error_message: "Four digits, please."}
  card_status: {type: string}
flows:
  unlock:
    process:
      - step: ask_pin
        type: collect
        slot: pin
        prompt: "Your PIN?"
      - step: unlock
        type: action
        call: unlock_card
        map_outputs: {card_status: card_status}
      - step: done
        type: say
        message: "Card {card_status}."
        jump_to: __end_flow__
"""


async def test_a_1_0_handler_module_registers_its_validator_and_action(tmp_path: Path) -> None:
    (tmp_path / "handlers.py").write_text(HANDLERS)
    (tmp_path / "soni.yaml").write_text(textwrap.dedent(BOT))

    bot = await Bot.load(tmp_path, db=":memory:")
    try:
        assert ValidatorRegistry.is_registered("pin_code")
        assert "pin_code" in ValidatorRegistry.list_validators()
        asked = await bot.handle("c", "/unlock")
        refused = await bot.handle("c", "12")
        done = await bot.handle("c", "1234")
    finally:
        await bot.aclose()

    assert asked.texts == ["Your PIN?"]
    assert refused.texts == ["Four digits, please.", "Your PIN?"]
    assert done.texts == ["Card unlocked."]
