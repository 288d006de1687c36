"""A choose step's labels are templates over the slots; an option without a label is
shown by its action's description (docs/bot-format.md, choose)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from soni import Bot

from .._bots import written_bot

BOT = """
slots:
  first_time: {type: string}
  second_time: {type: string}
actions:
  find_times:
    outputs: [first_time, second_time]
  take_first:
    description: "Book the earlier time"
  take_second:
    description: "Book the later time"
  call_me:
    description: "Call me to arrange another time"
flows:
  book:
    trigger: {intents: ["book a visit"]}
    steps:
      - {step: find, type: action, call: find_times}
      - step: pick
        type: choose
        message: "Which time?"
        options:
          - {action: take_first, label: "{first_time} on Monday"}
          - {action: take_second, label: "{second_time} on Monday"}
          - {action: call_me}
      - {step: done, type: say, message: "Done."}
"""

ACTIONS = """
from soni import ActionRegistry

@ActionRegistry.register("find_times")
def find_times() -> dict:
    return {"first_time": "09:30", "second_time": "14:00"}

@ActionRegistry.register("take_first")
def take_first() -> dict:
    return {}

@ActionRegistry.register("take_second")
def take_second() -> dict:
    return {}

@ActionRegistry.register("call_me")
def call_me() -> dict:
    return {}
"""


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Bot]:
    async with written_bot(tmp_path, BOT, ACTIONS) as loaded:
        yield loaded


async def test_labels_render_and_a_missing_label_is_the_description(bot: Bot) -> None:
    offered = await bot.handle("c1", "book a visit")
    [pending] = offered.pending
    assert list(pending.labels) == [
        "09:30 on Monday",
        "14:00 on Monday",
        "Call me to arrange another time",
    ]
    chosen = await bot.handle("c1", "the 14:00 one")
    assert chosen.texts[-1] == "Done."
