"""Requests typed as people type them: shorthand, a polite frame, help in many words,
giving up in a sentence, counts and days said in words."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from soni.nlu import CancelFlow, CorrectSlot, Deny, Help, OutOfScope, SetSlot, StartFlow
from soni.nlu._text import chat_spelled_out, find_numbers
from soni.nlu._values import answer
from soni.nlu.protocol import SlotInfo
from soni.nlu.units import unit_words

from .test_rules import TODAY as RULES_TODAY
from .test_rules import context, understand

TODAY = dt.date(2026, 12, 6)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("rsrv table 2ppl tmrw", "reserve table 2 people tomorrow"),
        ("pw reset pls", "password reset please"),
        ("can u check my acct", "can you check my account"),
        ("nvm", "never mind"),
        # Names, codes and capitals are left alone.
        ("My name is Ty Burrell", "My name is Ty Burrell"),
        ("PW-1234", "PW-1234"),
        ("U2 tickets", "U2 tickets"),
    ],
)
def test_chat_shorthand_reads_as_the_words_it_stands_for(typed: str, meant: str) -> None:
    assert chat_spelled_out(typed) == meant


def test_a_request_in_shorthand_starts_its_flow_with_its_values() -> None:
    assert understand("order 2 packs of advil tmrw pls") == [
        StartFlow(
            "refill",
            {
                "medication": "ibuprofen",
                "quantity": 2,
                "pickup_date": (RULES_TODAY + dt.timedelta(days=1)).isoformat(),
            },
        )
    ]


@pytest.mark.parametrize(
    "text",
    [
        "could you please help me check my balanse",
        "I would like to check my balanse",
        "hello, can I chek my balance",
    ],
)
def test_a_polite_frame_does_not_hide_a_misspelt_request(text: str) -> None:
    assert understand(text) == [StartFlow("check_balance", {})]


@pytest.mark.parametrize(
    "text",
    [
        "what kind of things can you help with?",
        "what can I ask you?",
        "I'm not sure, what are the options?",
    ],
)
def test_help_asked_in_more_words_is_help(text: str) -> None:
    assert understand(text) == [Help()]


def test_help_with_a_task_is_the_task() -> None:
    assert understand("can you help me send money") == [StartFlow("transfer_funds", {})]


@pytest.mark.parametrize(
    "text",
    [
        "I don't want to send it anymore",
        "ok stop, I'll find it myself",
        "I no longer need this",
    ],
)
def test_giving_up_in_a_sentence_at_an_open_question_cancels(text: str) -> None:
    at = understand(text, context("transfer_funds", "beneficiary"))
    assert at == [CancelFlow()]


def test_a_name_that_is_not_giving_up_is_an_answer() -> None:
    at = understand("Anna Moore", context("transfer_funds", "beneficiary"))
    assert at == [SetSlot("beneficiary", "Anna Moore")]


@pytest.mark.parametrize(("said", "count"), [("a couple", 2), ("a pair", 2), ("a dozen", 12)])
def test_a_couple_is_two(said: str, count: int) -> None:
    assert [n.value for n in find_numbers(said)] == [count]


@pytest.mark.parametrize(
    ("said", "day"),
    [
        ("a week from today", "2026-12-13"),
        ("two weeks from tomorrow", "2026-12-21"),
        ("3 days from now", "2026-12-09"),
    ],
)
def test_days_counted_from_today(said: str, day: str) -> None:
    assert answer(SlotInfo("day", "date"), said, TODAY) == day


@pytest.mark.parametrize(
    ("said", "value"),
    [("about two and a half kilos", 2.5), ("half a kilo", 0.5), ("1 and a half", 1.5)],
)
def test_halves_in_words(said: str, value: float) -> None:
    assert [n.value for n in find_numbers(said)] == [value]


@pytest.mark.parametrize(("said", "day"), [("saturdy", "2026-12-12"), ("wensday", "2026-12-09")])
def test_a_misspelt_day_is_that_day(said: str, day: str) -> None:
    assert answer(SlotInfo("day", "date"), said, TODAY) == day
    assert answer(SlotInfo("day", "date"), "money", TODAY) is None  # no day is near it


@pytest.mark.parametrize("text", ["lol idk", "no idea", "not sure tbh", "I forgot"])
def test_not_knowing_is_no_answer(text: str) -> None:
    at = understand(text, context("transfer_funds", "beneficiary"))
    assert [c.kind for c in at] == ["out_of_scope"]


def test_a_named_correction_drops_what_it_says_not_to() -> None:
    filled = {"beneficiary": "Ann", "amount": 50.0, "iban": "DE89370400440532013000"}
    at = understand(
        "oops, the beneficiary is Maria Lopez, not Ann",
        context("transfer_funds", slots=filled, pending=["execute_transfer"]),
    )
    assert at == [CorrectSlot("beneficiary", "Maria Lopez")]


def test_asking_for_a_choice_one_flow_offers_starts_it() -> None:
    assert understand("could I get some tylenol") == [
        StartFlow("refill", {"medication": "paracetamol"})
    ]
    assert understand("tylenol is a brand") == [OutOfScope("tylenol is a brand")]


@pytest.mark.parametrize(
    "text",
    [
        "ugh never mind, I'll ask my brother",
        "hmm I don't have the details with me, stop",
        "oh wait it's sorted now, forget it",
        "ugh that's more than I thought. cancel please",
    ],
)
def test_a_way_of_cancelling_first_or_last_in_the_message_cancels(text: str) -> None:
    assert understand(text, context("transfer_funds", "beneficiary")) == [CancelFlow()]


@pytest.mark.parametrize(
    ("said", "value"),
    [
        ("nobody's hurt", False),
        ("thankfully no", False),
        ("not that I know of", False),
        ("there's a baby monitor but nothing medical", False),
        ("definitely", True),
        ("keep my current one pls", True),
        ("my cat", None),
    ],
)
def test_yes_and_no_in_words(said: str, value: bool | None) -> None:
    assert answer(SlotInfo("anyone_hurt", "boolean"), chat_spelled_out(said), TODAY) is value


@pytest.mark.parametrize(
    "text",
    ["where do I even find my IBAN?", "what exactly do you need from me now?", "help, what now??"],
)
def test_being_lost_at_a_question_is_help(text: str) -> None:
    assert understand(text, context("transfer_funds", "iban")) == [Help()]


def test_a_question_after_a_lead_clause_at_an_open_question_is_a_digression() -> None:
    at = understand(
        "before that - can I check my balance?", context("transfer_funds", "beneficiary")
    )
    assert at == [StartFlow("check_balance", {})]


@pytest.mark.parametrize(
    "text", ["hmm that's more than I expected, no, leave it for now", "ok. no. not today"]
)
def test_a_bare_no_as_a_later_clause_is_a_no(text: str) -> None:
    filled = {"beneficiary": "Ann", "amount": 50.0, "iban": "DE89370400440532013000"}
    at = understand(text, context("transfer_funds", slots=filled, pending=["execute_transfer"]))
    assert at == [Deny()]


@pytest.mark.parametrize("text", ["hmm, let me check first, cancel for now", "forget the transfer"])
def test_stopping_for_now_cancels(text: str) -> None:
    assert understand(text, context("transfer_funds", "beneficiary")) == [CancelFlow()]


def test_me_and_two_friends_are_three() -> None:
    size = SlotInfo("people", "integer", words=unit_words("people", "How many people?"))
    assert answer(size, "me and two friends", TODAY) == 3


def test_a_trigger_that_has_the_polite_frame_keeps_its_value() -> None:
    from soni.nlu import ConversationContext, FlowInfo
    from soni.nlu.rules import RulesUnderstanding

    flows = (
        FlowInfo("order", "order something", ("order something", "i want to order {item}"), ()),
    )
    ctx = ConversationContext(
        flows=flows, slot_types={"item": SlotInfo("item", "string")}, today=TODAY
    )
    said = asyncio.run(RulesUnderstanding().understand("i want to order tea", ctx))
    assert said == [StartFlow("order", {"item": "tea"})]
