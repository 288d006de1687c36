"""The banking example bot: a realistic bot using every step type loads cleanly."""

from __future__ import annotations

from pathlib import Path

from soni.dsl import STEP_TYPES, BotConfig, default_registry, load_bot, validate_bot

BANKING = Path(__file__).parent / "fixtures" / "banking"
HANDLERS = ["get_balance", "execute_transfer", "block_card", "order_replacement", "lookup_iban"]


def load() -> BotConfig:
    return load_bot(BANKING, actions=HANDLERS, validators=default_registry)


def test_it_loads_with_zero_errors() -> None:
    bot = load()

    assert validate_bot(bot, actions=HANDLERS, validators=default_registry) == []
    assert sorted(bot.flows) == [
        "check_balance",
        "lost_card",
        "talk_to_human",
        "transfer_funds",
        "verify_identity",
    ]


def test_it_uses_every_step_type_and_slot_type() -> None:
    bot = load()

    used = {step.type for flow in bot.flows.values() for step in flow.iter_steps()}
    assert used == set(STEP_TYPES)
    kinds = {slot.kind for slot in bot.slots.values()}
    assert kinds == {"string", "integer", "float", "boolean", "date", "email", "choice", "any"}


def test_it_is_split_across_three_files_merged_in_order() -> None:
    bot = load()

    assert sorted(p.name for p in BANKING.iterdir()) == [
        "00-settings.yaml",
        "10-slots.yaml",
        "20-flows.yaml",
    ]
    assert bot.source_map is not None
    assert bot.source_map.locate(("settings",), key=True).path.endswith("00-settings.yaml")
    assert bot.source_map.locate(("slots", "amount")).path.endswith("10-slots.yaml")
    assert bot.source_map.locate(("flows", "transfer_funds")).path.endswith("20-flows.yaml")


def test_settings_and_declarations() -> None:
    bot = load()

    assert bot.settings.persistence.path == ".soni/banking.db"
    assert bot.settings.confirmations.ttl == 120
    assert bot.settings.nlu.model_extra == {"language": "en"}
    assert bot.settings.model_extra == {"logging": {"level": "INFO"}}
    assert bot.actions["execute_transfer"].confirm == "Send {amount} EUR from {account} to {iban}?"
    assert bot.slots["account"].choices == {"checking": ["current", "main"], "savings": []}
    assert bot.slots_for("transfer_funds")["iban_attempts"].kind == "integer"
