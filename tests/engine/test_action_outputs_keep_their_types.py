"""What a handler returns into a declared slot keeps the slot's type.

A date returned by a look-up reached the next handler as its text ("2026-12-18"), so
``next_visit + timedelta(days=7)`` failed — found by a bot writer whose handler worked
with a collected date and broke with a looked-up one. A time returned by a handler
was shown with its seconds ("10:00:00"). Outputs are now read as their slots' types,
as collected values are; an output the type cannot read stays as it came. An output
no conversation state can hold (an object of no JSON type) is kept as its text, and
the conversation goes on.
"""

from __future__ import annotations

from pathlib import Path

from soni import ActionRegistry, Bot

from .._bots import written_bot

BOT = """
slots:
  next_visit: {type: date}
  visit_time: {type: time}
  note: {type: integer}
actions:
  look_up: {outputs: [next_visit, visit_time, note]}
  skip_visit: {inputs: [next_visit], outputs: [moved_to], confirm: "Skip {next_visit}?"}
flows:
  skip:
    trigger: {intents: ["skip my visit"]}
    steps:
      - {step: look, type: action, call: look_up}
      - {step: tell, type: say, message: "Your visit is on {next_visit} at {visit_time}."}
      - {step: skip, type: action, call: skip_visit}
      - {step: done, type: end, message: "Moved to {moved_to}. Note: {note}."}
"""
ACTIONS = """
import datetime as dt

from soni import ActionRegistry


@ActionRegistry.register("look_up")
def look_up() -> dict:
    return {"next_visit": dt.date(2026, 12, 18), "visit_time": dt.time(10, 0), "note": "n/a"}


@ActionRegistry.register("skip_visit")
def skip_visit(next_visit: dt.date) -> dict:
    return {"moved_to": (next_visit + dt.timedelta(days=7)).isoformat()}
"""


async def test_a_returned_date_and_time_keep_their_types(tmp_path: Path) -> None:
    async with written_bot(tmp_path, BOT, ACTIONS) as bot:
        said = await bot.handle("c1", "skip my visit")
        assert said.texts == ["Your visit is on 2026-12-18 at 10:00.", "Skip 2026-12-18?"]

        said = await bot.handle("c1", "yes")
        # The guarded handler got a date (it adds a week); "n/a" is no integer and
        # stays as it came rather than failing the turn.
        assert said.texts == ["Moved to 2026-12-25. Note: n/a."]


async def test_an_unserialisable_action_output_does_not_break_the_conversation(
    handlers: object, tmp_path: Path
) -> None:
    folder = tmp_path / "odd"
    folder.mkdir()
    (folder / "bot.yaml").write_text(
        "flows:\n"
        "  odd:\n"
        "    steps:\n"
        "      - {step: get, type: action, call: review_odd_output, map_outputs: {obj: thing}}\n"
        "      - {step: tell, type: say, message: 'got it'}\n"
        "slots:\n"
        "  thing: {type: any}\n"
    )

    class Opaque:
        def __str__(self) -> str:
            return "opaque"

    registry = ActionRegistry()
    registry.register_local("review_odd_output", lambda: {"obj": Opaque()})
    bot = await Bot.load(folder, db=str(tmp_path / "odd.db"), registry=registry)
    try:
        first = await bot.handle("odd-1", "/odd")
        second = await bot.handle("odd-1", "/odd")
    finally:
        await bot.aclose()

    assert first.texts == ["got it"]
    assert first.slots["thing"] == "opaque"
    assert second.texts == ["got it"]
