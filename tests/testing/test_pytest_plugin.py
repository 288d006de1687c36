"""The pytest plugin: a bot project's `pytest` runs its conversation tests.

pytest runs in a subprocess here, as a bot project would run it, with the plugin
loaded from soni's entry point.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import WriteTests

pytestmark = pytest.mark.slow  # each runs pytest in a process of its own

PASSING = "  - {name: greets, steps: [{user: hello}, {bot: 'Hello !'}]}\n"
FAILING = "  - name: says bye\n    steps:\n      - user: hello\n      - bot: Bye\n"


def pytest_in(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (folder / "pytest.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_bots_conversations_are_pytest_tests(
    shop: Path, write_tests: WriteTests, tmp_path: Path
) -> None:
    write_tests("tests:\n" + PASSING + FAILING)
    done = pytest_in(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert "FAILED shop/tests/case1.yaml::says bye - step 2 (line 6): bot: 'Bye'" in out
    assert "step 2 (line 6): bot: 'Bye'\n  expected: the reply 'Bye'\n  actual:   'Hello !'" in out
    assert "1 failed, 1 passed" in out


def test_a_malformed_file_is_a_collection_error(
    shop: Path, write_tests: WriteTests, tmp_path: Path
) -> None:
    write_tests("tests:\n  - name: t\n    steps: [{usr: hi}]\n")
    done = pytest_in(tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "ERROR collecting shop/tests/case1.yaml" in done.stdout
    assert "1 error in the conversation tests:" in done.stdout
    assert "case1.yaml:3:13: tests[0].steps[0]: unknown step 'usr'" in done.stdout


def test_other_yaml_files_are_left_alone(tmp_path: Path) -> None:
    # A tests/ folder outside a bot, and a bot's tests/ file without `tests:`.
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "data.yaml").write_text("tests:\n  - {name: t, steps: [{user: x}]}\n")
    bot = tmp_path / "bot"
    (bot / "tests").mkdir(parents=True)
    (bot / "bot.yaml").write_text("flows: {}\n")
    (bot / "tests" / "fixture.yaml").write_text("items: [1, 2]\n")
    done = pytest_in(tmp_path, "--collect-only")
    assert "no tests collected" in done.stdout, done.stdout + done.stderr
