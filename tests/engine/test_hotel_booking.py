"""The hotel booking example: collect, branch, a called sub-flow, a loop, a guarded booking."""

from __future__ import annotations

import datetime
from types import ModuleType

import pytest

from soni import load_actions

from .conftest import EXAMPLES, BotFactory, replies

ARRIVE = "When do you arrive? (yyyy-mm-dd)"
LEAVE = "When do you leave? (yyyy-mm-dd)"
GUESTS = "How many guests?"
LEAD = "Who is the lead guest?"
EMAIL = "Which email should the confirmation go to?"
ROOMS = "How many rooms?"


def hotel() -> ModuleType:
    return load_actions(EXAMPLES / "hotel_booking" / "actions.py")[0]


def held_in(conversation: str) -> list[dict[str, object]]:
    return [h for h in hotel().HELD if h["conversation"] == conversation]


def booked_in(conversation: str) -> list[dict[str, object]]:
    return [b for b in hotel().BOOKED if b["conversation"] == conversation]


async def test_a_party_of_six_books_three_suites(make_bot: BotFactory) -> None:
    bot = await make_bot("hotel_booking")
    answers = await replies(
        bot,
        "hb-suite",
        "I'd like to book a room",
        "2025-07-01",
        "04/07/2025",
        "6",
        "Ana Diaz",
        "ana@example.com",
        "3",
    )

    assert answers == [
        [ARRIVE],
        [LEAVE],
        [GUESTS],
        ["A party of 6 gets our suites.", "Now the details of the lead guest of 6.", LEAD],
        [EMAIL],
        [ROOMS],
        [
            "Room 1 of 3: number 501 is held.",
            "Room 2 of 3: number 502 is held.",
            "Room 3 of 3: number 503 is held.",
            "Book 3 suite room(s) for 6 guests from 2025-07-01 to 2025-07-04, "
            "in the name of Ana Diaz?",
        ],
    ]
    # The loop ran its action once per room, and nothing is booked before the yes.
    assert [h["number"] for h in held_in("hb-suite")] == ["501", "502", "503"]
    assert {h["nights"] for h in held_in("hb-suite")} == {3}
    assert booked_in("hb-suite") == []

    result = await bot.handle("hb-suite", "yes", user_id="u1")

    assert result.status == "ended"
    assert len(result.texts) == 1
    assert result.texts[0].startswith("Booked, Ana Diaz! Your reference is HB-")
    assert booked_in("hb-suite") == [
        {
            "conversation": "hb-suite",
            "room_type": "suite",
            "rooms": 3,
            "guests": 6,
            "check_in": datetime.date(2025, 7, 1),
            "check_out": datetime.date(2025, 7, 4),
            "guest": "Ana Diaz",
            "email": "ana@example.com",
        }
    ]
    # The sub-flow's outputs came back into the caller's slots.
    assert result.slots["guest_name"] == "Ana Diaz"
    assert result.slots["guest_email"] == "ana@example.com"
    assert result.slots["rooms_added"] == 3
    assert result.slots["booking_reference"] == result.texts[0].rsplit(" ", 1)[-1].rstrip(".")


@pytest.mark.parametrize("rooms", [1, 4])
async def test_a_small_party_gets_standard_rooms_one_loop_pass_per_room(
    make_bot: BotFactory, rooms: int
) -> None:
    conversation = f"hb-standard-{rooms}"
    bot = await make_bot("hotel_booking")
    *_, details, held = await replies(
        bot, conversation, "/book_hotel", "2025-08-01", "2025-08-02", "2", "Bo", "bo@example.com",
        str(rooms),
    )  # fmt: skip

    assert details == [ROOMS]
    assert held == [
        *(f"Room {n} of {rooms}: number {100 + n} is held." for n in range(1, rooms + 1)),
        f"Book {rooms} standard room(s) for 2 guests from 2025-08-01 to 2025-08-02, "
        "in the name of Bo?",
    ]
    assert len(held_in(conversation)) == rooms
    done = await bot.handle(conversation, "yes", user_id="u1")
    assert done.texts[0].startswith("Booked, Bo!")
    assert [(b["room_type"], b["rooms"]) for b in booked_in(conversation)] == [("standard", rooms)]


async def test_the_number_of_guests_is_validated(make_bot: BotFactory) -> None:
    bot = await make_bot("hotel_booking")
    await replies(bot, "hb-guests", "/book_hotel", "2025-07-01", "2025-07-03")
    rejected = "Please give a whole number of guests, at least one."

    answers = await replies(bot, "hb-guests", "0", "many", "2.5", "-1")

    assert answers == [[rejected, GUESTS]] * 4
    result = await bot.handle("hb-guests", "4", user_id="u1")
    assert result.texts == ["Now the details of the lead guest of 4.", LEAD]
    assert result.slots["guests"] == 4
    assert result.slots["room_type"] == "standard"


async def test_a_date_that_is_not_one_is_asked_again(make_bot: BotFactory) -> None:
    bot = await make_bot("hotel_booking")
    await replies(bot, "hb-date", "/book_hotel")

    result = await bot.handle("hb-date", "someday", user_id="u1")

    assert result.status == "awaiting_input"
    assert len(result.texts) == 2 and result.texts[-1] == ARRIVE
    assert "check_in" not in result.slots


async def test_the_sub_flow_validates_its_own_slots(make_bot: BotFactory) -> None:
    bot = await make_bot("hotel_booking")
    await replies(bot, "hb-email", "/book_hotel", "2025-07-01", "2025-07-03", "2", "Cy")

    result = await bot.handle("hb-email", "cy-at-example", user_id="u1")

    assert result.texts == ["That does not look like an email address.", EMAIL]
    assert (await bot.handle("hb-email", "Cy@Example.COM", user_id="u1")).texts == [ROOMS]
    state = await bot.state("hb-email")
    assert [frame["flow"] for frame in state["stack"]] == ["book_hotel"]
    assert state["slots"]["guest_email"] == "Cy@example.com"


async def test_declining_the_booking_books_nothing(make_bot: BotFactory) -> None:
    bot = await make_bot("hotel_booking")
    await replies(
        bot, "hb-no", "/book_hotel", "2025-07-01", "2025-07-03", "2", "Di", "di@example.com", "2"
    )

    result = await bot.handle("hb-no", "no", user_id="u1")

    assert result.texts == ["Nothing was booked; the rooms I held will be released."]
    assert result.status == "ended"
    assert len(held_in("hb-no")) == 2
    assert booked_in("hb-no") == []


async def test_cancelling_during_the_guest_details_does_not_go_on_booking(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot("hotel_booking")
    await replies(bot, "hb-cancel", "/book_hotel", "2025-07-01", "2025-07-03", "2")

    result = await bot.handle("hb-cancel", "cancel", user_id="u1")

    # The sub-flow is part of the booking: cancelling it must not carry on with the
    # booking as if the guest details had been given.
    assert ROOMS not in result.texts
    assert result.status == "ended"
    assert held_in("hb-cancel") == []


@pytest.mark.parametrize("rooms", ["10", "1,000"])
async def test_more_than_nine_rooms_are_refused_before_any_is_held(
    make_bot: BotFactory, rooms: str
) -> None:
    conversation = f"hb-many-{rooms}"
    bot = await make_bot("hotel_booking")
    await replies(bot, conversation, "/book_hotel", "2025-07-01", "2025-07-03", "2", "Al", "a@b.co")

    refused = await bot.handle(conversation, rooms, user_id="u1")

    assert refused.texts == ["Sorry, one booking can hold at most 9 rooms.", ROOMS]
    assert refused.status == "awaiting_input"
    assert held_in(conversation) == []
    held = await bot.handle(conversation, "9", user_id="u1")
    assert held.texts[-2] == "Room 9 of 9: number 109 is held."
    assert len(held_in(conversation)) == 9


async def test_each_run_of_a_looped_action_gets_its_own_idempotency_key(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot("hotel_booking")
    texts = ("I'd like to book a room", "2025-07-01", "04/07/2025", "6", "Ana", "a@b.co", "3")
    for text in texts:
        await bot.handle("loop-keys", text)

    keys = [entry["key"] for entry in held_in("loop-keys")]
    assert len(keys) == 3
    assert len(set(keys)) == 3
