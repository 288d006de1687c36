"""SIGKILL one of two workers in the middle of approve cycles; the other carries on.

Real ``soni serve`` processes on one PostgreSQL database, the same secret, the
ledger bot whose handlers write every run to a file. See ``_kill_cycles.py`` for
what a round does. Nothing is restarted to recover: the survivor alone must find
every confirmation, tell the runs the kill cut off as unknown, never run a payment
twice, and take every conversation's next message.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._scale import scaled
from tests.reliability._approval_trials import summary
from tests.reliability._cli_worker import CliWorker
from tests.reliability._executions import Executions
from tests.reliability._process import soni_env
from tests.reliability.conftest import LEDGER

from ._kill_cycles import Round, run_round
from ._workers import workers

CYCLES = 50
"""Approve cycles per round, the kill in their middle."""
ROUNDS = scaled(ci=1, full=6)
"""Kills: under ``make reliability`` the killed worker is restarted and the other one
is killed in the next round, six times over."""

WINDOW = "0.1-0.2"
"""Seconds each handler dawdles after its side effect: long enough that the kill,
aimed at it from a busy test process on a shared machine, lands in it."""


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[CliWorker]:
    """``soni`` kept warm in a process of its own."""
    with CliWorker(soni_env(), tmp_path) as worker:
        yield worker


async def test_a_worker_killed_mid_approvals_loses_nothing_and_runs_nothing_twice(
    tmp_path: Path,
    postgres_database: str,
    executions: Executions,
    cli: CliWorker,
    seed: int,
    record_property: pytest.RecordProperty,
) -> None:
    rng = random.Random(seed)
    env = {"SONI_RELIABILITY_EXECUTIONS": str(executions.path), "SONI_RELIABILITY_WINDOW": WINDOW}
    rounds: list[Round] = []
    with workers(LEDGER, postgres_database, 2, cwd=tmp_path, env=env) as servers:
        for number in range(ROUNDS):
            victim = number % 2
            for server in servers:
                if not server.running:
                    server.start()  # the last round's victim, back for this one
            rounds.append(
                await run_round(
                    servers, victim, cli, executions, db=postgres_database,
                    first=number * CYCLES, cycles=CYCLES, rng=rng,
                )
            )  # fmt: skip
        errors = [error for server in servers for error in server.errors]

    trials = [trial for done in rounds for trial in done.trials]
    lost = [cid for done in rounds for cid in done.lost]
    doubles = executions.doubles()
    kills = "/".join(str(done.killed_after) for done in rounds)
    figure = summary(
        f"worker killed mid-approvals ({ROUNDS} x {CYCLES} cycles, killed after {kills}"
        " answered; approvals cut off)",
        trials,
        len(doubles),
        len(lost),
    )
    record_property("figure", figure)

    failing = [f"{t.describe()}\n    " + "; ".join(t.problems()) for t in trials if t.problems()]
    failing += [problem for done in rounds for problem in done.problems]
    if failing and errors:
        failing.append("the workers logged:\n" + "\n".join(errors))
    assert all(done.killed for done in rounds), f"a kill never found its moment (seed {seed})"
    assert not lost, f"lost confirmations {lost} (seed {seed})"
    assert not doubles, f"idempotency keys run more than once: {doubles} (seed {seed})"
    assert not failing, f"{figure} (seed {seed})\n" + "\n".join(failing)
    # Every kill was aimed at a handler's window: runs it cut off must be among them.
    assert any(t.unknown for t in trials), f"no kill landed in a claimed run: {figure}"
