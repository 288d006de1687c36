"""SIGKILL anywhere in an approve cycle: nothing lost, nothing run twice, unknown told as unknown.

Real ``soni serve`` processes on one SQLite file, killed at random points of an
HTTP approval or a chat "yes", restarted, and retried the way a user retries.
"""

from __future__ import annotations

import random
from pathlib import Path

import httpx
import pytest

from tests._scale import scaled

from ._approval_trials import ApprovalTrial, Channel, run_approval_trial, summary
from ._cli_worker import CliWorker
from ._executions import Executions
from ._process import SoniServer
from .conftest import LEDGER

TRIALS = scaled(ci=2, full=105)
"""Kill trials per channel: 210 in all under ``make reliability``. Each costs a
server start (~2 s of CPU), hence only two per channel in ``make test``."""

ORDER: dict[Channel, tuple[str, ...]] = {
    "http": ("in the handler", "at once", "anywhere", "after the decision"),
    "chat": ("in the handler", "after the decision", "anywhere", "at once"),
}
"""What each trial's kill point is drawn after, in turn (``_approval_trials.AIMS``):
the handler's window first, so that even ``make test``'s two trials per channel hit it."""


@pytest.mark.parametrize("channel", ["http", "chat"])
async def test_an_approval_killed_anywhere_is_never_lost_doubled_or_misreported(
    channel: Channel,
    tmp_path: Path,
    executions: Executions,
    server_env: dict[str, str],
    cli: CliWorker,
    seed: int,
    record_property: pytest.RecordProperty,
) -> None:
    rng = random.Random(seed)
    trials: list[ApprovalTrial] = []
    with SoniServer(LEDGER, tmp_path / "state.db", server_env) as server:
        server.start()
        for number in range(TRIALS):
            trial = await run_approval_trial(
                server, cli, executions, number=number, channel=channel,
                aim=ORDER[channel][number % len(ORDER[channel])], rng=rng,
            )  # fmt: skip
            trials.append(trial)
        # After every restart, every confirmation the trials saw registered is there.
        async with httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=30) as client:
            lost = [
                t.confirmation_id
                for t in trials
                if (await client.get(f"/confirmations/{t.token}")).status_code != 200
            ]
    doubles = executions.doubles()
    figure = summary(f"kill trials ({channel})", trials, len(doubles), len(lost))
    record_property("figure", figure)

    failing = [f"{t.describe()}\n    " + "; ".join(t.problems()) for t in trials if t.problems()]
    if failing and server.errors:
        failing.append("the servers logged:\n" + "\n".join(server.errors))
    assert not lost, f"lost confirmations {lost} (seed {seed})"
    assert not doubles, f"idempotency keys run more than once: {doubles} (seed {seed})"
    assert not failing, f"{figure} (seed {seed})\n" + "\n".join(failing)
    # A run whose kills all missed the window between side effect and result
    # would prove nothing about it.
    assert any(t.unknown for t in trials), f"no kill landed in a claimed run: {figure}"
