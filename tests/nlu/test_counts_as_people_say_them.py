"""Counts as people say them, when the bot asks how many.

"none" or "no kids" is 0, not a name for the number; "2 adults and 2 kids" answers
how many adults with 2 and gives the children's count too, when the flow counts
them apart (a flow that counts people as one still adds them up); "3... no wait,
make that 4" is 4.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from soni.nlu import ConversationContext, FlowInfo, SetSlot, SlotInfo
from soni.nlu.rules import RulesUnderstanding
from soni.nlu.units import unit_words

TODAY = dt.date(2026, 12, 11)


def slot(name: str, prompt: str) -> SlotInfo:
    return SlotInfo(name, "integer", words=unit_words(name, prompt))


SLOTS = {
    "adults": slot("adults", "How many adults?"),
    "children": slot("children", "How many children?"),
    "party_size": slot("party_size", "How many people?"),
    "bags": slot("bags", "How many bags would you like to add?"),
}
FLOWS = (
    FlowInfo("buy_tickets", "buy cinema tickets", ("buy tickets",), ("adults", "children")),
    FlowInfo("book_table", "book a table", ("book a table",), ("party_size",)),
    FlowInfo("add_baggage", "add checked bags", ("add a bag",), ("bags",)),
)


async def answered(text: str, flow: str, expecting: str) -> list[Any]:
    context = ConversationContext(
        active_flow=flow,
        expected_slot=SLOTS[expecting],
        flows=FLOWS,
        slot_types=SLOTS,
        today=TODAY,
    )
    return await RulesUnderstanding().understand(text, context)


@pytest.mark.parametrize("text", ["none", "nope", "no kids", "zero", "none at all"])
async def test_nothing_to_count_is_zero(text: str) -> None:
    assert await answered(text, "buy_tickets", "children") == [SetSlot("children", 0)]


async def test_groups_counted_apart_go_to_their_own_slots() -> None:
    got = await answered("2 adults and 2 kids", "buy_tickets", "adults")
    assert got == [SetSlot("adults", 2), SetSlot("children", 2)]

    got = await answered("One adult and two children please", "buy_tickets", "adults")
    assert got == [SetSlot("adults", 1), SetSlot("children", 2)]


async def test_a_count_with_none_of_the_other_group_fills_both() -> None:
    got = await answered("2, no kids obviously lol", "buy_tickets", "adults")
    assert got == [SetSlot("adults", 2), SetSlot("children", 0)]


async def test_a_flow_that_counts_people_as_one_adds_the_groups_up() -> None:
    got = await answered("5 adults and 2 kids", "book_table", "party_size")
    assert got == [SetSlot("party_size", 7)]


@pytest.mark.parametrize("text", ["3... no wait, make that 4", "3, sorry, 4", "three, i mean four"])
async def test_the_number_after_a_change_of_mind_counts(text: str) -> None:
    assert await answered(text, "add_baggage", "bags") == [SetSlot("bags", 4)]


async def test_a_number_then_a_remark_keeps_the_number() -> None:
    got = await answered("2 bags, sorry for the wait", "add_baggage", "bags")
    assert got == [SetSlot("bags", 2)]


@pytest.mark.parametrize(
    ("text", "count"), [("its a two bed", 2), ("a couple", 2), ("twenty five", 25), ("a dozen", 12)]
)
def test_numbers_in_words_are_not_summed_across_an_article(text: str, count: int) -> None:
    from soni.nlu._text import find_numbers

    # "a two bed" was read as 1 + 2: an article before a number is no number of its own.
    assert [m.value for m in find_numbers(text)] == [count]


@pytest.mark.parametrize("text", ["no, none", "nope, none of those"])
async def test_none_said_twice_is_still_zero(text: str) -> None:
    assert await answered(text, "buy_tickets", "children") == [SetSlot("children", 0)]


async def test_each_group_said_to_be_none_is_zero() -> None:
    got = await answered("2 adults and no kids", "buy_tickets", "adults")
    assert got == [SetSlot("adults", 2), SetSlot("children", 0)]
