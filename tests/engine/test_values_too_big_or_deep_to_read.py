"""A value too big or nested too deep to read is refused, and the question asked again.

Numbers too long or too big to read, JSON nested too deep in a structured message or
a /set, and a value a validator cannot compute with are refused with a clear message,
and the conversation goes on; numbers up to the digit limit are read.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from soni.dsl import default_registry
from soni.dsl.errors import SlotValueError
from soni.dsl.slot_types import MAX_DIGITS, coerce
from soni.engine import Bot

from ._verbatim import AnswersVerbatim
from .conftest import BotFactory, talk

GUESTS = "How many guests?"
BAD_GUESTS = "Please give a whole number of guests, at least one."
AMOUNT = "How much do you want to send?"
BAD_AMOUNT = "Please enter an amount above zero."


async def inline_bot(make_bot: BotFactory, folder: Path, text: str, **options: Any) -> Bot:
    folder.mkdir()
    (folder / "bot.yaml").write_text(text)
    return await make_bot(str(folder), **options)


async def test_an_answer_too_long_to_read_as_a_number_is_asked_again(
    make_bot: BotFactory,
) -> None:
    # The whole text is handed over as the answer, as any understanding may.
    bot = await make_bot("hotel_booking", understanding=AnswersVerbatim())
    await talk(bot, "huge-guests", "/book_hotel", "2025-07-01", "2025-07-03")

    refused, again = await talk(bot, "huge-guests", "1" * 5000, "/set guests=" + "1" * 5000)

    assert refused.texts == [BAD_GUESTS, GUESTS]
    assert refused.status == "awaiting_input"
    assert again.texts == [BAD_GUESTS, GUESTS]
    assert (await bot.handle("huge-guests", "2")).texts[0].startswith("Now the details")


async def test_a_number_too_big_for_a_float_is_asked_again(make_bot: BotFactory) -> None:
    bot = await make_bot()
    await talk(bot, "huge-amount", "/transfer_funds", "Bob")

    result = await bot.handle("huge-amount", "/set amount=" + "9" * 400)

    assert result.texts == [BAD_AMOUNT, AMOUNT]
    assert result.status == "awaiting_input"
    assert (await bot.handle("huge-amount", "50")).texts == ["What is their IBAN?"]


async def test_json_nested_too_deep_is_a_clear_structured_message_error(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot()
    deep = '/check_balance{"amount": ' + "[" * 4000 + "]" * 4000 + "}"
    assert len(deep) < 10_000

    result = await bot.handle("deep", deep)

    assert result.texts == ["the slots of /check_balance are nested more than 32 levels deep"]
    assert (await bot.handle("deep", "/check_balance")).status == "awaiting_input"


@pytest.mark.parametrize("depth", [40, 900, 4000])
async def test_a_deeply_nested_set_value_is_refused_and_asked_again(
    make_bot: BotFactory, tmp_path: Path, depth: int
) -> None:
    bot = await inline_bot(
        make_bot,
        tmp_path / "deep",
        "slots:\n"
        "  thing: {type: any, prompt: 'Thing?'}\n"
        "flows:\n"
        "  keep:\n"
        "    steps:\n"
        "      - {step: ask, type: collect, slot: thing}\n"
        "      - {step: tell, type: say, message: 'kept {thing}'}\n",
    )
    await bot.handle("deep-set", "/keep")

    result = await bot.handle("deep-set", "/set thing=" + "[" * depth + "]" * depth)

    assert result.texts == ["the value of thing is nested more than 32 levels deep", "Thing?"]
    kept = await bot.handle("deep-set", "/set thing=[[1]]")
    assert kept.status == "ended"
    assert kept.slots["thing"] == [[1]]


async def test_a_validator_that_cannot_compute_with_a_value_refuses_it(
    make_bot: BotFactory, tmp_path: Path
) -> None:
    def tiny(value: float) -> bool:
        return math.exp(value) < 10  # OverflowError for a big value

    default_registry.register("review2_tiny", tiny)
    try:
        bot = await inline_bot(
            make_bot,
            tmp_path / "tiny",
            "slots:\n"
            "  x: {type: float, prompt: 'X?', validator: review2_tiny,"
            " validation_error_message: 'Too big.'}\n"
            "flows:\n"
            "  pick:\n"
            "    steps:\n"
            "      - {step: ask, type: collect, slot: x}\n"
            "      - {step: tell, type: say, message: 'x={x}'}\n",
        )
        _, refused, told = await talk(bot, "tiny", "/pick", "/set x=1000", "/set x=1")
    finally:
        default_registry.unregister("review2_tiny")

    assert refused.texts == ["Too big.", "X?"]
    assert told.texts == ["x=1"]


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("integer", "1" * 5000),
        ("integer", "1" * (MAX_DIGITS + 1)),
        ("integer", 10**400),
        ("integer", 1e305),
        ("float", 10**400),
        ("float", "9" * 400),
        ("float", math.inf),
        ("string", 10**5000),
        ("boolean", 10**5000),
        ("choice", 10**5000),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 10 else "huge",
)
def test_huge_and_infinite_numbers_are_slot_value_errors(kind: str, value: object) -> None:
    with pytest.raises(SlotValueError):
        coerce(kind, value, choices=["a"])


def test_numbers_up_to_the_digit_limit_are_read() -> None:
    assert coerce("integer", "9" * MAX_DIGITS) == int("9" * MAX_DIGITS)
    assert coerce("float", "1e300") == 1e300
