"""Times as people say them: answers, mentions in a request, corrections by type.

A restaurant booking with a party size (integer), a date and a time: "2pm suits me"
answers "What time?", "book a table for 4 at 8pm" brings the time along, "actually
5pm instead" moves the time and "make it friday" the date; "7:30" is never 7 people.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from soni.nlu import CorrectSlot, SetSlot, StartFlow
from soni.nlu._values import answer, mention
from soni.nlu.protocol import ConversationContext, FlowInfo, SlotInfo
from soni.nlu.rules import RulesUnderstanding
from soni.nlu.units import day_half_words, unit_words

TODAY = dt.date(2026, 12, 6)  # a Sunday
TIME = SlotInfo("booking_time", "time")
WHEN = SlotInfo("appointment", "datetime")
PEOPLE = SlotInfo("party_size", "integer", words=unit_words("party_size", "How many people?"))
DATE = SlotInfo("booking_date", "date")
SLOTS = {s.name: s for s in (TIME, PEOPLE, DATE)}
BOOK = FlowInfo(
    "book_table",
    "book a table",
    ("book a table", "reserve a table", "table for {party_size}"),
    ("party_size", "booking_date", "booking_time"),
)


def context(
    expected: SlotInfo | None = None, slots: dict[str, Any] | None = None
) -> ConversationContext:
    return ConversationContext(
        active_flow="book_table" if expected is not None or slots else None,
        expected_slot=expected,
        slots=slots or {},
        flows=(BOOK,),
        slot_types=SLOTS,
        today=TODAY,
    )


async def understand(text: str, ctx: ConversationContext) -> list[Any]:
    return await RulesUnderstanding().understand(text, ctx)


@pytest.mark.parametrize(
    ("said", "value"),
    [
        ("2pm", "14:00"),
        ("14:30", "14:30"),
        ("2.30pm", "14:30"),
        ("2:30 p.m.", "14:30"),
        ("half past two", "14:30"),
        ("quarter to eight", "07:45"),
        ("a quarter to eight tonight", "19:45"),
        ("twenty past six", "18:20"),
        ("noon", "12:00"),
        ("midnight", "00:00"),
        ("2pm suits me", "14:00"),
        ("at 7 tonight", "19:00"),
        ("7:30", "07:30"),
        ("7:30 in the evening", "19:30"),
        ("07:30", "07:30"),
        ("eight o'clock", "08:00"),
        ("seven thirty pm", "19:30"),
        ("19", "19:00"),
        ("8 please", "08:00"),
        ("4", "16:00"),  # an hour from 1 to 6 without more is in the afternoon
    ],
)
def test_a_time_answers_what_time(said: str, value: str) -> None:
    assert answer(TIME, said, TODAY) == value


@pytest.mark.parametrize("said", ["asap", "whenever", "at the bar", "25:00", "for 4 people"])
def test_what_is_no_time_answers_nothing(said: str) -> None:
    assert answer(TIME, said, TODAY) is None


def test_the_prompt_says_which_half_of_the_day_a_bare_hour_is() -> None:
    evening = SlotInfo("booking_time", "time", words=day_half_words("What time this evening?"))
    assert answer(evening, "8", TODAY) == "20:00"
    assert answer(evening, "at 8", TODAY) == "20:00"
    assert answer(evening, "8 in the morning", TODAY) == "08:00"
    assert answer(TIME, "8", TODAY) == "08:00"


@pytest.mark.parametrize(
    ("said", "value"),
    [
        ("book a table for 4 at 8pm", "20:00"),
        ("a table at 8 tonight", "20:00"),
        ("table at half past seven please", "07:30"),
        ("a table for two at 19:30", "19:30"),
        ("a table at noon", "12:00"),
    ],
)
def test_a_time_in_a_request_is_mentioned(said: str, value: str) -> None:
    assert mention(TIME, said, TODAY) == value


@pytest.mark.parametrize(
    "said", ["book a table for 4", "look at 5 stores", "it costs 2.50", "ten to twelve people"]
)
def test_numbers_that_are_no_time_are_not_mentioned_as_one(said: str) -> None:
    assert mention(TIME, said, TODAY) is None


@pytest.mark.parametrize("said", ["7:30", "8pm", "half past seven", "at 19:30 please"])
def test_a_time_is_never_read_as_a_count(said: str) -> None:
    assert answer(PEOPLE, said, TODAY) is None


def test_a_count_said_with_a_time_is_the_count() -> None:
    assert answer(PEOPLE, "for 4 at 8pm", TODAY) == 4
    assert answer(PEOPLE, "4 people at 7:30", TODAY) == 4
    assert answer(PEOPLE, "ten to twelve people", TODAY) == 10  # a range, not 11:50


def test_a_time_is_no_day() -> None:
    assert answer(DATE, "7:30", TODAY) is None
    assert answer(DATE, "5pm", TODAY) is None
    assert answer(DATE, "tomorrow at 8pm", TODAY) == "2026-12-07"


@pytest.mark.parametrize(
    ("said", "value"),
    [
        ("tomorrow at 2pm", "2026-12-07T14:00"),
        ("at 7 tonight", "2026-12-06T19:00"),
        ("friday at half past seven in the evening", "2026-12-11T19:30"),
        ("2026-12-09 14:30", "2026-12-09T14:30"),
    ],
)
def test_a_date_and_time_answers_when(said: str, value: str) -> None:
    assert answer(WHEN, said, TODAY) == value


def test_a_date_and_time_without_a_time_is_no_answer() -> None:
    assert answer(WHEN, "next monday", TODAY) is None


def test_a_new_day_or_time_keeps_the_other_part() -> None:
    held = dt.datetime(2026, 12, 7, 14, 0)
    assert answer(WHEN, "friday", TODAY, held) == "2026-12-11T14:00"
    assert answer(WHEN, "5pm", TODAY, held) == "2026-12-07T17:00"


async def test_a_time_answers_the_open_question_with_words_around_it() -> None:
    got = await understand("2pm suits me", context(TIME, {"party_size": 4}))
    assert got == [SetSlot("booking_time", "14:00")]


@pytest.mark.parametrize(
    ("said", "slots"),
    [
        ("book a table at 8pm", {"booking_time": "20:00"}),
        ("book a table for 4 people at 8pm", {"party_size": 4, "booking_time": "20:00"}),
        ("table for 4 at 8pm", {"party_size": 4, "booking_time": "20:00"}),
        (
            "reserve a table for tomorrow at 7:30pm",
            {"booking_date": "2026-12-07", "booking_time": "19:30"},
        ),
    ],
)
async def test_a_request_with_a_time_starts_the_flow_with_it(
    said: str, slots: dict[str, Any]
) -> None:
    assert await understand(said, context()) == [StartFlow("book_table", slots)]


async def test_a_count_answer_with_a_time_fills_both() -> None:
    got = await understand("4 at 8pm", context(PEOPLE))
    assert got == [SetSlot("party_size", 4), SetSlot("booking_time", "20:00")]


async def test_a_day_answer_with_a_time_fills_both() -> None:
    got = await understand("tomorrow at 8pm", context(DATE, {"party_size": 4}))
    assert got == [SetSlot("booking_date", "2026-12-07"), SetSlot("booking_time", "20:00")]


async def test_a_time_answer_to_a_count_is_the_time_not_seven_people() -> None:
    got = await understand("7:30", context(PEOPLE))
    assert got == [SetSlot("booking_time", "07:30")]


FILLED = {"party_size": 4, "booking_date": dt.date(2026, 12, 10), "booking_time": dt.time(20)}


@pytest.mark.parametrize(
    ("said", "correction"),
    [
        ("actually 5pm instead", CorrectSlot("booking_time", "17:00")),
        ("make it friday", CorrectSlot("booking_date", "2026-12-11")),
        ("actually at 7:30 in the evening", CorrectSlot("booking_time", "19:30")),
        ("change the time to half past eight", CorrectSlot("booking_time", "08:30")),
        ("actually 6 people", CorrectSlot("party_size", 6)),
        ("actually 5", CorrectSlot("party_size", 5)),
    ],
)
async def test_a_correction_goes_to_the_slot_its_value_fits(
    said: str, correction: CorrectSlot
) -> None:
    got = await understand(said, context(slots=FILLED))
    assert got == [correction]


@pytest.mark.parametrize(
    ("said", "offered", "value"),
    [
        ("the 8:30 one", "11:00, 14:00, 17:30, 20:30", "20:30"),
        ("quarter to nine", "18:00, 20:45, 23:30", "20:45"),
        ("we'll take the half past seven", "13:00, 16:45, 19:30, 22:15", "19:30"),
        ("the 11:00 one", "11:00, 14:00, 17:30, 20:30", "11:00"),  # on offer as said
        ("8:30 in the morning", "11:00, 14:00, 17:30, 20:30", "08:30"),  # said which half
        ("8:30", "10:00, 12:00", "08:30"),  # neither on offer: as read
    ],
)
async def test_a_bare_hour_is_read_in_the_half_of_the_day_on_offer(
    said: str, offered: str, value: str
) -> None:
    # The times a handler offered, kept in a slot the question's prompt shows.
    got = await understand(said, context(TIME, {"party_size": 2, "showtimes": offered}))
    assert got == [SetSlot("booking_time", value)]
