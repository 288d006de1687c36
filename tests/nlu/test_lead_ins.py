"""Lead-ins and fillers in front of a message change nothing in what it asks.

"hold on, when do you open?" while a question waits is the digression it would be
without "hold on"; "neither of those" at a choice is a no to every option.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from soni.nlu import Choose, ConversationContext, Deny, FlowInfo, PendingInfo, SlotInfo, StartFlow
from soni.nlu.rules import RulesUnderstanding

SLOTS = {
    "time": SlotInfo("time", "choice", {"10:00": ["ten", "10am"], "15:30": ["half past three"]}),
    "name": SlotInfo("name", "string"),
}
FLOWS = (
    FlowInfo("book", "book a visit", ("book a visit", "I want an appointment"), ("name", "time")),
    FlowInfo("hours", "opening hours", ("when do you open", "opening hours"), ()),
)


def understand(text: str, **context: Any) -> list[Any]:
    ctx = ConversationContext(
        active_flow="book",
        slots={"name": "Ann"},
        flows=FLOWS,
        slot_types=SLOTS,
        today=dt.date(2026, 11, 23),
        **context,
    )
    return asyncio.run(RulesUnderstanding().understand(text, ctx))


@pytest.mark.parametrize(
    "text",
    [
        "when do you open?",
        "hold on, when do you open?",
        "sorry, quick question: when do you open",
        "hang on what are your opening hours",
        "by the way when do you open",
    ],
)
def test_a_digression_behind_a_lead_in_starts_its_flow(text: str) -> None:
    assert understand(text, expected_slot=SLOTS["time"]) == [StartFlow("hours", {})]


@pytest.mark.parametrize(
    "text", ["neither of those", "none of them", "neither", "none of these, thanks", "neither one"]
)
def test_none_of_the_offered_options_is_a_no(text: str) -> None:
    offered = PendingInfo(
        "c-1", ("take_10", "take_1530"), {"take_10": "10:00", "take_1530": "15:30"}
    )
    assert understand(text, pending=offered) == [Deny()]


@pytest.mark.parametrize(
    ("text", "option"),
    [
        ("whatever is latest, I work till 5", "take_1530"),
        ("the earliest please", "take_10"),
        ("the later one", "take_1530"),
    ],
)
def test_an_option_picked_by_the_order_of_its_label(text: str, option: str) -> None:
    offered = PendingInfo(
        "c-1", ("take_10", "take_1530"), {"take_10": "10:00", "take_1530": "15:30"}
    )
    assert understand(text, pending=offered) == [Choose(option)]


def test_no_order_without_a_number_in_every_label() -> None:
    offered = PendingInfo(
        "c-1", ("window", "bar"), {"window": "By the window", "bar": "At the bar"}
    )
    assert understand("the cheapest", pending=offered) != [Choose("window")]
