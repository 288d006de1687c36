"""The bot's own flows come before the built-in "cancel".

With nothing running, a message that is one of the bot's trigger phrases starting with
"cancel …" starts that flow ("cancel my appointment") instead of "there is nothing to
cancel"; "cancel" on its own and "never mind" stay a cancel, and while a flow runs,
"cancel …" stops it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from soni.nlu import CancelFlow, ConversationContext, FlowInfo, SlotInfo, StartFlow
from soni.nlu.rules import RulesUnderstanding

SLOTS = {
    "reference": SlotInfo("reference", "string"),
    "day": SlotInfo("day", "date"),
    "name": SlotInfo("name", "string"),
}
FLOWS = (
    FlowInfo(
        "book_appointment",
        "book an appointment",
        ("book an appointment", "I need an appointment", "make an appointment"),
        ("name", "day"),
    ),
    FlowInfo(
        "cancel_appointment",
        "cancel an appointment",
        ("cancel my appointment", "cancel appointment {reference}", "call off my visit"),
        ("reference",),
    ),
)


def understand(text: str, flow: str | None = None) -> list[Any]:
    context = ConversationContext(
        active_flow=flow,
        slots={"name": "Ann"} if flow else {},
        flows=FLOWS,
        slot_types=SLOTS,
        today=dt.date(2026, 11, 23),
    )
    return asyncio.run(RulesUnderstanding().understand(text, context))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cancel my appointment", StartFlow("cancel_appointment", {})),
        ("cancel my appointment please", StartFlow("cancel_appointment", {})),
        ("cancel appointment AB-1234", StartFlow("cancel_appointment", {"reference": "AB-1234"})),
    ],
)
def test_a_trigger_starting_with_cancel_starts_the_bots_flow(text: str, expected: Any) -> None:
    assert understand(text) == [expected]


@pytest.mark.parametrize("text", ["cancel", "never mind", "cancel that", "forget it"])
def test_a_plain_cancel_stays_a_cancel(text: str) -> None:
    assert understand(text) == [CancelFlow()]
    assert understand(text, "book_appointment") == [CancelFlow()]


def test_cancelling_the_running_flow_by_its_name_stops_it() -> None:
    assert understand("cancel the appointment booking", "book_appointment") == [CancelFlow()]


def test_while_a_flow_runs_cancel_means_that_flow() -> None:
    assert understand("cancel my appointment", "book_appointment") == [CancelFlow()]
