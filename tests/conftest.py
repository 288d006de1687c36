from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from soni import ActionRegistry
from soni.actions import ActionSpec

from ._handlers import registered_by

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(autouse=True)
def _isolated_global_actions() -> Iterator[None]:
    """Each test starts with no global actions and leaves the process's map as it found it."""
    previous = ActionRegistry._replace_global({})
    try:
        yield
    finally:
        ActionRegistry._replace_global(previous)


@pytest.fixture(scope="session")
def example_handlers() -> Mapping[str, ActionSpec]:
    """Every example bot's handlers, registered once by (re)running their modules."""
    return registered_by(sorted(EXAMPLES.glob("*/actions.py")))


@pytest.fixture
def handlers(example_handlers: Mapping[str, ActionSpec]) -> Mapping[str, ActionSpec]:
    """The examples' handlers, registered for this test."""
    # The autouse isolation fixture emptied the global map; put the examples back.
    ActionRegistry._replace_global(example_handlers)
    return example_handlers
