"""A handler whose result does not fit its action's declaration is a wiring mistake:
``outputs: [free3]`` while the handler returns ``free_3`` rendered "14:30 or ." and
dropped the key without a word. Now it is logged (once) on ``soni.wiring``, listed by
``Bot.wiring_problems``, and fails the conversation test where it happened."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from soni.testing import run_tests

from .._bots import written_bot

BOT = """
slots:
  free1: {type: string}
  free3: {type: string}
actions:
  find_times:
    outputs: [free1, free3]
flows:
  book:
    trigger: {intents: ["book a visit"]}
    steps:
      - {step: find, type: action, call: find_times}
      - {step: offer, type: end, message: "{free1} or {free3}."}
"""

ACTIONS = """
from soni import ActionRegistry

@ActionRegistry.register("find_times")
def find_times() -> dict:
    return {"free1": "09:00", "free_3": "14:30"}
"""


async def test_a_result_that_does_not_fit_is_told_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with written_bot(tmp_path, BOT, ACTIONS) as bot:
        with caplog.at_level(logging.WARNING, logger="soni.wiring"):
            first = await bot.handle("w1", "book a visit")
            await bot.handle("w2", "book a visit")

        assert first.texts == ["09:00 or ."]  # the turn still answers
        missing, extra = bot.wiring_problems
        assert "action 'find_times' returned no 'free3'" in missing
        assert "returned 'free_3', which its declared outputs do not name" in extra
        assert "(did you mean 'free3'?)" in extra
        logged = [r.getMessage() for r in caplog.records if r.name == "soni.wiring"]
        assert logged == [missing, extra]  # once each, however often it happens


async def test_a_result_that_fits_is_no_problem(tmp_path: Path) -> None:
    fits = ACTIONS.replace('"free_3"', '"free3"')
    async with written_bot(tmp_path, BOT, fits) as bot:
        assert (await bot.handle("w3", "book a visit")).texts == ["09:00 or 14:30."]
        assert bot.wiring_problems == ()


async def test_a_conversation_test_fails_where_a_result_does_not_fit(tmp_path: Path) -> None:
    async with written_bot(tmp_path, BOT, ACTIONS):
        pass  # writes the bot and registers its handlers
    tests = tmp_path / "tests" / "visit.yaml"
    tests.parent.mkdir()
    tests.write_text(
        'tests:\n  - name: a visit offered\n    steps:\n      - user: "book a visit"\n'
        '      - bot: "/or/"\n'
    )

    report = await run_tests(tmp_path, [tests])

    (result,) = report.results
    assert result.failure is not None
    assert result.failure.index == 1  # the step whose turn ran the handler
    assert result.failure.expected == "handlers to return what their actions declare"
    assert "returned no 'free3'" in result.failure.actual
