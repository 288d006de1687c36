from collections.abc import Iterator

import pytest

from soni import ActionRegistry


@pytest.fixture(autouse=True)
def _isolated_global_actions() -> Iterator[None]:
    """Each test starts with no global actions and leaves the process's map as it found it."""
    previous = ActionRegistry._replace_global({})
    try:
        yield
    finally:
        ActionRegistry._replace_global(previous)
