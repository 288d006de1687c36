"""A bot that books a table at a time: the time is asked, read as said, kept, and shown.

The answer "half past seven in the evening" becomes 19:30, the confirmation reads
"at 19:30" (not "19:30:00"), "actually 8pm instead" moves the time and not the day,
the handler gets a ``datetime.time``, and all of it survives a restart of the bot.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path
from typing import Any

from soni import ActionRegistry

from .conftest import BotFactory

BOT = """
slots:
  party_size: {type: integer, prompt: "How many people?"}
  booking_date: {type: date, prompt: "For which day?"}
  booking_time: {type: time, prompt: "What time?"}
  visit: {type: datetime, prompt: "When will you visit?"}
actions:
  book:
    inputs: [party_size, booking_date, booking_time]
    confirm: "Book a table for {party_size} on {booking_date} at {booking_time}?"
flows:
  book_table:
    trigger: {intents: ["book a table"]}
    steps:
      - {step: people, type: collect, slot: party_size}
      - {step: day, type: collect, slot: booking_date}
      - {step: time, type: collect, slot: booking_time}
      - {step: book, type: action, call: book}
      - {step: done, type: end, message: "Booked for {booking_time}."}
  plan_visit:
    trigger: {intents: ["plan a visit"]}
    steps:
      - {step: when, type: collect, slot: visit}
      - {step: done, type: end, message: "See you on {visit}."}
"""


def bot_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "tables"
    folder.mkdir()
    (folder / "bot.yaml").write_text(textwrap.dedent(BOT))
    return folder


def registry_recording(booked: list[dict[str, Any]]) -> ActionRegistry:
    registry = ActionRegistry()

    def book(party_size: int, booking_date: dt.date, booking_time: dt.time) -> dict[str, Any]:
        booked.append({"size": party_size, "date": booking_date, "time": booking_time})
        return {}

    registry.register_local("book", book)
    return registry


async def test_a_time_is_asked_read_as_said_and_shown_in_the_confirmation(
    make_bot: BotFactory, tmp_path: Path
) -> None:
    folder, booked = bot_folder(tmp_path), []
    bot = await make_bot(str(folder), registry=registry_recording(booked))
    for text in ("book a table", "4", "2030-05-01"):
        result = await bot.handle("t1", text)
    assert result.texts == ["What time?"]

    result = await bot.handle("t1", "half past seven in the evening")

    assert result.texts == ["Book a table for 4 on 2030-05-01 at 19:30?"]
    assert result.slots["booking_time"] == dt.time(19, 30)


async def test_a_correction_to_the_time_moves_the_time_and_survives_a_restart(
    make_bot: BotFactory, tmp_path: Path
) -> None:
    folder, booked = bot_folder(tmp_path), []
    db = tmp_path / "tables.db"
    bot = await make_bot(str(folder), db=db, registry=registry_recording(booked))
    for text in ("book a table", "4", "2030-05-01", "7pm"):
        await bot.handle("t2", text)
    await bot.aclose()
    again = await make_bot(str(folder), db=db, registry=registry_recording(booked))

    corrected = await again.handle("t2", "actually 8pm instead")
    done = await again.handle("t2", "yes")

    assert corrected.texts[-1] == "Book a table for 4 on 2030-05-01 at 20:00?"
    assert done.texts == ["Booked for 20:00."]
    assert booked == [{"size": 4, "date": dt.date(2030, 5, 1), "time": dt.time(20, 0)}]


async def test_a_time_the_type_cannot_read_is_asked_again(
    make_bot: BotFactory, tmp_path: Path
) -> None:
    bot = await make_bot(str(bot_folder(tmp_path)), registry=registry_recording([]))
    for text in ("book a table", "4", "2030-05-01"):
        await bot.handle("t3", text)

    result = await bot.handle("t3", "whenever suits you")

    assert "booking_time" not in result.slots or result.slots["booking_time"] is None
    assert result.texts[-1] == "What time?"


async def test_a_date_and_time_is_read_from_one_answer(
    make_bot: BotFactory, tmp_path: Path
) -> None:
    bot = await make_bot(str(bot_folder(tmp_path)), registry=registry_recording([]))
    await bot.handle("t4", "plan a visit")

    result = await bot.handle("t4", "2030-05-01 at 2pm")

    assert result.texts == ["See you on 2030-05-01 14:00."]
