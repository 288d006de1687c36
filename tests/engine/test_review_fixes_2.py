"""Conversations a second review found wrong: unreadable values, slot defaults, flow
slots shadowing top-level ones, and text that only looks like a structured message."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from soni.dsl import default_registry
from soni.dsl.slot_types import MAX_DIGITS, coerce
from soni.engine.runtime import Bot
from soni.errors import SlotValueError, StructuredMessageError
from soni.nlu import SetSlot, StartFlow, is_structured, parse_structured
from soni.nlu.basic import KeywordUnderstanding

from .conftest import BotFactory, talk
from .test_banking import IBAN

GUESTS = "How many guests?"
BAD_GUESTS = "Please give a whole number of guests, at least one."
AMOUNT = "How much do you want to send?"
BAD_AMOUNT = "Please enter an amount above zero."


async def inline_bot(make_bot: BotFactory, folder: Path, text: str, **options: Any) -> Bot:
    folder.mkdir()
    (folder / "bot.yaml").write_text(text)
    return await make_bot(str(folder), **options)


# -- (4a) a value that cannot be read is refused, and the flow goes on ------------------


async def test_an_answer_too_long_to_read_as_a_number_is_asked_again(
    make_bot: BotFactory,
) -> None:
    # The keyword understanding hands the whole text over as the answer, as any
    # understanding may.
    bot = await make_bot("hotel_booking", understanding=KeywordUnderstanding())
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


# -- (7) a slot's default ---------------------------------------------------------------


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


# -- (8) a flow's own slot shadows a top-level one --------------------------------------


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


# -- (12) text that only starts with a slash ---------------------------------------------


async def test_a_path_is_an_answer_not_a_broken_structured_message(
    make_bot: BotFactory,
) -> None:
    # Understanding gets the text; this one takes it whole as the answer.
    bot = await make_bot("file_assistant", understanding=KeywordUnderstanding())
    await bot.handle("path", "/tidy_file")

    result = await bot.handle("path", "/home/ann/report.pdf")

    assert result.slots["file_name"] == "/home/ann/report.pdf"
    assert result.texts == [
        "/home/ann/report.pdf (0 KB, owned by nobody): what should I do with it?"
    ]


async def test_slash_word_naming_no_flow_answers_the_question(make_bot: BotFactory) -> None:
    bot = await make_bot("file_assistant")
    await bot.handle("tmp", "/tidy_file")

    result = await bot.handle("tmp", "/tmp")

    assert result.slots["file_name"] == "/tmp"
    assert result.texts == ["/tmp (0 KB, owned by nobody): what should I do with it?"]


async def test_slash_commands_and_flows_still_work_while_a_question_waits(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot()
    await talk(bot, "cmd", "/transfer_funds", "Bob")

    digression, malformed, cancelled = await talk(bot, "cmd", "/check_balance", "/set", "/cancel")

    assert digression.texts == ["Which account: checking or savings?"]
    assert malformed.texts[0] == "expected /set slot=value, e.g. /set amount=50"
    assert cancelled.texts[0] == "OK, I've cancelled check your balance."


async def test_an_unknown_flow_with_no_question_open_is_still_an_error(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot()

    assert (await bot.handle("nothing", "/tmp")).texts == ["I don't know how to do 'tmp'."]
    malformed = await bot.handle("nothing", '/transfer_funds{"amount": ')
    assert "not a JSON object" in malformed.texts[0]


@pytest.mark.parametrize(
    "text",
    ["/home/ann/report.pdf", "/tmp/", "/transfer_funds please", "/1st", "/", "/a/b{}"],
)
def test_text_that_cannot_be_a_structured_message_is_not_one(text: str) -> None:
    assert not is_structured(text)


@pytest.mark.parametrize(
    "text",
    ["/tmp", " /cancel ", "/set a=1", "/set", "/affirm now", '/pay{"a": 1}', "/pay {", "/x.y"],
)
def test_structured_messages_and_malformed_ones_are_recognised(text: str) -> None:
    assert is_structured(text)


def test_parse_structured_reads_values_and_refuses_deep_nesting() -> None:
    assert parse_structured(f"/set iban={IBAN} n=[1]") == [
        SetSlot("iban", IBAN),
        SetSlot("n", [1]),
    ]
    assert parse_structured('/pay{"n": [[1]]}') == [StartFlow("pay", {"n": [[1]]})]
    with pytest.raises(StructuredMessageError, match="nested more than 32 levels"):
        parse_structured("/set n=" + "[" * 33 + "]" * 33)
