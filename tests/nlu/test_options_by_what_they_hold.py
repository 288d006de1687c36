"""Options picked by what they hold, and who a request is for.

At a choice of delivery windows labelled with their hours, "around half past six" or
"after 6" picks the window that holds that time, "as early as possible" the first one,
and "not in the morning, the afternoon one" the afternoon. A request for someone names
them after "for": "a laptop for Ben Ali".
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from soni.nlu import Choose, CorrectSlot, StartFlow
from soni.nlu.protocol import ConversationContext, FlowInfo, PendingInfo, SlotInfo
from soni.nlu.rules import RulesUnderstanding

TODAY = dt.date(2026, 12, 6)
WINDOWS = ("deliver_morning", "deliver_afternoon", "deliver_evening")
LABELS = {
    "deliver_morning": "Morning (8:00-12:00)",
    "deliver_afternoon": "Afternoon (12:00-17:00)",
    "deliver_evening": "Evening (17:00-21:00)",
}
SLOTS = {
    "laptop_for": SlotInfo("laptop_for", "string"),
    "laptop_model": SlotInfo(
        "laptop_model", "choice", {"macbook pro": ["macbook"], "thinkpad": []}
    ),
    "needed_by": SlotInfo("needed_by", "date"),
    "note": SlotInfo("note", "string"),
}
FLOWS = (
    FlowInfo("reschedule", "change the delivery day", ("reschedule my delivery",), ()),
    FlowInfo(
        "request_laptop",
        "order a laptop",
        ("order a laptop", "I need a laptop", "new laptop", "order a {laptop_model}"),
        ("laptop_for", "laptop_model", "needed_by", "note"),
    ),
)


def understand(
    text: str,
    flow: str | None = None,
    *,
    pending: tuple[str, ...] | None = None,
    expecting: str | None = None,
    slots: dict[str, Any] | None = None,
) -> list[Any]:
    context = ConversationContext(
        active_flow=flow,
        expected_slot=SLOTS[expecting] if expecting else None,
        slots=dict(slots or {}),
        pending=PendingInfo("c-1", pending, LABELS) if pending else None,
        flows=FLOWS,
        slot_types=SLOTS,
        today=TODAY,
    )
    return asyncio.run(RulesUnderstanding().understand(text, context))


def at_the_choice(text: str, options: tuple[str, ...], labels: dict[str, str]) -> list[Any]:
    """What ``text`` reads as while ``options`` (with ``labels``) wait for a pick."""
    context = ConversationContext(
        active_flow="reschedule",
        pending=PendingInfo("c-2", options, labels),
        flows=FLOWS,
        slot_types=SLOTS,
        today=TODAY,
    )
    return asyncio.run(RulesUnderstanding().understand(text, context))


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("can it come around half past six?", "deliver_evening"),
        ("when I'm back from work, so after 6", "deliver_evening"),
        ("at 10 would be great", "deliver_morning"),
        ("2pm works", "deliver_afternoon"),
        ("as early as possible", "deliver_morning"),
        ("as late as possible", "deliver_evening"),
        ("not in the morning, the afternoon one", "deliver_afternoon"),
    ],
)
def test_a_window_is_picked_by_what_it_holds(text: str, window: str) -> None:
    assert understand(text, "reschedule", pending=WINDOWS) == [Choose(window)]


def test_a_time_outside_every_window_picks_nothing() -> None:
    picked = understand("at 23:30", "reschedule", pending=WINDOWS)
    assert not any(isinstance(c, Choose) for c in picked)


@pytest.mark.parametrize(
    ("text", "slots"),
    [
        ("I need a laptop for Ben Ali", {"laptop_for": "Ben Ali"}),
        (
            "I need to order a macbook for our new designer, Chloé Dubois",
            {"laptop_model": "macbook pro", "laptop_for": "Chloé Dubois"},
        ),
        ("I need a laptop for the new project", {}),  # no name: nobody to fill in
    ],
)
def test_who_a_request_is_for_is_the_name_after_for(text: str, slots: dict[str, Any]) -> None:
    assert understand(text) == [StartFlow("request_laptop", slots)]


def test_a_correction_of_who_keeps_the_name_and_drops_what_it_says_not_to() -> None:
    corrected = understand(
        "no sorry, it's for Marta Lopez, not Maria",
        "request_laptop",
        expecting="laptop_model",
        slots={"laptop_for": "Maria Lopez"},
    )
    assert corrected == [CorrectSlot("laptop_for", "Marta Lopez")]


PLANS = ("upgrade_to_plus", "upgrade_to_premium", "upgrade_to_elite")
PLAN_LABELS = {
    "upgrade_to_plus": "Plus: all group classes, 39 EUR a month",
    "upgrade_to_premium": "Premium: classes, pool and sauna, 59 EUR a month",
    "upgrade_to_elite": "Elite: everything plus personal training, 89 EUR a month",
}


@pytest.mark.parametrize(
    ("text", "plan"),
    [
        ("the 89 euro one", "upgrade_to_elite"),
        ("plus is fine", "upgrade_to_plus"),  # "plus" is in the elite label too
        ("the one with the pool", "upgrade_to_premium"),
    ],
)
def test_a_plan_by_its_price_or_its_own_name(text: str, plan: str) -> None:
    assert at_the_choice(text, PLANS, PLAN_LABELS) == [Choose(plan)]


def test_the_nth_choice_of_a_question() -> None:
    from soni.nlu._values import answer

    category = SlotInfo("category", "choice", {"economy": [], "compact": [], "suv": [], "van": []})
    assert answer(category, "the second option", TODAY) == "compact"
    assert answer(category, "the last one", TODAY) == "van"
    assert answer(category, "the sixth one", TODAY) is None


FLIGHTS = ("pick_early_flight", "pick_midday_flight", "pick_late_flight")
FLIGHT_LABELS = {
    "pick_early_flight": "07:15 morning flight",
    "pick_midday_flight": "14:30 afternoon flight",
    "pick_late_flight": "20:45 evening flight",
}
PLANS_BY_SCREENS = ("switch_to_standard", "switch_to_premium")
SCREEN_LABELS = {
    "switch_to_standard": "Standard: 2 screens, Full HD, 12.99 a month",
    "switch_to_premium": "Premium: 4 screens, 4K HDR, 17.99 a month",
}
SCHEDULES = ("set_monthly_plan", "set_quarterly_plan")
SCHEDULE_LABELS = {"set_monthly_plan": "Every month", "set_quarterly_plan": "Every three months"}


@pytest.mark.parametrize(
    ("text", "options", "labels", "option"),
    [
        ("the middle one", FLIGHTS, FLIGHT_LABELS, "pick_midday_flight"),
        ("the 7am one", FLIGHTS, FLIGHT_LABELS, "pick_early_flight"),
        ("8pm please", FLIGHTS, FLIGHT_LABELS, "pick_late_flight"),
        ("every 3 months", SCHEDULES, SCHEDULE_LABELS, "set_quarterly_plan"),
        ("the one with 4 screens", PLANS_BY_SCREENS, SCREEN_LABELS, "switch_to_premium"),
        ("montly pls", SCHEDULES, SCHEDULE_LABELS, "set_monthly_plan"),  # a typo of its name
    ],
)
def test_an_option_by_its_place_its_hour_or_its_words_as_typed(
    text: str, options: tuple[str, ...], labels: dict[str, str], option: str
) -> None:
    assert at_the_choice(text, options, labels) == [Choose(option)]


def test_the_middle_of_an_even_number_of_options_is_none_of_them() -> None:
    got = at_the_choice("the middle one", SCHEDULES, SCHEDULE_LABELS)
    assert not any(isinstance(c, Choose) for c in got), got


SIZES = ("exchange_to_s", "exchange_to_m", "exchange_to_l", "exchange_to_xl")
SIZE_LABELS = {
    "exchange_to_s": "Small (S)",
    "exchange_to_m": "Medium (M)",
    "exchange_to_l": "Large (L)",
    "exchange_to_xl": "Extra large (XL)",
}
TIMES = ("book_first", "book_second", "book_third")
TIME_LABELS = {
    "book_first": "09:30 with Dr. Ortega",
    "book_second": "12:15 with Dr. Lindqvist",
    "book_third": "17:45 with Dr. Ortega",
}


@pytest.mark.parametrize(
    ("text", "options", "labels", "option"),
    [
        ("S please", SIZES, SIZE_LABELS, "exchange_to_s"),
        ("XL", SIZES, SIZE_LABELS, "exchange_to_xl"),
        ("5:45 pm", TIMES, TIME_LABELS, "book_third"),
        ("the 12:15 one please", TIMES, TIME_LABELS, "book_second"),
    ],
)
def test_an_option_by_the_fewest_words_or_its_clock_time(
    text: str, options: tuple[str, ...], labels: dict[str, str], option: str
) -> None:
    assert at_the_choice(text, options, labels) == [Choose(option)]


def test_an_option_by_a_time_said_in_words() -> None:
    slots = ("hold_slot_1", "hold_slot_2", "hold_slot_3")
    labels = {
        "hold_slot_1": "Entry at 10:00",
        "hold_slot_2": "Entry at 12:30",
        "hold_slot_3": "Entry at 15:30",
    }
    got = at_the_choice("half past 3 is fine", slots, labels)
    assert got == [Choose("hold_slot_3")]
