"""Values inside sentences: the words around a value are not part of it.

A free-text answer loses the phrases that carry it ("my code is BK-1234"); a slot that
holds a code is filled by a code in a request; a number said with the unit its
slot's prompt counts in ("a 5kg parcel", "for 4 people") fills that slot; "just me"
is one person.
"""

from __future__ import annotations

import datetime as dt

import pytest

from soni.nlu._values import answer, free_text, lone_count, mention
from soni.nlu.protocol import SlotInfo
from soni.nlu.units import past_words, unit_words

TODAY = dt.date(2026, 12, 6)


@pytest.mark.parametrize(
    ("said", "value"),
    [
        ("my code is BK-1234", "BK-1234"),
        ("The reference is BK-5678 I think", "BK-5678"),
        ("it's for my son, Leo Martín", "Leo Martín"),
        ("it's under Kowalski", "Kowalski"),
        ("name's Tom", "Tom"),
        ("me, Ana Ruiz", "Ana Ruiz"),
        ("my username is amartin", "amartin"),
        ("BK-5678, something came up", "BK-5678"),
        ("j smith... sorry, jsmith", "jsmith"),
        ("to Bob please", "Bob"),
        ("Maria Lopez", "Maria Lopez"),
    ],
)
def test_a_free_text_value_loses_the_words_that_carry_it(said: str, value: str) -> None:
    assert free_text(said) == value


def test_a_description_keeps_all_the_users_words() -> None:
    slot = SlotInfo("description", "string")
    said = "the printer on the 3rd floor keeps jamming, thanks"
    assert answer(slot, said, TODAY) == "the printer on the 3rd floor keeps jamming"


def test_a_code_in_a_request_fills_the_slot_that_holds_a_code() -> None:
    slot = SlotInfo("tracking_number", "string")
    assert mention(slot, "hi, where's my parcel PX4482913DE?", TODAY) == "PX4482913DE"
    assert mention(slot, "where is my parcel?", TODAY) is None
    assert mention(SlotInfo("recipient", "string"), "send PX4482913DE", TODAY) is None


@pytest.mark.parametrize(
    ("said", "value"),
    [
        ("I'd like to send a 5kg parcel to Spain", 5.0),
        ("want to send 12 kilos to the states", 12.0),
        ("i need to send a 40 kg suitcase to Poland", 40.0),
    ],
)
def test_a_number_with_the_unit_of_the_prompt_fills_the_slot(said: str, value: float) -> None:
    weight = SlotInfo("weight", "float", words=unit_words("weight", "How much, in kg?"))
    assert mention(weight, said, TODAY) == value


def test_people_counted_in_words() -> None:
    size = SlotInfo("party_size", "integer", words=unit_words("party_size", "For how many people?"))
    assert mention(size, "book a table for 2 people", TODAY) == 2
    assert answer(size, "just me", TODAY) == 1
    assert answer(size, "me and my wife", TODAY) == 2
    assert answer(size, "3", TODAY) == 3


@pytest.mark.parametrize(
    ("said", "count"),
    [
        ("can I book a table for two on friday", 2),
        ("reserve a table for 3 tomorrow night", 3),
        ("a table for 4 at 8pm on the 5th", 4),
        ("a table at 7:30", None),  # a time
        ("booking BK-5678 for 2026", None),  # a code and a year
        ("2 tables for 4", None),  # two numbers: which one?
    ],
)
def test_the_one_small_number_of_a_request(said: str, count: int | None) -> None:
    assert lone_count(said) == count


@pytest.mark.parametrize(
    ("said", "day"),
    [
        ("next week", None),
        ("sometime next week", None),
        ("in a few weeks", None),
        ("in two months", None),
        ("in two weeks", "2026-12-20"),  # two weeks from today, to the day
        ("in a week", "2026-12-13"),
        ("this weekend", None),
        ("next month", None),
        ("tomorrow", "2026-12-07"),
        ("friday", "2026-12-11"),
    ],
)
def test_a_week_or_a_month_is_not_a_day(said: str, day: str | None) -> None:
    assert answer(SlotInfo("day", "date"), said, TODAY) == day


def test_a_day_named_inside_a_week_is_a_day() -> None:
    assert answer(SlotInfo("day", "date"), "next week on tuesday", TODAY) is not None


@pytest.mark.parametrize(
    ("said", "day"),
    [
        ("on Christmas Eve", "2026-12-24"),
        ("new year's eve", "2026-12-31"),
        ("boxing day", "2026-12-26"),
        ("halloween", "2027-10-31"),  # the next one to come
    ],
)
def test_days_people_name_rather_than_date(said: str, day: str) -> None:
    assert answer(SlotInfo("day", "date"), said, TODAY) == day


@pytest.mark.parametrize(
    ("said", "count"),
    [("we're 5 adults and 2 kids", 7), ("2 adults, 1 child", 3), ("my husband and myself", 2)],
)
def test_people_counted_in_groups(said: str, count: int) -> None:
    size = SlotInfo("party_size", "integer", words=unit_words("party_size", "For how many people?"))
    assert answer(size, said, TODAY) == count
    assert answer(SlotInfo("quantity", "integer"), "5 boxes and 2 bags", TODAY) == 5  # not people


@pytest.mark.parametrize(
    ("said", "day"),
    [
        ("thursday evening, the 6:30 one", "2026-12-10"),
        ("it's the sunday one not saturday", "2026-12-13"),
        ("for 3 weeks from the 21st", "2026-12-21"),
        ("2 weeks starting next friday", "2026-12-11"),
        ("a compact for 4 days from Madrid", None),  # how long, not when
    ],
)
def test_the_one_day_among_other_words_about_time(said: str, day: str | None) -> None:
    assert mention(SlotInfo("day", "date"), said, TODAY) == day


@pytest.mark.parametrize(("said", "days"), [("a week", 7), ("a fortnight", 14), ("two weeks", 14)])
def test_weeks_for_a_slot_counted_in_days(said: str, days: int) -> None:
    rental = SlotInfo("rental_days", "integer", words=unit_words("rental_days", "How many days?"))
    assert answer(rental, said, TODAY) == days
    assert mention(rental, "in 3 days", TODAY) is None  # a day counted from now


@pytest.mark.parametrize(
    ("said", "time"), [("since about 7 this morning", "07:00"), ("9ish", "09:00")]
)
def test_times_said_loosely(said: str, time: str) -> None:
    assert answer(SlotInfo("since", "time"), said, TODAY) == time


THURSDAY = dt.date(2026, 12, 10)
WHEN_IT_HAPPENED = SlotInfo(
    "incident_date", "date", words=past_words("incident_date", "When did it happen?")
)


@pytest.mark.parametrize(
    ("said", "day"),
    [
        ("we found it on sunday evening", "2026-12-06"),
        ("monday", "2026-12-07"),
        ("saturday the 5th", "2026-12-05"),
        ("the 3rd of december", "2026-12-03"),
        ("last friday", "2026-12-04"),
        ("2 days ago", "2026-12-08"),
        ("it started this morning", "2026-12-10"),
        ("tomorrow", "2026-12-11"),  # said plainly, still tomorrow
    ],
)
def test_a_day_asked_about_something_that_happened_is_the_one_gone(said: str, day: str) -> None:
    assert answer(WHEN_IT_HAPPENED, said, THURSDAY) == day


@pytest.mark.parametrize(
    ("said", "day"),
    [
        ("yesterday morning", "2026-12-09"),
        ("14th of may 2006", "2006-05-14"),
        ("a week today", "2026-12-17"),
    ],
)
def test_a_day_said_as_gone_or_with_its_year_is_that_day(said: str, day: str) -> None:
    assert answer(SlotInfo("visit", "date"), said, THURSDAY) == day  # a slot about days to come


@pytest.mark.parametrize(
    ("said", "value"),
    [
        ("just the ramen", "ramen"),
        ("ok then Avenida Diagonal 640", "Avenida Diagonal 640"),
        ("hang on... its Calle Mayor 3", "Calle Mayor 3"),
    ],
)
def test_a_free_text_value_loses_the_hesitation_before_it(said: str, value: str) -> None:
    assert free_text(said) == value


def test_a_code_said_with_a_space_for_its_dash_is_the_code() -> None:
    import re

    booking = SlotInfo("booking_ref", "string", pattern=re.compile(r"(?i)CN-\d{5}"))
    assert answer(booking, "um hold on... its CN 77120", TODAY) == "CN-77120"
    assert answer(booking, "CN 7712", TODAY) is None  # too short, joined or not


@pytest.mark.parametrize(
    ("said", "value"),
    [
        ("my passenger hurt her wrist", True),
        ("my wife is on home dialysis", True),
        ("we are all fine", None),  # fine: no yes
        ("my son is not hurt", None),  # what "not" is said to is not guessed: asked again
        ("nobody's hurt", False),
    ],
)
def test_a_yes_or_no_question_answered_by_saying_who(said: str, value: bool | None) -> None:
    injured = SlotInfo("anyone_injured", "boolean", about="Was anyone injured?")
    assert answer(injured, said, TODAY) == value


@pytest.mark.parametrize(
    ("said", "value"),
    [
        ("ok. 3 Queen Street, Oxford OX1 2JD", "3 Queen Street, Oxford OX1 2JD"),
        ("fine, it's 55 Canal Street, Manchester M1 3WB", "55 Canal Street, Manchester M1 3WB"),
        ("I'm with Mapfre", "Mapfre"),
        ("AXA by the way", "AXA"),
        ("at calle luna 12, 3rd floor, zaragoza", "calle luna 12, 3rd floor, zaragoza"),
        # The value ends with its sentence; an abbreviation's full stop is no end.
        ("Calle Toledo 40, Madrid. it's been dead since", "Calle Toledo 40, Madrid"),
        ("Av. Diagonal 640", "Av. Diagonal 640"),
        ("21 Elm Street, Leeds LS6 2AB - I swapped the numbers", "21 Elm Street, Leeds LS6 2AB"),
    ],
)
def test_a_free_text_value_ends_where_its_sentence_does(said: str, value: str) -> None:
    assert free_text(said) == value


@pytest.mark.parametrize(
    ("said", "value"),
    [("name on it is Priya Shah", "Priya Shah"), ("the one called Kids", "Kids")],
)
def test_a_name_loses_what_says_it_is_one(said: str, value: str) -> None:
    assert free_text(said) == value


async def test_a_name_asked_for_then_other_values_after_a_comma() -> None:
    from soni.nlu import SetSlot
    from soni.nlu.protocol import ConversationContext, FlowInfo
    from soni.nlu.rules import RulesUnderstanding

    slots = {
        "patient_name": SlotInfo("patient_name", "string"),
        "date_of_birth": SlotInfo(
            "date_of_birth", "date", words=past_words("date_of_birth", "Date of birth?")
        ),
        "treatment": SlotInfo("treatment", "choice", {"filling": [], "cleaning": []}),
    }
    flow = FlowInfo("register", "register a patient", ("register",), tuple(slots))
    context = ConversationContext(
        active_flow="register",
        expected_slot=slots["patient_name"],
        flows=(flow,),
        slot_types=slots,
        today=TODAY,
    )
    understand = RulesUnderstanding().understand

    assert await understand("Nora Lind, born 05/09/1992", context) == [
        SetSlot("patient_name", "Nora Lind"),
        SetSlot("date_of_birth", "1992-09-05"),
    ]
    assert await understand("Carlos Ibáñez, for a filling", context) == [
        SetSlot("patient_name", "Carlos Ibáñez"),
        SetSlot("treatment", "filling"),
    ]
    # An address-like remark after the comma gives no other value: the whole answer.
    assert await understand("Lind, Nora", context) == [SetSlot("patient_name", "Lind, Nora")]


@pytest.mark.parametrize(
    "said", ["I am unsure", "the standard one", "I would prefer standard", "my wife will decide"]
)
def test_a_yes_or_no_question_about_a_thing_is_not_answered_by_a_sentence(said: str) -> None:
    express = SlotInfo("express", "boolean", about="Do you want express delivery?")
    assert answer(express, said, TODAY) is None


@pytest.mark.parametrize(
    "said",
    [
        "Only Murders in the Building",
        "Just Mercy",
        "Avda. Diagonal 640",
        "Main Ave. Apt 4",
        "Prof. Maria Lopez",
        "Calle Mayor 5 - Bajo B",
    ],
)
def test_a_titles_own_words_and_abbreviations_stay_in_the_value(said: str) -> None:
    assert free_text(said) == said


@pytest.mark.parametrize(
    ("said", "value"),
    [("everything's worth maybe 12 grand?", 12000), ("10k of cover please", 10000)],
)
def test_thousands_as_people_say_them(said: str, value: int) -> None:
    assert answer(SlotInfo("cover_amount", "float"), said, TODAY) == value


def test_a_day_of_the_month_said_beats_the_holiday_near_it() -> None:
    assert answer(SlotInfo("day", "date"), "after christmas, say the 28th", TODAY) == "2026-12-28"


@pytest.mark.parametrize(
    ("said", "value"),
    [
        ("going to 9 Park Avenue, Manchester M14 5RT", "9 Park Avenue, Manchester M14 5RT"),
        ("we're currently at 5 Larch Close, Horsforth", "5 Larch Close, Horsforth"),
        ("Flat 3, 12 Mill Lane, Oxford OX1 2AB", "Flat 3, 12 Mill Lane, Oxford OX1 2AB"),
    ],
)
def test_an_address_starts_at_its_house_number(said: str, value: str) -> None:
    assert answer(SlotInfo("new_address", "string"), said, TODAY) == value


@pytest.mark.parametrize("said", ["Jan Kowalski", "sometime in january"])
def test_a_month_alone_names_no_day_unasked(said: str) -> None:
    assert mention(SlotInfo("test_date", "date"), said, TODAY) is None


@pytest.mark.parametrize(
    ("said", "hours"),
    [
        ("just an hour", 1.0),
        ("an hour and a half", 1.5),
        ("half an hour is enough", 0.5),
        ("90 minutes", 1.5),
        ("2 hours", 2),
    ],
)
def test_a_length_of_time_in_hours_as_said(said: str, hours: float) -> None:
    slot = SlotInfo(
        "duration_hours", "float", words=unit_words("duration_hours", "How many hours?")
    )
    assert answer(slot, said, TODAY) == hours


def test_an_interjection_before_a_name_is_no_part_of_it() -> None:
    assert free_text("sorry! it's Hannah Schmidt") == "Hannah Schmidt"


NOVEMBER = dt.date(2026, 11, 23)


@pytest.mark.parametrize(
    ("said", "day"),
    [
        ("after christmas, say the 28th", "2026-12-28"),  # from the holiday on
        ("after christmas, say the 1st", "2027-01-01"),
        ("party on halloween", "2027-10-31"),
        ("the first of march", "2027-03-01"),
        ("may I book a day pass", None),  # "may" alone names no day
        ("move me to saturdays", None),  # every saturday: no one day
    ],
)
def test_days_said_around_holidays_months_and_weekdays(said: str, day: str | None) -> None:
    assert answer(SlotInfo("day", "date"), said, NOVEMBER) == day


@pytest.mark.parametrize(
    ("said", "hours"),
    [
        ("1 hour 30 minutes", 1.5),
        ("an hour and 15 minutes", 1.25),
        ("an hour, no wait, 2 hours", 2),
    ],
)
def test_hours_and_minutes_add_up_and_a_change_of_mind_counts(said: str, hours: float) -> None:
    slot = SlotInfo(
        "duration_hours", "float", words=unit_words("duration_hours", "How many hours?")
    )
    assert answer(slot, said, TODAY) == hours


@pytest.mark.parametrize(("said", "value"), [("5k run", 5), ("1.25k", 1250), ("3 grand pianos", 3)])
def test_thousands_only_where_they_are_an_amount(said: str, value: float) -> None:
    assert answer(SlotInfo("amount", "float"), said, TODAY) == value


@pytest.mark.parametrize(
    "said",
    ["Studio 54 Club, 254 W 54th St", "The 3 Bells, 14 Church Rd", "PO Box 123 London"],
)
def test_an_address_with_words_of_its_own_before_a_number_is_kept_whole(said: str) -> None:
    assert answer(SlotInfo("new_address", "string"), said, TODAY) == said


async def test_a_placeholder_keeps_a_thing_said_with_its_article_but_not_a_vague_name() -> None:
    from soni.nlu import StartFlow
    from soni.nlu.protocol import ConversationContext, FlowInfo
    from soni.nlu.rules import RulesUnderstanding

    slots = {
        "items": SlotInfo("items", "string"),
        "book_title": SlotInfo("book_title", "string"),
        "location": SlotInfo("location", "string"),
    }
    flows = (
        FlowInfo("collect", "collect bulky items", ("can you collect {items}",), ("items",)),
        FlowInfo("reserve", "reserve a book", ("reserve {book_title}",), ("book_title",)),
        FlowInfo("report", "report a problem", ("report a problem on {location}",), ("location",)),
    )
    context = ConversationContext(flows=flows, slot_types=slots, today=TODAY)
    understand = RulesUnderstanding().understand

    # "a sofa" is what to collect; "a book" is no title, "my road" no place.
    assert await understand("can you collect a sofa", context) == [
        StartFlow("collect", {"items": "a sofa"})
    ]
    assert await understand("reserve a book", context) == [StartFlow("reserve", {})]
    assert await understand("report a problem on my road", context) == [StartFlow("report", {})]


@pytest.mark.parametrize(("said", "value"), [("62k roughly", 62000), ("maybe 90 thousand?", 90000)])
def test_thousands_said_with_a_hedge(said: str, value: int) -> None:
    assert answer(SlotInfo("mileage", "integer"), said, TODAY) == value


def test_a_description_loses_the_its_that_introduces_it() -> None:
    slot = SlotInfo("item_description", "string")
    said = "it's a brown teddy bear with a red bow"
    assert answer(slot, said, TODAY) == "a brown teddy bear with a red bow"
