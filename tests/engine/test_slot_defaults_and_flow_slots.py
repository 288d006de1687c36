"""A slot's default, and a flow's own slots.

A slot with a default starts from it, a collect that finds it there does not ask, and
a flow started afresh gets its defaults back. A flow's own slot shadows a top-level
slot of the same name; a flow without one uses the top-level slot.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from soni.engine import Bot

from .conftest import BotFactory, talk


async def inline_bot(make_bot: BotFactory, folder: Path, text: str, **options: Any) -> Bot:
    folder.mkdir()
    (folder / "bot.yaml").write_text(text)
    return await make_bot(str(folder), **options)


# -- a slot's default ---------------------------------------------------------------


DEFAULTS = (
    "slots:\n"
    "  tries: {type: integer, default: 0}\n"
    "  amount: {type: float, prompt: 'Amount?'}\n"
    "  currency: {type: choice, choices: [EUR, USD], default: EUR, prompt: 'Currency?'}\n"
    "flows:\n"
    "  count:\n"
    "    steps:\n"
    "      - {step: add, type: set, slots: {tries: '{tries} + 1'}}\n"
    "      - {step: tell, type: say, message: 'tries={tries}'}\n"
    "  pay:\n"
    "    slots:\n"
    "      - {name: note, type: string, default: none, prompt: 'Note?'}\n"
    "    steps:\n"
    "      - {step: ask_amount, type: collect, slot: amount}\n"
    "      - {step: ask_currency, type: collect, slot: currency}\n"
    "      - {step: ask_note, type: collect, slot: note}\n"
    "      - {step: tell, type: say, message: 'pay {amount} {currency} ({note})'}\n"
)


async def test_a_counter_with_a_default_starts_from_it(
    make_bot: BotFactory, tmp_path: Path
) -> None:
    bot = await inline_bot(make_bot, tmp_path / "defaults", DEFAULTS)

    first, second = await talk(bot, "count", "/count", "/count")

    assert first.texts == ["tries=1"]
    assert second.texts == ["tries=2"]


async def test_a_collect_whose_slot_holds_its_default_does_not_ask(
    make_bot: BotFactory, tmp_path: Path
) -> None:
    bot = await inline_bot(make_bot, tmp_path / "defaults", DEFAULTS)

    started, paid = await talk(bot, "pay", "/pay", "/set amount=5")

    assert started.slots == {"tries": 0, "currency": "EUR", "note": "none"}
    assert started.texts == ["Amount?"]
    assert paid.texts == ["pay 5 EUR (none)"]


async def test_a_flow_started_afresh_gets_its_defaults_back(
    make_bot: BotFactory, tmp_path: Path
) -> None:
    bot = await inline_bot(make_bot, tmp_path / "defaults", DEFAULTS)
    changed = await talk(bot, "again", '/pay{"currency": "USD", "note": "rent"}', "/set amount=5")
    assert changed[-1].texts == ["pay 5 USD (rent)"]

    again = await talk(bot, "again", "/pay", "/set amount=7")

    assert [r.texts for r in again] == [["Amount?"], ["pay 7 EUR (none)"]]


# -- a flow's own slot shadows a top-level one --------------------------------------


SHADOW = (
    "slots:\n"
    "  code: {type: integer, prompt: 'Top-level code?'}\n"
    "flows:\n"
    "  a:\n"
    "    slots:\n"
    '      - {name: code, type: string, prompt: "Flow a\'s code?"}\n'
    "    steps:\n"
    "      - {step: ask, type: collect, slot: code}\n"
    "      - {step: tell, type: say, message: 'a got {code}'}\n"
    "  b:\n"
    "    steps:\n"
    "      - {step: ask, type: collect, slot: code}\n"
    "      - {step: tell, type: say, message: 'b got {code}'}\n"
)


async def test_a_flow_slot_shadows_the_top_level_slot_of_the_same_name(
    make_bot: BotFactory, tmp_path: Path
) -> None:
    bot = await inline_bot(make_bot, tmp_path / "shadow", SHADOW)

    asked, told = await talk(bot, "shadow-a", "/a", "ABC")

    assert asked.texts == ["Flow a's code?"]
    assert told.texts == ["a got ABC"]
    assert told.slots["code"] == "ABC"


async def test_a_flow_without_its_own_slot_uses_the_top_level_one(
    make_bot: BotFactory, tmp_path: Path
) -> None:
    bot = await inline_bot(make_bot, tmp_path / "shadow", SHADOW)

    asked, refused, told = await talk(bot, "shadow-b", "/b", "/set code=ABC", "/set code=42")

    assert asked.texts == ["Top-level code?"]
    assert refused.texts == ["expected a whole number, got 'ABC'", "Top-level code?"]
    assert told.texts == ["b got 42"]


async def test_the_engine_looks_a_slot_up_for_a_flow(make_bot: BotFactory, tmp_path: Path) -> None:
    bot = await inline_bot(make_bot, tmp_path / "shadow", SHADOW)
    engine = bot.engine

    own = engine.slot_def("code", "a")
    top = engine.slot_def("code", "b")
    anywhere = engine.slot_def("code")

    assert own is not None and own.kind == "string"
    assert top is not None and top.kind == "integer"
    assert anywhere is top and engine.slot_defs["code"] is top
    info = engine.slot_info("code", "a")
    assert info is not None and info.kind == "string"
    assert engine.slot_infos["code"].kind == "integer"
