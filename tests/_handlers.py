"""Registering handler modules in tests, where each test starts with none.

The autouse fixture in ``conftest.py`` empties the global action map for every
test, but a module is imported once per process: loading it again finds it
imported and registers nothing. These helpers run its decorators again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType

from soni import ActionRegistry, load_actions
from soni.actions import ActionSpec

__all__ = ("register_again", "registered_by")


def register_again(path: str | Path) -> list[ModuleType]:
    """Load the handler module(s) at ``path`` and run their decorators (again)."""
    modules = load_actions(str(path))
    for module in modules:
        assert module.__spec__ is not None and module.__spec__.loader is not None
        module.__spec__.loader.exec_module(module)
    return modules


def registered_by(paths: Iterable[str | Path]) -> Mapping[str, ActionSpec]:
    """The handlers the modules at ``paths`` register; the global map is left as found."""
    previous = ActionRegistry._replace_global({})
    try:
        for path in paths:
            register_again(path)
        return dict(ActionRegistry._global.current)
    finally:
        ActionRegistry._replace_global(previous)
