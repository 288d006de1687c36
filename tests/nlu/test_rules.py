"""The rule-based understanding on the messages the issue names, and on odd input."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soni.nlu import (
    Affirm,
    CancelFlow,
    Choose,
    Clarify,
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
from soni.nlu.rules import RulesSettings, RulesUnderstanding

TODAY = dt.date(2026, 11, 23)  # a Monday

SLOTS = {
    "medication": SlotInfo(
        "medication",
        "choice",
        {
            "ibuprofen": ["advil", "nurofen", "motrin"],
            "paracetamol": ["tylenol", "panadol", "acetaminophen"],
        },
    ),
    "quantity": SlotInfo("quantity", "integer"),
    "pickup": SlotInfo(
        "pickup",
        "choice",
        {"pharmacy": ["the pharmacy", "in store"], "airport kiosk": ["airport"]},
    ),
    "pickup_date": SlotInfo("pickup_date", "date"),
    "amount": SlotInfo("amount", "float"),
    "beneficiary": SlotInfo("beneficiary", "string"),
    "iban": SlotInfo("iban", "string"),
    "email": SlotInfo("email", "email"),
    "express": SlotInfo("express", "boolean"),
    "contact": SlotInfo("contact", "string", validator="phone"),
}
FLOWS = (
    FlowInfo(
        "refill",
        "refill a prescription",
        ("I need more {medication}", "order {quantity} packs of {medication}", "refill"),
        ("medication", "quantity", "pickup", "pickup_date"),
    ),
    FlowInfo(
        "transfer_funds",
        "send money",
        ("send money", "transfer money", "send {amount} to {beneficiary}", "make a transfer"),
        ("beneficiary", "amount", "iban"),
    ),
    FlowInfo("check_balance", "check a balance", ("check my balance", "balance"), ()),
    FlowInfo("order_status", "where is my order", ("order status", "track my order"), ()),
    FlowInfo("order_history", "past orders", ("order history", "my past orders"), ()),
)


def context(
    flow: str | None = None,
    expecting: str | None = None,
    slots: Mapping[str, Any] | None = None,
    pending: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> ConversationContext:
    return ConversationContext(
        active_flow=flow,
        expected_slot=SLOTS[expecting] if expecting else None,
        slots=dict(slots or {}),
        pending=PendingInfo("c-1", tuple(pending), dict(labels or {})) if pending else None,
        flows=FLOWS,
        slot_types=SLOTS,
        today=TODAY,
    )


def understand(text: str, ctx: ConversationContext | None = None) -> list[Any]:
    return asyncio.run(RulesUnderstanding().understand(text, ctx or context()))


# -- the issue's own examples -------------------------------------------------------


def test_a_request_with_a_synonym_starts_the_flow_with_the_value() -> None:
    assert understand("I need more advil") == [StartFlow("refill", {"medication": "ibuprofen"})]


def test_an_answer_with_extra_words_fills_the_quantity() -> None:
    assert understand("2 packs please", context("refill", "quantity")) == [SetSlot("quantity", 2)]


def test_yes_go_ahead_approves() -> None:
    assert understand("yes, go ahead", context("refill", pending=["place_refill"])) == [Affirm()]


def test_actually_make_it_five_corrects_the_filled_quantity() -> None:
    filled = {"medication": "ibuprofen", "quantity": 2}
    assert understand("actually make it 5", context("refill", "pickup", filled)) == [
        CorrectSlot("quantity", 5)
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("actually 3 guests", CorrectSlot("guests", 3)),
        ("no, three guests", CorrectSlot("guests", 3)),
        ("make it 2 rooms", CorrectSlot("rooms", 2)),
        ("actually 4", CorrectSlot("rooms", 4)),  # no slot named: the last one asked
    ],
)
def test_a_correction_naming_its_slot_goes_to_that_slot(text: str, expected: Any) -> None:
    counts = {"guests": SlotInfo("guests", "integer"), "rooms": SlotInfo("rooms", "integer")}
    book = FlowInfo("book_hotel", "book a room", ("book a room",), ("guests", "rooms"))
    booking = ConversationContext(
        active_flow="book_hotel",
        expected_slot=None,
        slots={"guests": 2, "rooms": 1},
        pending=None,
        flows=(*FLOWS, book),
        slot_types={**SLOTS, **counts},
        today=TODAY,
    )
    assert understand(text, booking) == [expected]


def test_never_mind_cancels() -> None:
    assert understand("never mind", context("refill", "quantity")) == [CancelFlow()]


# -- flows ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["I want to send money", "tranfser money", "money send", "um could you send some money pls"],
)
def test_triggers_forgive_typos_word_order_and_filler(text: str) -> None:
    assert understand(text) == [StartFlow("transfer_funds", {})]


def test_placeholders_take_values_of_their_slot_types() -> None:
    assert understand("Could you order two packs of nurofen") == [
        StartFlow("refill", {"quantity": 2, "medication": "ibuprofen"})
    ]
    assert understand("send 50 euros to Bob Smith") == [
        StartFlow("transfer_funds", {"amount": 50, "beneficiary": "Bob Smith"})
    ]


def test_values_of_the_flows_other_slots_are_taken_along() -> None:
    assert understand("I need more tylenol for the airport tomorrow") == [
        StartFlow(
            "refill",
            {"medication": "paracetamol", "pickup": "airport kiosk", "pickup_date": "2026-11-24"},
        )
    ]


def test_two_flows_about_as_close_are_a_clarification() -> None:
    (command,) = understand("order")
    assert isinstance(command, Clarify)
    assert set(command.candidates) >= {"order_status", "order_history"}


def test_help_and_nonsense() -> None:
    assert understand("what can you do?") == [Help()]
    assert understand("asdf qwerty zxcv") == [OutOfScope("asdf qwerty zxcv")]


@pytest.mark.parametrize(
    "text",
    [
        "what can this bot do?",
        "how do I use this thing",
        "hello? what is this bot for",  # a greeting, then a way of asking for help
        "halp, how does this thing work",  # two ways of asking, one misspelt
    ],
)
def test_ways_of_asking_what_the_bot_does_are_help(text: str) -> None:
    assert understand(text) == [Help()]


@pytest.mark.parametrize(
    "text",
    [
        "sorry what do you mean, what are my options?",
        "why do you need that?",
        "sorry I don't get what you're asking",
        "help, what am I supposed to pick here?",
    ],
)
def test_asking_what_the_question_wants_is_help_not_an_answer(text: str) -> None:
    asked = context("refill", expecting="pickup", slots={"medication": "ibuprofen"})
    assert understand(text, asked) == [Help()]


@pytest.mark.parametrize(
    "text", ["that's correct", "That is correct, thank you.", "go on then", "ya", "spot on"]
)
def test_acceptances_in_other_words(text: str) -> None:
    assert understand(text, context("refill", pending=["place_refill"])) == [Affirm()]


# -- answers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "slot", "value"),
    [
        ("twenty five", "quantity", 25),
        ("a dozen please", "quantity", 12),
        ("€30", "amount", 30),
        ("1,250.50 euros", "amount", 1250.5),
        ("tomorrow", "pickup_date", "2026-11-24"),
        ("next friday", "pickup_date", "2026-11-27"),
        ("on the 5th of december", "pickup_date", "2026-12-05"),
        ("the airport one", "pickup", "airport kiosk"),
        ("ibuprofin", "medication", "ibuprofen"),
        ("it's ana@example.com", "email", "ana@example.com"),
        ("yes please", "express", True),
        ("to Bob Smith please", "beneficiary", "Bob Smith"),
        ("call me on +34 600 123 456 please", "contact", "+34 600 123 456"),
        ("(555) 010-4477", "contact", "(555) 010-4477"),
    ],
)
def test_answers_are_read_by_the_slot_type(text: str, slot: str, value: Any) -> None:
    flow = "transfer_funds" if slot in ("amount", "beneficiary") else "refill"
    assert understand(text, context(flow, slot)) == [SetSlot(slot, value)]


def test_an_answer_without_a_value_of_its_type_is_handed_on_for_the_bot_to_reject() -> None:
    # The bot answers with the slot's validation message and asks again.
    assert understand("lots", context("refill", "quantity")) == [SetSlot("quantity", "lots")]
    assert understand("asdf", context("refill", "medication")) == [SetSlot("medication", "asdf")]


def test_a_clear_request_while_a_question_is_open_is_a_digression() -> None:
    assert understand("check my balance", context("transfer_funds", "beneficiary")) == [
        StartFlow("check_balance", {})
    ]
    # …but an answer that only shares a word with a trigger is an answer.
    assert understand("Balance Partners Ltd", context("transfer_funds", "beneficiary")) == [
        SetSlot("beneficiary", "Balance Partners Ltd")
    ]


# -- confirmations and corrections --------------------------------------------------


OFFER = ["archive_file", "delete_file", "share_file"]
LABELS = {"archive_file": "Archive it", "share_file": "Share with the team"}


@pytest.mark.parametrize(
    ("text", "option"),
    [
        ("the second one", "delete_file"),
        ("option 3", "share_file"),
        ("the last one", "share_file"),
        ("archive it please", "archive_file"),
        ("delete", "delete_file"),
        ("share it with the team", "share_file"),
    ],
)
def test_an_option_is_chosen_by_ordinal_name_or_label(text: str, option: str) -> None:
    assert understand(text, context("tidy", pending=OFFER, labels=LABELS)) == [Choose(option)]


@pytest.mark.parametrize("text", ["nope", "not now", "no thanks", "don't", "skip it"])
def test_refusals(text: str) -> None:
    assert understand(text, context("refill", pending=["place_refill"])) == [Deny()]


def test_no_followed_by_a_value_is_a_correction_not_a_refusal() -> None:
    filled = {"beneficiary": "Bob", "amount": 50, "iban": "DE89370400440532013000"}
    ctx = context("transfer_funds", slots=filled, pending=["execute_transfer"])
    assert understand("no, to Alice", ctx) == [CorrectSlot("beneficiary", "Alice")]


def test_change_the_date_names_the_slot() -> None:
    filled = {"medication": "ibuprofen", "quantity": 2, "pickup_date": "2026-11-24"}
    assert understand("change the date to friday", context("refill", "pickup", filled)) == [
        CorrectSlot("pickup_date", "2026-11-27")
    ]


# -- settings and robustness --------------------------------------------------------


def test_a_bot_can_add_its_own_phrases_and_thresholds() -> None:
    tuned = RulesUnderstanding(
        RulesSettings.from_settings({"affirm": ["make it so"], "trigger_threshold": "95"})
    )
    ctx = context("refill", pending=["place_refill"])
    assert asyncio.run(tuned.understand("make it so", ctx)) == [Affirm()]
    assert tuned.settings.trigger_threshold == 95.0


@pytest.mark.parametrize(
    "nlu",
    [
        {"trigger_threshold": "high"},
        {"trigger_threshold": True},  # not 1, as the llm engine's numbers read it
        {"clarify_margin": 300},
        {"affirm": "yes"},
    ],
)
def test_bad_settings_are_refused_with_the_key(nlu: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(nlu))):
        RulesSettings.from_settings(nlu)


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(max_size=200),
    expecting=st.sampled_from([None, *SLOTS]),
    pending=st.sampled_from([None, ["place_refill"], OFFER]),
)
@pytest.mark.slow  # hundreds of generated examples
def test_any_text_in_any_context_gives_commands_and_never_raises(
    text: str, expecting: str | None, pending: list[str] | None
) -> None:
    filled = {"quantity": 2, "beneficiary": "Bob"}
    # The rules themselves: ``understand`` turns any exception into OutOfScope, so
    # through it this test would pass whatever a rule raised.
    rules = RulesUnderstanding()
    commands = rules._understand(text, context("refill", expecting, filled, pending, LABELS))
    assert commands
    assert all(hasattr(c, "kind") for c in commands)
