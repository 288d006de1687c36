"""The rule-based understanding reads each example's labelled set at 95% or better."""

from __future__ import annotations

from pathlib import Path

import pytest

from soni import Bot
from soni.nlu.rules import RulesUnderstanding
from soni.testing import evaluate

from ..engine.conftest import EXAMPLES

BOTS = ("banking", "dentist", "file_assistant", "hotel_booking", "pharmacy")
# The examples with a held-out set written blind (the dentist came later: its choices
# are data, and its labeled set alone measures it).
HELD_OUT_BOTS = ("banking", "file_assistant", "hotel_booking", "pharmacy")
HELD_OUT = Path(__file__).parent / "heldout"


@pytest.mark.parametrize("name", BOTS)
@pytest.mark.usefixtures("handlers")
async def test_each_example_is_understood_at_95_percent_or_better(name: str) -> None:
    bot = await Bot.load(EXAMPLES / name, db=":memory:")
    try:
        assert isinstance(bot.engine.understanding, RulesUnderstanding)  # the offline default
        evaluation = await evaluate(bot, EXAMPLES / name / "nlu.yaml")
    finally:
        await bot.aclose()

    assert evaluation.accuracy >= 0.95, evaluation.report()
    for kind, score in evaluation.by_type.items():
        assert score.total, kind
    assert evaluation.overall.total >= 60


@pytest.mark.parametrize("name", HELD_OUT_BOTS)
@pytest.mark.usefixtures("handlers")
async def test_the_held_out_sets_stay_understood(name: str) -> None:
    """Sets written without looking at the rules (94% the first time they ran; the
    misses were fixed as general rules). Kept as regression data."""
    bot = await Bot.load(EXAMPLES / name, db=":memory:")
    try:
        evaluation = await evaluate(bot, HELD_OUT / f"{name}.yaml")
    finally:
        await bot.aclose()

    assert evaluation.accuracy >= 0.95, evaluation.report()
