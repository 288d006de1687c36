"""bench/embeddings.py starts, and runs at a tiny size."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # runs the benchmark in a process of its own

BENCH = Path(__file__).resolve().parents[3] / "bench" / "embeddings.py"


def test_the_benchmark_starts_without_the_extra(tmp_path: Path) -> None:
    # --help imports the script and parses arguments only: no numpy needed.
    done = subprocess.run(
        [sys.executable, str(BENCH), "--help"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout


def test_the_benchmark_runs_at_a_tiny_size(tmp_path: Path, model: Path) -> None:
    tiny = ["--loads", "1", "--rounds", "1", "--number", "1", "--no-scores"]
    done = subprocess.run(
        [sys.executable, str(BENCH), *tiny],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stdout + done.stderr
    for section in ("== (a) loading", "== (b) one message"):
        assert section in done.stdout
    assert "resident memory the model adds" in done.stdout
    assert "rules + matcher" in done.stdout
