"""At a question before an irreversible action, a refusal is always a no.

Whatever words come with the no — lead-ins ("hmm", "wait"), the rest of the sentence
("leave it as it is", "don't do that") — a refusal never approves and never becomes a
slot's new value (which would ask again with those words inside the question). A "no,
…" corrects only with a real value for one of the action's slots ("no, to Bob", "no, the
amount is 40"), and a yes stays a yes behind its lead-ins.
"""

from __future__ import annotations

import itertools

import pytest

from soni.nlu import Affirm, AskDecision, CancelFlow, Choose, CorrectSlot, Deny

from .test_rules import context, understand

FILLED = {"beneficiary": "Ann", "amount": 50.0, "iban": "DE89370400440532013000"}
LEAD_INS = ("", "hmm, ", "wait ", "oh, ", "actually, ", "sorry, ", "uh no ")
CORES = ("no", "nope", "nah", "no no", "no thanks")
TRAILERS = (
    "",
    ", leave it as it is",
    ", don't do that",
    ", forget it actually",
    ", not now",
    " I changed my mind",
    ", keep everything as it was",
    ", that's not what I want",
    ", I need to think about it",
)
SENTENCES = ("I don't want that", "please don't send it", "I'd rather not", "I won't do it now")
REFUSALS = [f"{lead}{core}{trail}" for lead, core, trail in itertools.product(
    LEAD_INS, CORES, TRAILERS
)] + list(SENTENCES)  # fmt: skip


def at_the_confirmation(text: str) -> list[object]:
    return understand(text, context("transfer_funds", slots=FILLED, pending=["execute_transfer"]))


@pytest.mark.parametrize("text", REFUSALS)
def test_a_refusal_with_any_words_around_it_is_a_no(text: str) -> None:
    # Stopping the whole task is as safe as skipping the action: nothing runs.
    assert at_the_confirmation(text) in ([Deny()], [CancelFlow()])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no, to Bob", CorrectSlot("beneficiary", "Bob")),
        ("no, to bob", CorrectSlot("beneficiary", "bob")),
        ("no, Maria Lopez", CorrectSlot("beneficiary", "Maria Lopez")),
        ("no, the amount is 40", CorrectSlot("amount", 40)),
        ("hmm no, make it 40 euros", CorrectSlot("amount", 40)),
        ("no, DE02120300000000202051", CorrectSlot("iban", "DE02120300000000202051")),
    ],
)
def test_a_no_with_a_real_value_for_a_slot_corrects_it(text: str, expected: object) -> None:
    assert at_the_confirmation(text) == [expected]


@pytest.mark.parametrize("text", ["hmm, yes", "oh wait, yes go ahead", "ok so do it", "sorry, yes"])
def test_a_yes_behind_a_lead_in_is_a_yes(text: str) -> None:
    assert at_the_confirmation(text) == [Affirm()]


@pytest.mark.parametrize("text", ["wait, I don't want that", "actually leave it"])
def test_outside_a_confirmation_a_refusal_never_fills_a_slot_with_its_words(text: str) -> None:
    # Collecting the IBAN with the name and amount filled: no free-text correction.
    answered = understand(text, context("transfer_funds", "iban", FILLED))
    assert not any(isinstance(c, CorrectSlot) for c in answered)


@pytest.mark.parametrize(
    "text", ["no, the amount is wrong", "no, change the amount", "hmm the amount is wrong"]
)
def test_a_no_about_a_value_without_a_new_one_asks_skip_or_change(text: str) -> None:
    # Not sure whether to skip or to change: ask, never guess either way.
    assert at_the_confirmation(text) == [AskDecision()]


@pytest.mark.parametrize(
    "text", ["no the beneficiary is wrong", "the iban is incorrect", "no, the amount is a mistake"]
)
def test_wrong_is_no_new_value_for_the_slot_it_is_said_of(text: str) -> None:
    # "wrong" is what the user thinks of the value, never the value itself.
    assert at_the_confirmation(text) == [AskDecision()]


def test_a_no_about_a_value_the_flow_looked_up_asks_too() -> None:
    # The booking's date came from a look-up, not from a question: still the user's
    # reason to hesitate, so the bot asks whether to skip or change.
    looked_up = {**FILLED, "booked_date": "2026-12-19"}
    got = understand(
        "no, the date is wrong",
        context("transfer_funds", slots=looked_up, pending=["execute_transfer"]),
    )
    assert got == [AskDecision()]


@pytest.mark.parametrize(
    "text", ["no i said", "no, I said!", "no is what i meant", "nada", "nobody", "nope"]
)
def test_a_refusal_said_again_changes_no_count(text: str) -> None:
    # "none", "nope" are 0 when asked how many — never a new count at a confirmation.
    filled = {"medication": "ibuprofen", "quantity": 2, "pickup": "pharmacy"}
    got = understand(text, context("refill", slots=filled, pending=["place_refill"]))
    assert not any(isinstance(c, CorrectSlot) for c in got), got


@pytest.mark.parametrize("text", ["the 4", "at 5", "for 2", "it's 2 too many", "the standard one"])
def test_a_number_inside_other_words_changes_nothing_at_a_confirmation(text: str) -> None:
    assert not any(isinstance(c, CorrectSlot) for c in at_the_confirmation(text))


@pytest.mark.parametrize(
    "text",
    [
        "middle? no",
        "the middle one was a mistake",
        "anything but the middle one",
        "the middle one, no wait",
        "7am? no",
        "the 7am one is wrong",
        "late? no",
    ],
)
def test_an_option_said_with_a_no_is_not_picked(text: str) -> None:
    from soni.nlu import Choose, PendingInfo
    from soni.nlu.rules import RulesUnderstanding

    flights = ("early", "mid", "late")
    labels = {"early": "07:15 early flight", "mid": "14:30 midday flight", "late": "20:45 late"}
    asked = context("refill", slots={"medication": "ibuprofen"})
    pending = PendingInfo("c-9", flights, labels)
    import asyncio
    from dataclasses import replace

    got = asyncio.run(RulesUnderstanding().understand(text, replace(asked, pending=pending)))
    assert not any(isinstance(c, Choose) for c in got), got


def test_a_no_does_not_pick_an_option_named_no() -> None:
    import asyncio
    from dataclasses import replace

    from soni.nlu import PendingInfo
    from soni.nlu.rules import RulesUnderstanding

    asked = replace(
        context("refill", slots={"medication": "ibuprofen"}),
        pending=PendingInfo("c-10", ("keep_yes", "refund_no"), {}),
    )
    assert asyncio.run(RulesUnderstanding().understand("no", asked)) == [Deny()]


@pytest.mark.parametrize(
    "text",
    [
        "change it to the 1st of march",
        "make it the 2nd",
        "the first of march",
        "change it to friday",
        "send it on the 3rd instead",
    ],
)
def test_a_change_at_a_question_never_approves_the_one_action(text: str) -> None:
    # "1st" is no pick of the first (and only) option; "change" is no name of
    # "change_…": a value or a change asked for is never a yes.
    filled = {"medication": "ibuprofen", "quantity": 2, "pickup_date": "2026-11-25"}
    got = understand(text, context("refill", slots=filled, pending=["change_pickup"]))
    assert Affirm() not in got, got


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ok, actually cancel it", [CancelFlow()]),  # a change of mind: nothing runs
        ("ok wait, cancel", [CancelFlow()]),
        ("sure. actually no", [Deny()]),
        ("yes. change it to 40", [CorrectSlot("amount", 40)]),
    ],
)
def test_a_yes_taken_back_in_the_same_message_is_not_a_yes(text: str, expected: object) -> None:
    assert at_the_confirmation(text) == expected


def test_yes_cancel_it_approves_an_action_that_cancels() -> None:
    # At "Cancel booking BK-1?", "yes cancel it" is the yes, not calling the flow off.
    got = understand("yes cancel it", context("refill", slots={}, pending=["cancel_booking"]))
    assert got == [Affirm()]


@pytest.mark.parametrize(
    "text",
    ["40 euros, yes execute the transfer", "I'm busy on friday", "friday is bad for me", "1"],
)
def test_a_value_said_with_a_yes_or_against_a_day_neither_approves_nor_changes(
    text: str,
) -> None:
    got = at_the_confirmation(text)
    assert Affirm() not in got and not any(isinstance(c, CorrectSlot) for c in got), got


@pytest.mark.parametrize(
    ("text", "action"),
    [("yes skip it", "skip_visit"), ("ok, cancel it anyway", "cancel_booking")],
)
def test_a_yes_with_the_actions_own_verb_approves_it(text: str, action: str) -> None:
    assert understand(text, context("refill", slots={}, pending=[action])) == [Affirm()]


def test_the_same_words_at_another_action_are_a_no() -> None:
    # "skip" says no to a transfer; only "Skip your visit?" takes it as its yes.
    assert at_the_confirmation("yes skip it") == [Deny()]


# -- keeping, at a choice of what to undo -----------------------------------------

UNDOING = ["cancel_appointment.1", "cancel_appointment.2"]
REFS = {"cancel_appointment.1": "DN-1001", "cancel_appointment.2": "DN-1002"}


@pytest.mark.parametrize(
    "text",
    ["no, keep DN-1001", "leave 1002 alone", "I want to keep the first one", "keep the second"],
)
def test_keeping_one_of_what_would_be_undone_is_no_pick(text: str) -> None:
    at_choice = context("transfer_funds", pending=UNDOING, labels=REFS)
    assert understand(text, at_choice) == [Deny()]


def test_keeping_picks_an_option_that_is_itself_about_keeping() -> None:
    offers = ["delete_file", "keep_file"]
    labels = {"delete_file": "Delete it", "keep_file": "Keep it for now"}
    assert understand(
        "keep it for now", context("transfer_funds", pending=offers, labels=labels)
    ) == [Choose("keep_file")]


def test_an_option_typed_by_its_own_name_is_chosen() -> None:
    at_choice = context("transfer_funds", pending=UNDOING, labels=REFS)
    assert understand("cancel_appointment.2", at_choice) == [Choose("cancel_appointment.2")]
