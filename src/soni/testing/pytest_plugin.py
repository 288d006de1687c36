"""A pytest plugin: a bot's conversation tests run in its project's pytest suite.

soni registers it (entry point ``soni`` in ``pytest11``), so installing soni is
enough: ``pytest`` collects each ``tests/*.yaml`` file that sits in a bot folder
(one with a YAML file defining ``flows:``) and has a top-level ``tests:`` key, with
one pytest test per conversation. Files that are not conversation tests — anything
outside a bot's ``tests`` folder, YAML without ``tests:`` — are left alone.
Disable it with ``-p no:soni``.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from soni.testing.loading import ConversationTestFile
    from soni.testing.results import ConversationResult

__all__ = ("ConversationFailed", "ConversationItem", "ConversationTestsFile")

_SUFFIXES = (".yaml", ".yml")
_NOT_BOT_FILES = frozenset({"nlu.yaml", "nlu.yml"})
_TESTS_KEY = re.compile(r"^tests\s*:", re.MULTILINE)
_FLOWS_KEY = re.compile(r"^flows\s*:", re.MULTILINE)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix.lower() not in _SUFFIXES or file_path.parent.name != "tests":
        return None
    if not _is_bot_folder(file_path.parent.parent) or not _declares_tests(file_path):
        return None
    collector: pytest.Collector = ConversationTestsFile.from_parent(parent, path=file_path)
    return collector


def _is_bot_folder(folder: Path) -> bool:
    """A folder with a YAML file that defines flows: a bot, not just any project.

    Plenty of projects keep YAML at their root (``mkdocs.yml``, a compose file)
    and a ``tests`` folder beside it; only a bot's flows make it soni's.
    """
    return any(
        entry.suffix.lower() in _SUFFIXES
        and entry.name.lower() not in _NOT_BOT_FILES
        and not entry.name.startswith(".")
        and entry.is_file()
        and _has_key(entry, _FLOWS_KEY)
        for entry in folder.iterdir()
    )


def _declares_tests(file: Path) -> bool:
    return _has_key(file, _TESTS_KEY)


def _has_key(file: Path, key: re.Pattern[str]) -> bool:
    try:
        return key.search(file.read_text(encoding="utf-8-sig")) is not None
    except (OSError, UnicodeDecodeError):
        return False


class ConversationFailed(Exception):
    """A conversation test did not go as written."""

    def __init__(self, result: ConversationResult) -> None:
        super().__init__(result.name)
        self.result = result


class ConversationTestsFile(pytest.File):
    """A test file of conversations; its bot is the folder above ``tests/``."""

    def collect(self) -> Iterator[ConversationItem]:
        from soni.dsl.errors import ConfigErrors
        from soni.testing.loading import load_test_file

        try:
            loaded = load_test_file(self.path)
        except ConfigErrors as exc:
            raise self.CollectError(str(exc)) from None
        for index, test in enumerate(loaded.tests):
            yield ConversationItem.from_parent(self, name=test.name, loaded=loaded, index=index)


class ConversationItem(pytest.Item):
    """One conversation, run on its own freshly loaded bot."""

    def __init__(self, *, loaded: ConversationTestFile, index: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.loaded = loaded
        self.index = index

    def runtest(self) -> None:
        from soni.testing.runner import run_test

        bot = self.path.parent.parent
        result = asyncio.run(run_test(bot, self.loaded, self.index))
        if not result.passed:
            raise ConversationFailed(result)

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str | Any:
        from soni.errors import SoniError

        if isinstance(excinfo.value, ConversationFailed):
            failure = excinfo.value.result.failure
            assert failure is not None
            return failure.explain()
        if isinstance(excinfo.value, SoniError):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        line = self.loaded.test_line(self.index)
        return self.path, (line - 1 if line is not None else None), f"conversation: {self.name}"
