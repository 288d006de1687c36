"""Fixtures of the multi-process suite: the bots, the executions file, a seeded random source."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from tests.reliability._executions import Executions

BOTS = Path(__file__).resolve().parent / "bots"
TALLY = BOTS / "tally"
"""The bot whose replies tell every item its conversation was sent, in the order it
took them (tests/scale/bots/tally)."""


@pytest.fixture
def seed() -> int:
    """The seed of a test's random choices, named in its failures: ``SONI_FAULT_SEED=N``
    draws the same ones again."""
    return int(os.environ.get("SONI_FAULT_SEED") or random.SystemRandom().randrange(2**32))


@pytest.fixture
def executions(tmp_path: Path) -> Executions:
    return Executions(tmp_path / "executions.jsonl")
