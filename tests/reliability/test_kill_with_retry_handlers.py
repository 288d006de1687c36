"""SIGKILL in approve cycles of actions soni may run again, may check, or whose flow routes
an unknown outcome: ``idempotent=True``, ``reconcile=``, ``on_unknown:``.

The same trials as ``test_kill_during_approval``, on the retry bot: an interrupted
``idempotent`` run is run again (same idempotency key) and answered as done; a
``reconcile``d one is asked about and never runs twice; a flow with
``on_unknown`` goes to that step instead of the default unknown-outcome reply.
"""

from __future__ import annotations

import random
from pathlib import Path

import httpx
import pytest

from tests._scale import scaled

from ._approval_trials import AIMS, FLOWS, ApprovalTrial, Channel, Kind, run_approval_trial, summary
from ._cli_worker import CliWorker
from ._executions import Executions
from ._process import SoniServer
from .conftest import LEDGER_RETRY

KINDS: tuple[Kind, ...] = ("again", "checked", "routed")
TRIALS = scaled(ci=3, full=45)
"""Kill trials in all, the kinds taking turns; the first round aims at the handler."""


async def test_interrupted_runs_are_run_again_checked_or_routed_as_their_handlers_say(
    tmp_path: Path,
    executions: Executions,
    server_env: dict[str, str],
    cli: CliWorker,
    seed: int,
    record_property: pytest.RecordProperty,
) -> None:
    rng = random.Random(seed)
    trials: list[ApprovalTrial] = []
    channels: tuple[Channel, ...] = ("http", "chat")
    with SoniServer(LEDGER_RETRY, tmp_path / "state.db", server_env) as server:
        server.start()
        for number in range(TRIALS):
            rounds = number // len(KINDS)
            trials.append(
                await run_approval_trial(
                    server, cli, executions, number=number,
                    kind=KINDS[number % len(KINDS)], channel=channels[number % 2],
                    aim=AIMS[(2 + rounds) % len(AIMS)], rng=rng,
                )
            )  # fmt: skip
        async with httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=30) as client:
            lost = [
                t.confirmation_id
                for t in trials
                if (await client.get(f"/confirmations/{t.token}")).status_code != 200
            ]
    # pay_again may run twice under one key: that is what idempotent=True allows.
    doubles = executions.doubles(safe_to_repeat=[FLOWS["again"][1]])
    figure = summary(
        "kill trials (idempotent, reconcile, on_unknown)", trials, len(doubles), len(lost)
    )
    record_property("figure", figure)

    failing = [f"{t.describe()}\n    " + "; ".join(t.problems()) for t in trials if t.problems()]
    assert not lost, f"lost confirmations {lost} (seed {seed})"
    assert not doubles, f"idempotency keys run more than once: {doubles} (seed {seed})"
    assert not failing, f"{figure} (seed {seed})\n" + "\n".join(failing)
    for kind in KINDS:
        assert any(t.unknown for t in trials if t.kind == kind), (
            f"no {kind} run interrupted: {figure}"
        )
