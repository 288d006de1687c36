"""A slip put right, and values said with a label in front of them.

People correct a wrong value as they notice it ("wrong one, it's INC-20417", "typo,
it's PU-20931", "no way, not 10, I said 9"), give a value behind its label
("username: jsmith", "reference number PU-20931") or with a remark after it ("jsmith,
he's on holiday"), and say times in many ways where the bot offers fixed times
("7.30pm", "half 8", "at 9" for the 21:00 seating).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import Any

import pytest

from soni.nlu import CorrectSlot, Deny, SetSlot, StartFlow
from soni.nlu._values import answer, free_text, mention
from soni.nlu.protocol import ConversationContext, FlowInfo, PendingInfo, SlotInfo
from soni.nlu.rules import RulesUnderstanding

TODAY = dt.date(2026, 12, 6)  # a Sunday
SEATINGS = {t: [] for t in ("13:00", "13:30", "14:00", "19:30", "20:00", "20:30", "21:00", "22:00")}
SLOTS = {
    "ticket_code": SlotInfo("ticket_code", "string"),
    "account_name": SlotInfo("account_name", "string"),
    "delivery_date": SlotInfo("delivery_date", "date"),
    "booking_ref": SlotInfo("booking_ref", "string"),
    "booking_time": SlotInfo("booking_time", "choice", SEATINGS),
    "seating": SlotInfo("seating", "choice", {"terrace": [], "window": [], "bar": []}),
    "party_size": SlotInfo("party_size", "integer"),
    "booking_date": SlotInfo("booking_date", "date"),
}
FLOWS = (
    FlowInfo("close_ticket", "close a ticket", ("close my ticket",), ("ticket_code",)),
    FlowInfo("reset_password", "reset a password", ("reset my password",), ("account_name",)),
    FlowInfo(
        "reschedule",
        "change the delivery day",
        ("reschedule my delivery", "deliver {ticket_code} on another day"),
        ("ticket_code", "delivery_date"),
    ),
    FlowInfo(
        "change_booking",
        "move a booking",
        ("change my booking",),
        ("booking_ref", "booking_date", "booking_time"),
    ),
    FlowInfo(
        "book_table",
        "book a table",
        ("book a table", "reserve a table"),
        ("party_size", "booking_date", "booking_time", "seating"),
    ),
)


def understand(
    text: str,
    flow: str | None = None,
    expecting: str | None = None,
    slots: dict[str, Any] | None = None,
    pending: tuple[str, ...] | None = None,
) -> list[Any]:
    context = ConversationContext(
        active_flow=flow,
        expected_slot=SLOTS[expecting] if expecting else None,
        slots=dict(slots or {}),
        pending=PendingInfo("c-1", pending, {}) if pending else None,
        flows=FLOWS,
        slot_types=SLOTS,
        today=TODAY,
    )
    return asyncio.run(RulesUnderstanding().understand(text, context))


@pytest.mark.parametrize(
    "text",
    [
        "oh sorry wrong one, it's INC-20417",
        "wrong ticket, it is INC-20417",
        "oops, typo, it's INC-20417",
        "my bad, INC-20417",
    ],
)
def test_a_code_said_after_a_slip_corrects_the_code_at_a_confirmation(text: str) -> None:
    at = understand(text, "close_ticket", slots={"ticket_code": "INC-20388"}, pending=("close",))
    assert at == [CorrectSlot("ticket_code", "INC-20417")]


@pytest.mark.parametrize("text", ["wrong one", "oh no, wrong", "that's the wrong one, no"])
def test_a_slip_without_a_new_value_is_still_a_no(text: str) -> None:
    at = understand(text, "close_ticket", slots={"ticket_code": "INC-20388"}, pending=("close",))
    assert at == [Deny()]


def test_what_i_said_corrects_after_any_no() -> None:
    filled = {"booking_ref": "BK-4410", "booking_date": "2026-12-23", "booking_time": "22:00"}
    pending = ("move_booking",)
    assert understand(
        "no way, not 10, I said 9", "change_booking", slots=filled, pending=pending
    ) == [CorrectSlot("booking_time", "21:00")]
    date = {"ticket_code": "PX1000200FR", "delivery_date": "2026-12-10"}
    assert understand(
        "no not thursday, I said tuesday", "reschedule", slots=date, pending=("d",)
    ) == [CorrectSlot("delivery_date", "2026-12-08")]


def test_a_hesitation_before_an_answer_is_no_correction() -> None:
    # "oh" is no correction word here: the day answers the question asked.
    answered = understand("oh ok, thursday", "reschedule", "delivery_date", {"ticket_code": "PX1"})
    assert answered == [SetSlot("delivery_date", "2026-12-10")]


def test_a_remark_after_a_new_value_is_not_part_of_it() -> None:
    filled = {"account_name": "jsmith"}
    at = understand(
        "sorry, wrong account, it's amartin, I'm covering for her",
        "reset_password",
        slots=filled,
        pending=("reset",),
    )
    assert at == [CorrectSlot("account_name", "amartin")]


@pytest.mark.parametrize(
    ("said", "value"),
    [
        ("username: jsmith", "jsmith"),
        ("reference number PU-20931", "PU-20931"),
        ("ref bk7781", "bk7781"),
        ("postcode 1010", "1010"),
        ("ok the number is PX4482913DE", "PX4482913DE"),
        ("put it under Fatima Zahra", "Fatima Zahra"),
        ("it should go to my office: Av. Diagonal 640, Barcelona", "Av. Diagonal 640, Barcelona"),
        ("jsmith, he's on holiday and locked out", "jsmith"),
        ("Bob, because he asked", "Bob"),
        ("Maria Lopez", "Maria Lopez"),
        ("Av. Diagonal 640, Barcelona", "Av. Diagonal 640, Barcelona"),
    ],
)
def test_a_label_or_a_remark_around_a_value_is_not_part_of_it(said: str, value: str) -> None:
    assert free_text(said) == value


def test_the_one_code_in_an_answer_fills_a_slot_that_holds_a_code() -> None:
    slot = SLOTS["ticket_code"]
    assert answer(slot, "PX7700311ES to a new address", TODAY) == "PX7700311ES"
    assert answer(slot, "it's INC-20417 or INC-20418", TODAY) != "INC-20417"  # two: no guess
    started = understand("please deliver PX1000200FR on another day")
    assert started == [StartFlow("reschedule", {"ticket_code": "PX1000200FR"})]


@pytest.mark.parametrize(
    ("said", "seating"),
    [("7.30pm", "19:30"), ("half 8", "20:30"), ("9", "21:00"), ("1pm", "13:00"), ("at 2", "14:00")],
)
def test_a_time_said_any_way_picks_the_offered_time(said: str, seating: str) -> None:
    assert answer(SLOTS["booking_time"], said, TODAY) == seating


def test_a_time_of_the_wrong_half_of_the_day_picks_nothing() -> None:
    assert answer(SLOTS["booking_time"], "9am", TODAY) is None  # only 21:00 is offered
    assert answer(SLOTS["booking_time"], "11", TODAY) is None


def test_a_time_in_a_request_fills_the_offered_time() -> None:
    said = "book a table for 6 at 9 by the window on the 18th"
    assert understand(said) == [
        StartFlow(
            "book_table",
            {
                "party_size": 6,
                "booking_date": "2026-12-18",
                "booking_time": "21:00",
                "seating": "window",
            },
        )
    ]
    assert mention(SLOTS["booking_time"], "a table for 6 please", TODAY) is None


def test_answering_one_choice_can_give_another() -> None:
    answered = understand("8pm, and we'd prefer the terrace", "book_table", "booking_time")
    assert answered == [SetSlot("booking_time", "20:00"), SetSlot("seating", "terrace")]


def test_an_address_is_corrected_with_its_number() -> None:
    slots = {**SLOTS, "address": SlotInfo("address", "string"), "since": SlotInfo("since", "time")}
    flows = (FlowInfo("outage", "report an outage", ("power cut",), ("address", "since")),)
    context = ConversationContext(
        active_flow="outage",
        expected_slot=slots["since"],
        slots={"address": "12 Station Road"},
        flows=flows,
        slot_types=slots,
        today=TODAY,
    )
    said = "sorry wrong number, it's 21 Station Road not 12"
    assert asyncio.run(RulesUnderstanding().understand(said, context)) == [
        CorrectSlot("address", "21 Station Road")
    ]


@pytest.mark.parametrize(
    ("said", "value"),
    [
        ("08012? nothing works here", "08012"),
        ("5 Rue des Lilas, and no, nobody", "5 Rue des Lilas"),
    ],
)
def test_a_value_ends_with_its_clause(said: str, value: str) -> None:
    assert free_text(said) == value


def test_cancel_with_a_code_starts_the_cancelling_flow_that_takes_it() -> None:
    slots = {
        **SLOTS,
        "rental_reference": SlotInfo("rental_reference", "string", pattern=re.compile(r"RC-\d+")),
    }
    flows = (
        FlowInfo("cancel_rental", "cancel a rental", ("cancel my rental",), ("rental_reference",)),
        FlowInfo("extend_rental", "extend a rental", ("extend my rental",), ("rental_reference",)),
    )
    context = ConversationContext(flows=flows, slot_types=slots, today=TODAY)
    said = "cancel reservation RC-40317"
    assert asyncio.run(RulesUnderstanding().understand(said, context)) == [
        StartFlow("cancel_rental", {"rental_reference": "RC-40317"})
    ]


PET_SLOTS = {
    "pet_name": SlotInfo("pet_name", "string"),
    "medicine": SlotInfo(
        "medicine", "choice", {"meloxicam": ["metacam"], "oclacitinib": ["apoquel"]}
    ),
    "boxes": SlotInfo("boxes", "integer"),
    "reason": SlotInfo("reason", "string"),
}
PET_FLOWS = (
    FlowInfo(
        "repeat_prescription",
        "order a repeat prescription",
        ("repeat prescription", "order {boxes} boxes of {medicine}", "order more {medicine}"),
        ("pet_name", "medicine", "boxes"),
    ),
    FlowInfo("cancel_appointment", "cancel an appointment", ("cancel my appointment",), ()),
    FlowInfo(
        "book_appointment", "book an appointment", ("book an appointment",), ("pet_name", "reason")
    ),
)


def pets(text: str, **context: Any) -> list[Any]:
    ctx = ConversationContext(flows=PET_FLOWS, slot_types=PET_SLOTS, today=TODAY, **context)
    return asyncio.run(RulesUnderstanding().understand(text, ctx))


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("order 3 boxes of metacam for Rex", "Rex"),
        ("Hi, Bella's run out, can I order more apoquel?", "Bella"),
        ("repeat prescription for my puppy Rolo please", "Rolo"),
        ("I have a cat called Nibbles, repeat prescription please", "Nibbles"),
    ],
)
def test_a_name_said_in_a_request_fills_the_name_slot(text: str, name: str) -> None:
    [started] = pets(text)
    assert isinstance(started, StartFlow) and started.slots["pet_name"] == name


def test_a_word_of_the_bots_choices_or_a_day_is_no_name() -> None:
    [started] = pets("order more Apoquel for Monday")
    assert isinstance(started, StartFlow) and "pet_name" not in started.slots


def test_it_is_x_not_y_corrects_the_slot_that_holds_y() -> None:
    corrected = pets(
        "no - it's Milo not Miles",
        active_flow="book_appointment",
        slots={"pet_name": "Miles", "reason": "weight check"},
        awaiting_confirm_step=True,
    )
    assert corrected == [CorrectSlot("pet_name", "Milo")]


@pytest.mark.parametrize(
    "text", ["we won't need the appointment on Tuesday after all", "pls cancle our appt"]
)
def test_calling_off_with_nothing_running_starts_the_cancelling_flow(text: str) -> None:
    assert pets(text) == [StartFlow("cancel_appointment", {})]


@pytest.mark.parametrize(
    ("said", "value"),
    [
        ("The Hobbit", "The Hobbit"),
        ("oh ok, Beloved", "Beloved"),
        ("a copy of Normal People", "Normal People"),
        ("overgrown beak I think", "overgrown beak"),
    ],
)
def test_a_title_keeps_its_article_and_loses_the_words_around_it(said: str, value: str) -> None:
    assert free_text(said) == value


@pytest.mark.parametrize(
    ("text", "slot", "value"),
    [
        ("it should be thursday", "booking_date", "2026-12-10"),
        ("should be 4 people", "party_size", 4),
        ("the window I meant", "seating", "window"),
        ("no sorry, it should have been the terrace", "seating", "terrace"),
    ],
)
def test_what_it_should_be_corrects_at_a_confirmation(text: str, slot: str, value: Any) -> None:
    filled = {"party_size": 2, "booking_date": "2026-12-09", "seating": "bar"}
    at = understand(text, "book_table", slots=filled, pending=("book",))
    assert at == [CorrectSlot(slot, value)]


@pytest.mark.parametrize("text", ["it should be fine", "that should be all, thanks"])
def test_should_be_without_a_value_changes_nothing(text: str) -> None:
    filled = {"party_size": 2, "booking_date": "2026-12-09", "seating": "bar"}
    at = understand(text, "book_table", slots=filled, pending=("book",))
    assert not any(isinstance(c, CorrectSlot) for c in at), at


def test_should_be_with_the_answer_asked_for_answers_it() -> None:
    # The code asked for, said as what it should be: an answer, not a change.
    got = understand("it should be INC-20417", "close_ticket", expecting="ticket_code", slots={})
    assert got == [SetSlot("ticket_code", "INC-20417")]


@pytest.mark.parametrize(
    ("text", "slot", "value"),
    [
        ("from the 11th", "booking_date", "2026-12-11"),
        ("it's 4", "party_size", 4),
        ("the terrace", "seating", "terrace"),
    ],
)
def test_a_value_alone_at_a_confirmation_changes_the_one_slot_it_fits(
    text: str, slot: str, value: Any
) -> None:
    filled = {"party_size": 2, "booking_date": "2026-12-09", "seating": "bar"}
    at = understand(text, "book_table", slots=filled, pending=("book",))
    assert at == [CorrectSlot(slot, value)]


@pytest.mark.parametrize("text", ["it's 2", "not 4", "the bar"])
def test_a_value_that_changes_nothing_or_is_refused_corrects_nothing(text: str) -> None:
    filled = {"party_size": 2, "booking_date": "2026-12-09", "seating": "bar"}
    at = understand(text, "book_table", slots=filled, pending=("book",))
    assert not any(isinstance(c, CorrectSlot) for c in at), at
