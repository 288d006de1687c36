"""Calling the task off in a sentence: the reason first, then "cancel the booking".

A last clause that calls the task off in so many words stops the flow at a question
too (nothing runs), unless the action asked about is itself a cancelling, where the same
words may be the yes. A "never mind," set apart by its punctuation cancels whatever
reason follows it. A no first stays the no.
"""

from __future__ import annotations

import pytest

from soni.nlu import CancelFlow, Deny, SetSlot

from .test_rules import context, understand

FILLED = {"beneficiary": "Ann", "amount": 50.0, "iban": "DE89370400440532013000"}


@pytest.mark.parametrize(
    "text",
    [
        "meh, not my thing. cancel the whole booking",
        "hang on, the sale might fall through, cancel that for now",
        "oh hold on, it's working again, cancel the visit",
        "I've found the money elsewhere - scrap the transfer",
        "wait, wrong account; just cancel it",
    ],
)
def test_a_last_clause_that_calls_it_off_stops_the_flow_at_a_question(text: str) -> None:
    at_question = context("transfer_funds", slots=FILLED, pending=["execute_transfer"])
    assert understand(text, at_question) == [CancelFlow()]


@pytest.mark.parametrize(
    "text", ["nah 120 is too expensive, forget it", "no, that's too much, cancel it"]
)
def test_a_no_first_stays_the_no(text: str) -> None:
    at_question = context("transfer_funds", slots=FILLED, pending=["execute_transfer"])
    assert understand(text, at_question) == [Deny()]


def test_at_a_cancelling_action_the_same_words_are_not_taken_as_calling_it_off() -> None:
    # "Cancel the order?" — "ugh fine, cancel the order" is no reason to stop the flow
    # that asks it; whatever it is read as, it does not call the flow off.
    at_cancel = context("transfer_funds", slots=FILLED, pending=["cancel_transfer"])
    assert understand("ugh, fine. cancel the transfer", at_cancel) != [CancelFlow()]


@pytest.mark.parametrize(
    "text",
    [
        "never mind, I don't have the card on me, I'll do it later, sorry about that",
        "forget it, I will call the branch tomorrow morning instead of doing this here",
    ],
)
def test_never_mind_set_apart_cancels_whatever_reason_follows(text: str) -> None:
    assert understand(text, context("refill", "medication")) == [CancelFlow()]


def test_a_value_after_a_comma_is_not_a_calling_off() -> None:
    # Only the words that call the task off: "cancel" inside a value does not.
    assert understand("the cancel button, it's broken", context("refill", "medication")) != [
        CancelFlow()
    ]
    assert understand("2", context("refill", "quantity")) == [SetSlot("quantity", 2)]
