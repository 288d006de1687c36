"""SIGKILL during a new conversation's first turn, while an unguarded action runs.

Nothing is checkpointed yet; the action journal holds the run. Sending the same
message again must never be answered "Sorry, I couldn't …": an action that is not
safe to repeat is told as unknown (and not repeated), one registered
``idempotent=True`` runs again, with the same idempotency key, and answers.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests._scale import scaled

from ._executions import Executions
from ._first_turn_trials import FirstTurnKind, FirstTurnTrial, run_first_turn_trial
from ._process import SoniServer
from .conftest import LEDGER, LEDGER_RETRY

TRIALS = scaled(ci=1, full=30)
"""Kill trials per kind of action (a server start each)."""


@pytest.mark.parametrize(
    ("kind", "bot"),
    [("once", LEDGER), ("again", LEDGER_RETRY)],
    ids=["not-idempotent", "idempotent"],
)
async def test_a_first_turn_killed_in_its_action_is_retried_without_failure_words(
    kind: FirstTurnKind,
    bot: Path,
    tmp_path: Path,
    executions: Executions,
    server_env: dict[str, str],
    seed: int,
    record_property: pytest.RecordProperty,
) -> None:
    rng = random.Random(seed)
    trials: list[FirstTurnTrial] = []
    with SoniServer(bot, tmp_path / "state.db", server_env) as server:
        server.start()
        for number in range(TRIALS):
            # Mostly aimed at the handler's window; every fourth anywhere in the turn.
            aim = "anywhere" if number % 4 == 3 else "in the handler"
            trials.append(
                await run_first_turn_trial(
                    server, executions, number=number, kind=kind, aim=aim, rng=rng
                )
            )
    interrupted = [t for t in trials if t.interrupted]
    handled = sum(1 for t in interrupted if not t.problems())
    told = "told unknown" if kind == "once" else "run again"
    figure = (
        f"first-turn kill trials ({kind}): {len(trials)},"
        f" interrupted {told} {handled}/{len(interrupted)},"
        f" failure words {sum(1 for t in trials if 'failure words' in ' '.join(t.problems()))}"
    )
    record_property("figure", figure)

    failing = [f"{t.describe()}\n    " + "; ".join(t.problems()) for t in trials if t.problems()]
    assert not failing, f"{figure} (seed {seed})\n" + "\n".join(failing)
    assert interrupted, f"no kill landed while the action ran: {figure}"
