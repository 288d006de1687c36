"""The dentist example: choices offered from data (``options_from``).

The free times a look-up returns become the options of one confirmation, one token
covering them; each option's arguments hold the item as it was shown, so the booking
runs with exactly the time the user chose, once, whatever the list holds by then.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from types import ModuleType

import pytest

from soni import load_actions
from soni.confirmations.errors import AlreadyDecided
from soni.engine import Bot, TurnResult

from .conftest import EXAMPLES, BotFactory

OPTIONS = ("book_appointment.1", "book_appointment.2", "book_appointment.3")
LABELS = ("09:00 with Dr Ruiz", "11:30 with Dr Okafor", "15:00 with Dr Ruiz")


def dentist() -> ModuleType:
    return load_actions(EXAMPLES / "dentist" / "actions.py")[0]


def bookings(conversation: str) -> list[dict[str, str]]:
    """What was booked in ``conversation`` (other tests book in their own)."""
    return [
        {k: v for k, v in d.items() if k != "conversation"}
        for d in dentist().DONE
        if d["action"] == "booked" and d["conversation"] == conversation
    ]


async def offer(bot: Bot, conversation: str, day: str = "2030-05-07") -> TurnResult:
    await bot.handle(conversation, "book an appointment", user_id="u1")
    await bot.handle(conversation, "Ana Lopez", user_id="u1")
    return await bot.handle(conversation, day, user_id="u1")


def token_of(result: TurnResult) -> str:
    (pending,) = result.pending
    assert pending.token is not None
    return pending.token


async def test_each_free_time_is_an_option_of_one_confirmation(make_bot: BotFactory) -> None:
    bot = await make_bot("dentist")
    result = await offer(bot, "dn-offer")

    assert result.texts == ["On Tuesday 07 May I can offer:"]
    (pending,) = result.pending
    assert pending.options == OPTIONS
    assert pending.labels == LABELS
    assert bookings("dn-offer") == []


async def test_the_option_chosen_by_its_token_runs_with_exactly_that_item(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot("dentist")
    token = token_of(await offer(bot, "dn-choose"))

    done = await bot.decide(token, "book_appointment.2", actor="u1")

    assert done.texts[0].startswith("Booked: Ana Lopez, Tuesday 07 May at 11:30 with Dr Okafor.")
    assert bookings("dn-choose") == [
        {"action": "booked", "patient": "Ana Lopez", "when": "2030-05-07 11:30",
         "dentist": "Dr Okafor"}
    ]  # fmt: skip
    assert done.slots["appointment_time"] == dt.time(11, 30)
    assert done.slots["dentist"] == "Dr Okafor"


async def test_each_option_records_the_item_it_shows_in_its_arguments(
    make_bot: BotFactory,
) -> None:
    # What a token approves is stored with it: the time and dentist of each option,
    # not an index into a list that may change before the decision.
    bot = await make_bot("dentist")
    token = token_of(await offer(bot, "dn-bound"))

    record = await bot.confirmations.get(token)

    assert [call.option for call in record.actions] == list(OPTIONS)
    assert {call.name for call in record.actions} == {"book_appointment"}
    second = record.actions[1].args
    assert (second["appointment_time"], second["dentist"]) == ("11:30:00", "Dr Okafor")
    assert second["patient_name"] == "Ana Lopez"
    assert second["appointment_date"] == "2030-05-07"


async def test_a_repeated_decision_books_once_and_another_option_is_refused(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot("dentist")
    token = token_of(await offer(bot, "dn-twice"))

    await bot.decide(token, "book_appointment.1", actor="u1")
    await bot.decide(token, "book_appointment.1", actor="u1")  # the same decision again
    with pytest.raises(AlreadyDecided):
        await bot.decide(token, "book_appointment.3", actor="u1")

    assert len(bookings("dn-twice")) == 1


async def test_two_options_decided_at_once_book_exactly_one(make_bot: BotFactory) -> None:
    bot = await make_bot("dentist")
    token = token_of(await offer(bot, "dn-race"))

    outcomes = await asyncio.gather(
        bot.decide(token, "book_appointment.1", actor="u1"),
        bot.decide(token, "book_appointment.3", actor="u1"),
        return_exceptions=True,
    )

    refused = [o for o in outcomes if isinstance(o, AlreadyDecided)]
    assert len(refused) == 1, outcomes
    assert len(bookings("dn-race")) == 1


async def test_an_option_chosen_in_the_chat_by_what_its_label_says(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot("dentist")
    await offer(bot, "dn-chat")

    done = await bot.handle("dn-chat", "the 3pm with Dr Ruiz please", user_id="u1")

    assert done.texts[0].startswith("Booked: Ana Lopez, Tuesday 07 May at 15:00 with Dr Ruiz.")


async def test_an_empty_list_goes_to_on_empty_without_asking(make_bot: BotFactory) -> None:
    bot = await make_bot("dentist")
    result = await offer(bot, "dn-sunday", day="2030-05-05")  # Sundays are closed

    assert not result.pending
    assert result.texts == ["Sorry, Sunday 05 May is fully booked. Ask again for another day."]
    assert (await bot.handle("dn-sunday", "book an appointment")).texts  # still usable


async def test_a_look_up_that_returns_no_list_ends_the_flow_with_a_message(
    make_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await make_bot("dentist")
    for day in range(6):
        dentist().DIARY[day] = "09:00, 11:30"  # type: ignore[assignment]  # a wiring bug

    result = await offer(bot, "dn-broken")

    assert not result.pending
    assert result.texts == ["Sorry, I couldn't offer the choices."]
    assert "holds str, not a list" in caplog.text
    again = await bot.handle("dn-broken", "cancel my appointment")
    assert again.texts == ["What name is the appointment for?"]
