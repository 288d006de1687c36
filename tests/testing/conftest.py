"""Fixtures for the conversation-test runner: the test shop bot, the example bots."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from soni import ActionRegistry, load_actions
from soni.actions import ActionSpec

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parents[1] / "examples"


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A copy of the test shop bot; its handlers are imported afresh from the copy."""
    return Path(shutil.copytree(HERE / "bots" / "shop", tmp_path / "shop"))


WriteTests = Callable[[str], Path]


@pytest.fixture
def write_tests(shop: Path) -> WriteTests:
    """Write a test file into the shop's tests/ folder; returns its path."""
    folder = shop / "tests"
    folder.mkdir(exist_ok=True)
    count = iter(range(1, 1000))

    def write(text: str) -> Path:
        path = folder / f"case{next(count)}.yaml"
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def example_handlers() -> Mapping[str, ActionSpec]:
    """Every example's handlers, registered once by (re)running their modules."""
    previous = ActionRegistry._replace_global({})
    try:
        for folder in sorted(p for p in EXAMPLES.iterdir() if (p / "actions.py").exists()):
            for module in load_actions(folder / "actions.py"):
                # Another test may have imported it already: run the decorators again.
                assert module.__spec__ is not None and module.__spec__.loader is not None
                module.__spec__.loader.exec_module(module)
        return dict(ActionRegistry._global)
    finally:
        ActionRegistry._replace_global(previous)


@pytest.fixture
def examples(example_handlers: Mapping[str, ActionSpec]) -> Path:
    """The examples folder, with their handlers registered for this test."""
    # The autouse isolation fixture emptied the global map; put the examples back.
    ActionRegistry._replace_global(example_handlers)
    return EXAMPLES
