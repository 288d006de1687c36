"""The held-out sets with the matcher: never below the rules alone, out of scope kept.

Floors are the scores measured when the matcher's threshold was chosen (on set1, the
examples' own sets and out-of-scope probes; see docs/nlu-evaluation.md), with the
rules as they were then: when the rules improve, a set may need the matcher less.
The rules alone are scored in the same test: the matcher must not lose a case they
get, nor start a flow for an out-of-scope case they leave out of scope.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from soni.testing import Evaluation, evaluate

from ._bots import EXAMPLES, NLU, fresh, load

# (bot folder, labeled set): the floor with the matcher (the rules alone, for the record).
FLOORS = {
    (fresh("restaurant"), NLU / "fresh/restaurant/set1.yaml"): 0.969,  # rules 95.5%
    (fresh("helpdesk"), NLU / "fresh/helpdesk/set1.yaml"): 0.951,  # rules 93.7%
    (fresh("parcels"), NLU / "fresh/parcels/set1.yaml"): 0.920,  # rules 91.3%
    (fresh("restaurant"), NLU / "fresh/restaurant/set2.yaml"): 0.960,  # rules 94.1%
    (fresh("helpdesk"), NLU / "fresh/helpdesk/set2.yaml"): 0.978,  # rules 97.1%
    (fresh("parcels"), NLU / "fresh/parcels/set2.yaml"): 0.890,  # rules 86.6%
    **{
        (EXAMPLES / bot, NLU / "heldout" / f"{bot}.yaml"): 1.0  # rules 100%
        for bot in ("banking", "file_assistant", "hotel_booking", "pharmacy")
    },
}


def _name(key: tuple[Path, Path]) -> str:
    return f"{key[1].parent.name}/{key[1].stem}"


@pytest.mark.parametrize("key", list(FLOORS), ids=_name)
async def test_a_set_with_the_matcher(
    key: tuple[Path, Path], model: Path, record_property: Callable[[str, object], None]
) -> None:
    folder, labeled = key
    rules = await _score(folder, labeled, embeddings=False)
    both = await _score(folder, labeled, embeddings=True)
    record_property(
        "figure", f"{_name(key)}: rules {rules.accuracy:.1%}, with embeddings {both.accuracy:.1%}"
    )

    assert both.accuracy >= FLOORS[key] - 0.0005, both.report()
    lost = {f.index for f in both.failures} - {f.index for f in rules.failures}
    assert not lost, both.report()  # the matcher only reads what the rules left
    started = [f for f in both.failures if f.expected[0].kind == "out_of_scope"]
    assert len(started) == sum(1 for f in rules.failures if f.expected[0].kind == "out_of_scope")


async def _score(folder: Path, labeled: Path, *, embeddings: bool) -> Evaluation:
    bot = await load(folder, embeddings=embeddings)
    try:
        return await evaluate(bot, labeled)
    finally:
        await bot.aclose()
