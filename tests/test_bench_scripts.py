"""`make bench` runs each script in bench/ as a script: each must at least start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests._postgres import postgres_server, require_postgres

pytestmark = pytest.mark.slow  # each runs a benchmark script in a process of its own

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.parametrize(
    "script",
    [
        "registry.py",
        "confirmations.py",
        "turns.py",
        "http.py",
        "storage.py",
        "scale.py",
        "remote.py",
    ],
)
def test_a_benchmark_script_starts(script: str, tmp_path: Path) -> None:
    # --help runs every import and the argument parser, then stops. The folder holds
    # http.py: a script there must not shadow the standard library's http package.
    done = subprocess.run(
        [sys.executable, str(BENCH / script), "--help"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout


def test_the_remote_actions_benchmark_runs_at_a_tiny_size(tmp_path: Path) -> None:
    # A real server, a real worker process and the bare WebSocket floor, a few calls.
    done = subprocess.run(
        [sys.executable, str(BENCH / "remote.py"), "--calls", "60", "--seconds", "0.2",
         "--rounds", "1"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stdout + done.stderr
    for kind in ("async", "sync"):
        assert f"== (a) one {kind} action call at a time" in done.stdout
        assert f"remote {kind} action, one worker connection" in done.stdout
    assert "the round trip adds, median (target <= 1000)" in done.stdout
    assert "bare WebSocket round trip, p95" in done.stdout


def test_the_storage_benchmark_runs_at_a_tiny_size(tmp_path: Path) -> None:
    tiny = ["--turns", "5,10", "--pg-turns", "5,10", "--before", "10", "--cost", "10",
            "--latency-at", "20", "--latency-conversations", "1",
            "--history", "100", "--deletes", "1", "--journal", "1000",
            "--samples", "30"]  # fmt: skip
    done = subprocess.run(
        [sys.executable, str(BENCH / "storage.py"), *tiny],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    for section in ("(a)", "(b)", "(c)"):
        assert f"== {section}" in done.stdout
    assert "rows at turn 10 (1 checkpoint(s))" in done.stdout
    assert "the pruning suspended" in done.stdout
    assert "while 1 conversation(s) of 100 checkpoints are deleted" in done.stdout
    assert "while the journal purges 1,000 entries" in done.stdout
    assert "a turn's time at turn 10 and at turn 20 of a conversation (SQLite)" in done.stdout
    assert "turn 20, median" in done.stdout
    assert "what the slow turns waited for" in done.stdout


def test_the_scale_benchmark_runs_at_a_tiny_size(tmp_path: Path) -> None:
    # The whole of bench/scale.py on the test PostgreSQL server: one and two
    # workers under a moment of load, a few turns next to bare LangGraph.
    require_postgres()
    done = subprocess.run(
        [sys.executable, str(BENCH / "scale.py"), "--postgres", postgres_server(),
         "--workers", "1,2", "--users", "4", "--rounds", "1", "--seconds", "0.5",
         "--warm", "0.2", "--turns", "5", "--trips", "3"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stdout + done.stderr
    for section in ("(a) HTTP chat turns", "(b) turns on PostgreSQL", "(c) what limits"):
        assert section in done.stdout, done.stdout
    assert "2 workers, turns/s" in done.stdout
    assert "skipped" not in done.stdout
