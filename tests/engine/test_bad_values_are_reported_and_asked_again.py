"""A value its slot refuses is reported once, in the turn it came, and asked for again.

Given with a flow's start beside other slots, or for a slot a paused flow holds, the
refusal is said at once and not again later; a collect re-checks a value it finds
(set earlier, or of the wrong type) against its slot's type and validator; and an
answer is validated once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from soni.dsl import default_registry
from soni.engine import Bot

from .conftest import BotFactory, talk

BOTS = Path(__file__).resolve().parent / "bots"


async def leftovers(make_bot: BotFactory, **options: Any) -> Bot:
    return await make_bot(str(BOTS / "leftovers"), **options)


# -- a bad value given with a flow's start is reported in that turn ----------------------


async def test_a_bad_value_given_with_other_slots_is_reported_once(make_bot: BotFactory) -> None:
    bot = await make_bot()

    result = await bot.handle("bad-1", '/transfer_funds{"beneficiary": "Ann", "amount": "abc"}')

    assert result.texts == ["Please enter an amount above zero.", "How much do you want to send?"]
    assert result.slots == {"beneficiary": "Ann"}


async def test_a_bad_value_for_a_slot_held_by_a_paused_flow_is_reported_at_once(
    make_bot: BotFactory,
) -> None:
    bot = await leftovers(make_bot)
    await talk(bot, "bad-2", "/budget", "50")  # budget now asks for a note

    digression = await bot.handle("bad-2", '/spend{"amount": "abc"}')
    ended = await bot.handle("bad-2", "groceries")
    later = await bot.handle("bad-2", "/spend")

    assert digression.texts == ["An amount above zero, please.", "spent 50", "Any note?"]
    assert ended.texts == ["budget 50 (groceries)"]
    # Reported once, in its turn: not again at a later question for the slot.
    assert later.texts == ["How much?"]


# -- collect re-checks a value it finds ---------------------------------------------------


async def test_collect_asks_again_when_a_set_value_fails_its_validator(
    make_bot: BotFactory,
) -> None:
    bot = await leftovers(make_bot)

    asked = await bot.handle("recheck-1", "/preset_age")

    assert asked.texts == ["An age above zero, please.", "How old are you?"]
    assert asked.status == "awaiting_input"
    assert "age" not in asked.slots
    assert (await bot.handle("recheck-1", "30")).texts == ["You are 30."]


async def test_collect_asks_again_when_a_set_value_has_the_wrong_type(
    make_bot: BotFactory,
) -> None:
    bot = await leftovers(make_bot)

    asked = await bot.handle("recheck-2", "/typed_age")

    assert len(asked.texts) == 2 and asked.texts[-1] == "How old are you?"
    assert "age" not in asked.slots
    assert (await bot.handle("recheck-2", "30")).texts == ["You are 30."]


async def test_collect_rechecks_a_value_set_earlier_against_its_own_validator(
    make_bot: BotFactory,
) -> None:
    bot = await leftovers(make_bot)
    await talk(bot, "recheck-3", "/note_then_age", "/set age=-2")

    asked = await bot.handle("recheck-3", "hi")

    assert asked.texts == ["An age above zero, please.", "How old are you?"]
    assert (await bot.handle("recheck-3", "7")).texts == ["hi: 7"]


async def test_an_answer_is_validated_once(make_bot: BotFactory, tmp_path: Path) -> None:
    checked: list[object] = []

    def even(value: Any) -> bool:
        checked.append(value)
        return int(value) % 2 == 0

    (tmp_path / "bot.yaml").write_text(
        "flows:\n"
        "  pick:\n"
        "    steps:\n"
        "      - {step: ask, type: collect, slot: n, validator: even_once, message: 'N?'}\n"
        "      - {step: told, type: say, message: 'n={n}'}\n"
        "slots:\n"
        "  n: {type: integer}\n"
    )
    default_registry.register("even_once", even)
    try:
        bot = await make_bot(str(tmp_path))
        asked, refused, told = await talk(bot, "once-1", "/pick", "3", "4")
    finally:
        default_registry.unregister("even_once")

    assert asked.texts == ["N?"]
    assert refused.texts == ["That is not a valid n.", "N?"]
    assert told.texts == ["n=4"]
    assert checked == [3, 4]
