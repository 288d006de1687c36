"""Fixtures of the reliability suite: the bots, a seeded random source, a warm CLI."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from ._cli_worker import CliWorker
from ._executions import Executions
from ._process import soni_env

BOTS = Path(__file__).resolve().parent / "bots"
LEDGER = BOTS / "ledger"
"""The bot whose handlers record each execution; its actions must never run twice."""
LEDGER_RETRY = BOTS / "ledger_retry"
"""Its actions soni may run again (``idempotent=True``) or check (``reconcile=``), and a
flow with ``on_unknown``."""


@pytest.fixture
def seed() -> int:
    """The seed of a test's random choices (kill points, decisions), named in its failures:
    ``SONI_FAULT_SEED=N`` draws the same ones again."""
    return int(os.environ.get("SONI_FAULT_SEED") or random.SystemRandom().randrange(2**32))


@pytest.fixture
def executions(tmp_path: Path) -> Executions:
    return Executions(tmp_path / "executions.jsonl")


@pytest.fixture
def server_env(executions: Executions) -> dict[str, str]:
    """What the reliability bots' handlers need: where to record their runs."""
    return {"SONI_RELIABILITY_EXECUTIONS": str(executions.path)}


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[CliWorker]:
    """``soni`` kept warm in a process of its own."""
    with CliWorker(soni_env(), tmp_path) as worker:
        yield worker
