"""Every example bot's conversation tests (examples/<bot>/tests/*.yaml) pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from soni.testing import discover, load_test_files, run_tests
from soni.testing.models import ApproveStep, ChooseStep, ExpireStep, SkipStep

from .conftest import EXAMPLES

BOTS = sorted(p.name for p in EXAMPLES.iterdir() if (p / "actions.py").exists())


@pytest.mark.parametrize("bot", BOTS)
@pytest.mark.slow  # every conversation test of an example bot
async def test_the_examples_conversation_tests_pass(examples: Path, bot: str) -> None:
    files = load_test_files(discover(examples / bot))
    tests = [test for file in files for test in file.tests]
    assert len(tests) >= 5
    kinds = {type(step) for test in tests for step in test.steps}
    assert {SkipStep, ExpireStep} <= kinds and kinds & {ApproveStep, ChooseStep}

    report = await run_tests(examples / bot, files)

    failed = [r for r in report.results if r.failure is not None]
    failures = [f"{r.location} {r.name}\n{r.failure.explain()}" for r in failed if r.failure]
    assert not failures, "\n\n".join(failures)
    assert report.passed == len(tests)
