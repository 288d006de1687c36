"""`make bench` runs each script in bench/ as a script: each must at least start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.parametrize("script", ["registry.py", "confirmations.py", "turns.py", "http.py"])
def test_a_benchmark_script_starts(script: str, tmp_path: Path) -> None:
    # --help runs every import and the argument parser, then stops. The folder holds
    # http.py: a script there must not shadow the standard library's http package.
    done = subprocess.run(
        [sys.executable, str(BENCH / script), "--help"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout
