"""Structured messages: which text is one, how its values are read, and that one
naming a slot the bot does not have is refused and changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from soni.engine import Bot
from soni.nlu import SetSlot, StartFlow, is_structured, parse_structured
from soni.nlu.errors import StructuredMessageError

from .conftest import BotFactory
from .test_banking import IBAN

BOTS = Path(__file__).resolve().parent / "bots"


async def leftovers(make_bot: BotFactory, **options: Any) -> Bot:
    return await make_bot(str(BOTS / "leftovers"), **options)


async def where(bot: Bot, conversation: str) -> tuple[Any, Any]:
    """What a turn may change: the stack and the slots."""
    state = await bot.state(conversation)
    return state.get("stack"), state.get("slots")


# -- what is a structured message ----------------------------------------------------


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


# -- structured messages naming unknown slots --------------------------------------------


async def test_set_of_an_unknown_slot_is_refused_with_a_suggestion(make_bot: BotFactory) -> None:
    bot = await leftovers(make_bot)
    await bot.handle("unknown-1", "/pick")
    before = await where(bot, "unknown-1")

    result = await bot.handle("unknown-1", "/set colur=red")

    assert result.texts == [
        "There is no slot named 'colur' (did you mean 'colour'?).",
        "Which colour?",
    ]
    assert result.replies[0].kind == "error"
    assert await where(bot, "unknown-1") == before
    assert (await bot.handle("unknown-1", "red")).texts == ["picked red"]


async def test_a_set_naming_one_unknown_slot_changes_nothing(make_bot: BotFactory) -> None:
    bot = await leftovers(make_bot)
    await bot.handle("unknown-2", "/pick")
    before = await where(bot, "unknown-2")

    result = await bot.handle("unknown-2", "/set colour=red shade=dark")

    assert result.texts[0] == "There is no slot named 'shade'."
    assert await where(bot, "unknown-2") == before


async def test_starting_a_flow_with_an_unknown_slot_is_refused(make_bot: BotFactory) -> None:
    bot = await leftovers(make_bot)

    result = await bot.handle("unknown-3", '/pick{"color": "red"}')

    assert result.texts == ["There is no slot named 'color' (did you mean 'colour'?)."]
    assert result.status == "ended"
    assert await where(bot, "unknown-3") == ([], {})
