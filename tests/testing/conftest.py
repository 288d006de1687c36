"""Fixtures for the conversation-test runner: the test shop bot, the example bots."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from soni import ActionRegistry
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


@pytest.fixture
def examples(example_handlers: Mapping[str, ActionSpec]) -> Path:
    """The examples folder, with their handlers registered for this test."""
    # The autouse isolation fixture emptied the global map; put the examples back.
    ActionRegistry._replace_global(example_handlers)
    return EXAMPLES
