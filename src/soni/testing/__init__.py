"""Conversation tests: YAML scripts of what a user says and what the bot must do.

Run them with ``soni test BOT``, from pytest (the ``soni`` plugin collects a bot's
``tests/*.yaml``), or from Python::

    report = await run_tests("examples/banking")
    assert report.ok, [r.failure for r in report.results if r.failure]

The format and every step are described in docs/testing.md.

Also the labelled sets that measure a bot's understanding (``nlu.yaml``:
:func:`evaluate`, :func:`load_labeled_set`; docs/nlu-evaluation.md).
"""

from typing import TYPE_CHECKING, Any

from soni.testing.errors import ConversationTestErrors
from soni.testing.evaluate import Evaluation, evaluate
from soni.testing.labeled import LabeledSet, load_labeled_set
from soni.testing.loading import (
    ConversationTestFile,
    discover,
    load_test_file,
    load_test_files,
    parse_test_file,
)
from soni.testing.models import STEP_KEYS, ConversationTest
from soni.testing.results import (
    ConversationResult,
    Observed,
    PendingSeen,
    RunReport,
    StepFailure,
)

if TYPE_CHECKING:
    from soni.testing.runner import run_file, run_test, run_tests

# The runner pulls in the engine (LangGraph); reading or checking a test file, and
# the pytest plugin's start-up, should not pay for that import.
_LAZY = frozenset({"run_file", "run_test", "run_tests"})


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from soni.testing import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'soni.testing' has no attribute {name!r}")


__all__ = (
    "STEP_KEYS",
    "ConversationResult",
    "ConversationTest",
    "ConversationTestErrors",
    "ConversationTestFile",
    "Evaluation",
    "LabeledSet",
    "Observed",
    "PendingSeen",
    "RunReport",
    "StepFailure",
    "discover",
    "evaluate",
    "load_labeled_set",
    "load_test_file",
    "load_test_files",
    "parse_test_file",
    "run_file",
    "run_test",
    "run_tests",
)
