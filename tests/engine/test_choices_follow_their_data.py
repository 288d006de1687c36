"""A choice offered from data follows its data: values are read as their slots' types
before anything is offered, an item no slot can take is never offered, and when the
list changes, empties or goes wrong while the choice waits, the old offer is withdrawn —
nothing is left to approve that the data no longer holds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from soni import Bot
from soni.confirmations.errors import ConfirmationClosed

from .._bots import written_bot

BOT = """
slots:
  day: {type: string, prompt: "Which day?"}
  free: {type: any}
  at: {type: time}
  who:
    choices: {ruiz: [dr ruiz], okafor: [dr okafor]}
  booked: {type: string}
actions:
  look: {inputs: [day], outputs: [free]}
  book: {inputs: [at, who], outputs: [booked]}
flows:
  visit:
    trigger: {intents: ["book a visit"]}
    steps:
      - {step: ask, type: collect, slot: day}
      - {step: find, type: action, call: look}
      - step: pick
        type: choose
        message: "Which time?"
        options_from: free
        bind: {at: time, who: dentist}
        action: book
        label: "{at} with {who}"
        on_empty: none
      - {step: done, type: end, message: "Booked {booked}."}
      - {step: none, type: end, message: "Nothing free."}
"""

ACTIONS = """
from soni import ActionRegistry

DIARY = {
    "mon": [{"time": "9:00", "dentist": "Dr Ruiz"}, {"time": "11:30", "dentist": "dr okafor"}],
    "one": [{"time": "15:00", "dentist": "Dr Ruiz"}],
    "tue": [],
    "bad": "09:00, 11:30",
    "lunch": [{"time": "lunchtime", "dentist": "Dr Ruiz"}],
    "nobody": [{"time": "10:00", "dentist": None}],
    "stranger": [{"time": "10:00", "dentist": "Dr Who"}],
}

@ActionRegistry.register("look")
def look(day: str) -> dict:
    return {} if day == "unfilled" else {"free": DIARY.get(day, [])}

@ActionRegistry.register("book")
def book(at, who: str) -> dict:
    return {"booked": f"{at:%H:%M}/{who}"}
"""


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Bot]:
    async with written_bot(tmp_path, BOT, ACTIONS) as loaded:
        yield loaded


async def ask(bot: Bot, conversation: str, day: str) -> list[str]:
    await bot.handle(conversation, "book a visit")
    return (await bot.handle(conversation, day)).texts


async def test_values_are_read_as_their_slots_types_before_they_are_offered(bot: Bot) -> None:
    assert await ask(bot, "typed", "mon") == ["Which time?"]
    (pending,) = await bot.pending("typed")
    # "9:00" is the time 09:00, "Dr Ruiz" the choice ruiz: shown and approved as read.
    assert pending.labels == ("09:00 with ruiz", "11:30 with okafor")
    record = await bot.confirmations.get(pending.token or "")
    assert dict(record.actions[0].args) == {"at": "09:00:00", "who": "ruiz"}

    done = await bot.decide(pending.token or "", "book.2")

    assert done.texts == ["Booked 11:30/okafor."]


@pytest.mark.parametrize("day", ["lunch", "nobody", "stranger", "bad", "unfilled"])
async def test_an_item_no_slot_can_take_is_never_offered(
    bot: Bot, day: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert await ask(bot, f"bad-{day}", day) == ["Sorry, I couldn't offer the choices."]
    assert await bot.pending(f"bad-{day}") == []
    assert "cannot offer choices" in caplog.text
    assert (await bot.handle(f"bad-{day}", "book a visit")).texts == ["Which day?"]


async def test_a_list_that_empties_while_the_choice_waits_withdraws_it(bot: Bot) -> None:
    await ask(bot, "emptied", "mon")
    (old,) = await bot.pending("emptied")

    moved = await bot.handle("emptied", "/set day=tue")

    assert moved.texts == ["Nothing free."]
    assert await bot.pending("emptied") == []
    with pytest.raises(ConfirmationClosed):
        await bot.decide(old.token or "", "book.1")


async def test_a_list_gone_wrong_while_the_choice_waits_withdraws_it(bot: Bot) -> None:
    await ask(bot, "broken", "mon")
    (old,) = await bot.pending("broken")

    moved = await bot.handle("broken", "/set day=bad")

    assert moved.texts == ["Sorry, I couldn't offer the choices."]
    with pytest.raises(ConfirmationClosed):
        await bot.decide(old.token or "", "book.2")


async def test_a_list_that_changes_while_the_choice_waits_offers_the_new_items(
    bot: Bot,
) -> None:
    await ask(bot, "changed", "mon")
    (old,) = await bot.pending("changed")

    await bot.handle("changed", "/set day=one")

    (new,) = await bot.pending("changed")
    assert new.labels == ("15:00 with ruiz",)
    with pytest.raises(ConfirmationClosed):
        await bot.decide(old.token or "", "book.1")


@pytest.mark.parametrize("text", ["the first one", "the 3pm one", "15:00 with ruiz", "book.1"])
async def test_the_one_item_of_a_list_is_picked_as_it_is_shown(bot: Bot, text: str) -> None:
    await ask(bot, "one", "one")

    assert (await bot.handle("one", text)).texts == ["Booked 15:00/ruiz."]
