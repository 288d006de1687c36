"""A slot with a ``pattern``: the span of the message the pattern matches is its value.

Asked ("my code is BK-1234"), unasked in a request ("pls cancel booking BK-5678,
something came up") and as a correction at a confirmation ("no, it's BK-9999"). The
pattern replaces the guess a code-like slot name gives.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from soni.nlu import (
    Command,
    ConversationContext,
    CorrectSlot,
    Deny,
    FlowInfo,
    Help,
    OutOfScope,
    PendingInfo,
    SetSlot,
    SlotInfo,
    StartFlow,
)
from soni.nlu._llm_prompt import system_prompt
from soni.nlu._values import answer, holds_a_code, mention
from soni.nlu.rules import RulesUnderstanding

TODAY = dt.date(2026, 12, 6)
BOOKING_REF = SlotInfo("booking_ref", "string", pattern=re.compile(r"BK-\d{4}"))
ORDER_ID = SlotInfo("order_id", "string")  # a code, guessed from its name
GUEST = SlotInfo("guest_name", "string", pattern=re.compile(r"[A-Za-z][A-Za-z ]*"))
FLOWS = (
    FlowInfo(
        "cancel_booking",
        "Cancel a booking",
        ("cancel my booking", "cancel booking {booking_ref}"),
        ("booking_ref",),
    ),
    FlowInfo(
        "order_status", "Where is my order", ("where is my order",), ("order_id", "booking_ref")
    ),
    FlowInfo("book_table", "Book a table", ("book a table",), ("guest_name",)),
)
SLOTS = {s.name: s for s in (BOOKING_REF, ORDER_ID, GUEST)}


async def understood(text: str, **context: object) -> list[Command]:
    ctx = ConversationContext(flows=FLOWS, slot_types=SLOTS, today=TODAY, **context)  # type: ignore[arg-type]
    return await RulesUnderstanding().understand(text, ctx)


@pytest.mark.parametrize(
    ("said", "value"),
    [
        ("BK-1234", "BK-1234"),
        ("my code is BK-1234", "BK-1234"),
        ("it's BK-1234 I think", "BK-1234"),
        ("pls cancel booking BK-5678, something came up", "BK-5678"),
        ("the one from friday (BK-4321).", "BK-4321"),
        ("BK-1111 or maybe BK-2222", "BK-1111"),  # the first span
        ("BK 1234", "BK-1234"),  # a space typed for the dash: the same code
    ],
)
def test_the_span_the_pattern_matches_answers_the_question(said: str, value: str) -> None:
    assert answer(BOOKING_REF, said, TODAY) == value


@pytest.mark.parametrize("said", ["BK-12345", "XBK-1234", "bk-1234", "I don't have it", "BK 123"])
def test_no_span_that_matches_whole_is_no_answer(said: str) -> None:
    # A mistyped code is not cut to fit: the engine refuses it and asks again.
    assert answer(BOOKING_REF, said, TODAY) is None


def test_a_span_must_match_on_its_own_as_the_engine_checks_it() -> None:
    # The lookahead matches in the sentence, never on the value alone.
    picky = SlotInfo("ref", "string", pattern=re.compile(r"BK-\d{4}(?= please)"))
    assert answer(picky, "BK-1234 please", TODAY) is None


def test_an_anchored_pattern_takes_the_answer_without_the_words_that_carry_it() -> None:
    anchored = SlotInfo("ref", "string", pattern=re.compile(r"^BK-\d{4}$"))
    assert answer(anchored, "my code is BK-1234 please", TODAY) == "BK-1234"
    assert mention(anchored, "cancel booking BK-1234", TODAY) is None  # no span in a request


def test_a_pattern_replaces_the_guess_from_a_code_like_name() -> None:
    tracking = SlotInfo("tracking_number", "string", pattern=re.compile(r"[A-Z]{2}\d{7,9}[A-Z]{2}"))
    assert holds_a_code(SlotInfo("tracking_number", "string"))
    assert not holds_a_code(tracking)
    assert mention(tracking, "where is parcel PX4482913DE?", TODAY) == "PX4482913DE"
    # A code the name would have taken, but the pattern does not match.
    assert mention(SlotInfo("tracking_number", "string"), "where is XY-99881", TODAY) == "XY-99881"
    assert mention(tracking, "where is XY-99881", TODAY) is None


def test_a_pattern_that_takes_plain_words_gives_no_value_unasked() -> None:
    assert mention(GUEST, "book a table for tonight", TODAY) is None
    assert answer(GUEST, "Maria Lopez", TODAY) == "Maria Lopez"


async def test_a_request_carries_the_value_its_pattern_matches() -> None:
    assert await understood("pls cancel booking BK-5678, something came up") == [
        StartFlow("cancel_booking", {"booking_ref": "BK-5678"})
    ]
    assert await understood("I want to cancel my booking, it's BK-5678") == [
        StartFlow("cancel_booking", {"booking_ref": "BK-5678"})
    ]


async def test_a_span_a_pattern_took_is_not_given_to_a_slot_guessed_from_its_name() -> None:
    assert await understood("where is my order BK-5678") == [
        StartFlow("order_status", {"booking_ref": "BK-5678"})
    ]
    assert await understood("where is my order ZX-99881") == [
        StartFlow("order_status", {"order_id": "ZX-99881"})
    ]


async def test_the_open_question_takes_the_span_or_asks_again() -> None:
    asked = {"active_flow": "cancel_booking", "expected_slot": BOOKING_REF}
    assert await understood("hmm, my code is BK-1234 I think", **asked) == [
        SetSlot("booking_ref", "BK-1234")
    ]
    # Another flow's trigger words around the span do not make it a digression.
    assert await understood("where is my order BK-1234", **asked) == [
        SetSlot("booking_ref", "BK-1234")
    ]
    # Nothing the pattern matches: the text goes to the engine, which refuses it.
    assert await understood("BK-12", **asked) == [SetSlot("booking_ref", "BK-12")]
    assert await understood("what do you need from me?", **asked) == [Help()]


async def test_a_correction_at_the_confirmation_takes_the_span() -> None:
    pending = {
        "active_flow": "cancel_booking",
        "slots": {"booking_ref": "BK-1234"},
        "pending": PendingInfo("c1", ("cancel_it",)),
    }
    assert await understood("no, it's BK-9999", **pending) == [
        CorrectSlot("booking_ref", "BK-9999")
    ]
    assert await understood("oops, BK-9999 sorry", **pending) == [
        CorrectSlot("booking_ref", "BK-9999")
    ]
    assert await understood("no, leave it as it is", **pending) == [Deny()]
    assert await understood("no, bk-9999", **pending) == [Deny()]  # the pattern says no


async def test_a_correction_mid_flow_takes_the_span() -> None:
    filled = {"active_flow": "order_status", "slots": {"booking_ref": "BK-1234", "order_id": "A1"}}
    assert await understood("actually it's BK-2468", **filled) == [
        CorrectSlot("booking_ref", "BK-2468")
    ]


def test_the_llm_prompt_gives_the_pattern() -> None:
    ctx = ConversationContext(flows=FLOWS, slot_types=SLOTS, today=TODAY)
    prompt = system_prompt(ctx)
    assert (
        r"booking_ref (string; the value matches the regular expression BK-\d{4} whole)" in prompt
    )


async def test_a_pattern_that_takes_plain_words_still_takes_a_correction_it_matches() -> None:
    filled = {"active_flow": "book_table", "slots": {"guest_name": "Ana"}}
    assert await understood("actually Maria", **filled) == [CorrectSlot("guest_name", "Maria")]
    assert await understood("sorry, Maria Lopez", **filled) == [
        CorrectSlot("guest_name", "Maria Lopez")
    ]
    # Not what the pattern takes: no correction of the name.
    assert await understood("actually M4ria", **filled) == [OutOfScope("actually M4ria")]
