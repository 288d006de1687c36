"""A code in a message points to the flows it belongs to.

"any news on INC-20388?" matches no trigger phrase, but a ticket code only goes with
the flows that take one: with one such flow it starts, with several the words lean to
one or the bot asks which ("INC-20417" alone: check it or close it?). What a code looks
like comes from the slot's pattern, or from the example its prompt gives ("It looks
like PX4482913DE", "It starts with PU-"), so one code is not taken for another.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from soni import Bot
from soni.nlu.units import example_shape

from .._bots import written_bot

BOT = """
slots:
  ticket_code: {type: string, prompt: "Which ticket? It looks like INC-20417."}
  tracking_number: {type: string, prompt: "Your tracking number? It looks like PX4482913DE."}
  pickup_reference: {type: string, prompt: "The pickup request number? It starts with PU-."}
flows:
  check_ticket:
    trigger: {intents: ["check my ticket", "ticket status"]}
    steps:
      - {step: ask, type: collect, slot: ticket_code}
      - {step: done, type: say, message: "Checking {ticket_code}."}
  close_ticket:
    trigger: {intents: ["close my ticket"]}
    steps:
      - {step: ask, type: collect, slot: ticket_code}
      - {step: done, type: say, message: "Closing {ticket_code}."}
  track_parcel:
    trigger: {intents: ["track my parcel", "where is my parcel"]}
    steps:
      - {step: ask, type: collect, slot: tracking_number}
      - {step: done, type: say, message: "Tracking {tracking_number}."}
  cancel_pickup:
    trigger: {intents: ["cancel my pickup"]}
    steps:
      - {step: ask, type: collect, slot: pickup_reference}
      - {step: done, type: say, message: "Cancelling pickup {pickup_reference}."}
"""


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Bot]:
    async with written_bot(tmp_path, BOT) as loaded:
        yield loaded


async def test_a_code_with_words_that_lean_to_one_flow_starts_it(bot: Bot) -> None:
    said = await bot.handle("c1", "hi! any news on the status of INC-20388? it's been days")
    assert said.texts == ["Checking INC-20388."]


async def test_a_code_alone_that_fits_several_flows_asks_which(bot: Bot) -> None:
    said = await bot.handle("c2", "INC-20417")
    assert len(said.texts) == 1
    assert "check_ticket" in said.texts[0] and "close_ticket" in said.texts[0]


async def test_a_code_goes_to_the_flow_whose_example_it_looks_like(bot: Bot) -> None:
    said = await bot.handle(
        "c3", "Hi, I already dropped the parcel off myself, so no need, ref PU-55120"
    )
    assert said.texts == ["Cancelling pickup PU-55120."]
    tracked = await bot.handle("c4", "PX4482913DE says delivered but I got nothing")
    assert tracked.texts == ["Tracking PX4482913DE."]


async def test_a_message_with_no_code_is_not_guessed(bot: Bot) -> None:
    said = await bot.handle("c5", "what a lovely day")
    assert said.texts == ["Sorry, I didn't understand that."]


@pytest.mark.parametrize(
    ("prompt", "fits", "not_fits"),
    [
        ("It looks like PX4482913DE.", ["PX4482913DE", "px1000200fr"], ["PU-55120", "PX12"]),
        ("It starts with PU-.", ["PU-55120", "pu-20931", "PU55120"], ["PX4482913DE"]),
        ("e.g. INC-20417", ["INC-20417", "inc 20388"], ["BK-3090"]),
    ],
)
def test_the_example_in_a_prompt_gives_the_shape(
    prompt: str, fits: list[str], not_fits: list[str]
) -> None:
    shape = example_shape(prompt)
    assert shape is not None
    assert all(shape.fullmatch(code) for code in fits)
    assert not any(shape.fullmatch(code) for code in not_fits)


@pytest.mark.parametrize("prompt", ["What is your name?", "BK-1234 or BK-5678?", None])
def test_no_single_example_no_shape(prompt: str | None) -> None:
    assert example_shape(prompt) is None
