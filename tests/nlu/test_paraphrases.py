"""A request in other words than its trigger: other forms and common synonyms.

A bot author writes a few trigger phrases; users say the same thing with "reservation"
for "booking", "move" for "reschedule", "package" for "parcel". Those match, a little
below the phrase itself, and a trigger the message only partly covers loses to one it
covers whole.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from soni.nlu import ConversationContext, FlowInfo, StartFlow
from soni.nlu._triggers import canonical
from soni.nlu.rules import RulesUnderstanding

FLOWS = (
    FlowInfo("change_booking", "change a booking", ("change my booking", "move my booking"), ()),
    FlowInfo("send_parcel", "send a parcel", ("send a parcel", "ship a parcel"), ()),
    FlowInfo(
        "prices",
        "shipping prices",
        ("how much does it cost to send a parcel", "what are your prices"),
        (),
    ),
    FlowInfo("reschedule", "reschedule a delivery", ("reschedule my delivery",), ()),
    FlowInfo("open_ticket", "open a ticket", ("open a ticket", "report a problem"), ()),
    FlowInfo("check_ticket", "check a ticket", ("ticket status",), ()),
    FlowInfo("drop_off", "drop-off points", ("where can I drop off a parcel",), ()),
)


def understand(text: str) -> list[Any]:
    context = ConversationContext(flows=FLOWS, today=dt.date(2026, 12, 6))
    return asyncio.run(RulesUnderstanding().understand(text, context))


@pytest.mark.parametrize(
    ("text", "flow"),
    [
        ("I'd like to modify my reservation", "change_booking"),
        ("can I send a package", "send_parcel"),
        ("send a parcel", "send_parcel"),
        ("what are your shipping costs", "prices"),
        ("need to raise a ticket", "open_ticket"),
        ("I'd like to report an issue", "open_ticket"),
        ("any news on my ticket", "check_ticket"),
        ("where's the nearest drop-off point for a parcel", "drop_off"),
    ],
)
def test_other_words_for_a_trigger_start_its_flow(text: str, flow: str) -> None:
    assert understand(text) == [StartFlow(flow, {})]


def test_canonical_words() -> None:
    assert canonical("move my reservations") == "change my book"
    assert canonical("track packages") == "track parcel"
    assert canonical("address") == "address"  # "ss" is no plural
    assert canonical("drop-off takeaway") == "drop off take away"


def test_a_code_neither_dilutes_a_trigger_nor_escapes_its_placeholder() -> None:
    flows = (
        FlowInfo("track", "track a parcel", ("where is my parcel", "track {tracking_number}"), ()),
    )
    context = ConversationContext(flows=flows, today=dt.date(2026, 12, 6))
    understood = asyncio.run(RulesUnderstanding().understand("track PX4482913DE", context))
    assert understood == [StartFlow("track", {"tracking_number": "PX4482913DE"})]
    asked = asyncio.run(
        RulesUnderstanding().understand("where is my parcel PX4482913DE now?", context)
    )
    assert [c.kind for c in asked] == ["start_flow"]
