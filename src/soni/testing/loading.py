"""Reading a conversation-test file: YAML with positions, then the models.

The YAML is read by the bot loader's reader (:mod:`soni.dsl.yaml_reader`), so a test file
follows the same rules as a bot file (YAML 1.2 core schema, duplicate keys refused)
and every error points at ``file:line:col``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from soni.dsl.diagnostics import describe_value
from soni.dsl.errors import ConfigError, ConfigErrors
from soni.dsl.source import DataPath, Location, SourceMap, format_path
from soni.dsl.yaml_reader import parse_yaml
from soni.errors import did_you_mean
from soni.testing.errors import ConversationTestErrors
from soni.testing.models import STEP_KEYS, ConversationFileModel, ConversationTest

__all__ = (
    "ConversationTestFile",
    "conversation_files_in",
    "discover",
    "load_test_file",
    "load_test_files",
    "parse_test_file",
)

_SUFFIXES = (".yaml", ".yml")
_FIELDS = {
    "file": ("tests",),
    "test": tuple(ConversationTest.model_fields),
    "pending": ("action", "prompt", "options"),
}
_NAME_RULE = "letters, digits and '_', not starting with a digit"
_STEP_HINT = "a step is a mapping with one of the keys " + ", ".join(STEP_KEYS)


@dataclass(frozen=True, slots=True)
class ConversationTestFile:
    """A loaded test file: its tests and where each element is written."""

    path: str
    tests: tuple[ConversationTest, ...]
    source: SourceMap

    def locate(self, *path: str | int, key: bool = False) -> Location:
        """Where the element at ``path`` (``"tests", 0, "steps", 2``) is written."""
        return self.source.locate(path, key=key)

    def test_line(self, index: int) -> int | None:
        return self.locate("tests", index).line

    def step_line(self, index: int, step: int) -> int | None:
        return self.locate("tests", index, "steps", step).line


def discover(bot: str | os.PathLike[str]) -> list[Path]:
    """The bot's test files: ``tests/*.yaml`` (and ``*.yml``) in the bot's folder.

    For a bot written as one file, the ``tests`` folder beside it.
    """
    root = Path(bot)
    return conversation_files_in((root if root.is_dir() else root.parent) / "tests")


def conversation_files_in(folder: str | os.PathLike[str]) -> list[Path]:
    """The ``*.yaml`` (and ``*.yml``) files of ``folder``, by name; none if it is missing."""
    where = Path(folder)
    if not where.is_dir():
        return []
    return sorted(
        p
        for p in where.iterdir()
        if p.suffix.lower() in _SUFFIXES and not p.name.startswith(".") and p.is_file()
    )


def load_test_file(path: str | os.PathLike[str]) -> ConversationTestFile:
    """Read and check one test file.

    Raises:
        ConversationTestErrors: every problem found, each with the file and line.
    """
    display = os.fspath(path)
    file = Path(display)
    problem = None
    if not file.is_file():
        problem = "no such test file"
    elif file.suffix.lower() not in _SUFFIXES:
        problem = "expected a .yaml or .yml file"
    else:
        try:
            text = file.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            problem = "the file is not valid UTF-8 text"
        except OSError as exc:
            problem = f"cannot read the file: {exc.strerror}"
    if problem is not None:
        raise ConversationTestErrors([ConfigError(display, None, None, problem)])
    return parse_test_file(text, display)


def load_test_files(paths: Iterable[str | os.PathLike[str]]) -> list[ConversationTestFile]:
    """Read several test files; the errors of all of them are raised together.

    Raises:
        ConversationTestErrors: every problem in every file.
    """
    loaded: list[ConversationTestFile] = []
    errors: list[ConfigError] = []
    for path in paths:
        try:
            loaded.append(load_test_file(path))
        except ConfigErrors as exc:
            errors.extend(exc.errors)
    if errors:
        raise ConversationTestErrors(errors)
    return loaded


def parse_test_file(text: str, path: str = "<string>") -> ConversationTestFile:
    """Check the text of a test file, as if it were the file ``path``.

    Raises:
        ConversationTestErrors: every problem found.
    """
    parsed = parse_yaml(text, path)
    if parsed.errors:
        raise ConversationTestErrors(parsed.errors)
    source = SourceMap.build(path, parsed.locations)
    data = parsed.data
    if not isinstance(data, dict):
        message = f"expected a mapping with 'tests', got {describe_value(data)}"
        raise ConversationTestErrors([Location(path, 1, 1).error(message)])
    try:
        model = ConversationFileModel.model_validate(data)
    except ValidationError as exc:
        errors = [_translate(e, data, source) for e in exc.errors()]
        raise ConversationTestErrors(sorted(errors, key=_order)) from None
    errors = _duplicate_names(model.tests, source)
    if errors:
        raise ConversationTestErrors(errors)
    # A file's day is each of its tests' unless the test pins its own.
    tests = tuple(
        test
        if test.today is not None or model.today is None
        else test.model_copy(update={"today": model.today})
        for test in model.tests
    )
    return ConversationTestFile(path, tests, source)


def _order(error: ConfigError) -> tuple[int, int]:
    return (error.line or 0, error.column or 0)


def _duplicate_names(tests: Sequence[ConversationTest], source: SourceMap) -> list[ConfigError]:
    errors: list[ConfigError] = []
    seen: dict[str, int] = {}
    for index, test in enumerate(tests):
        first = seen.setdefault(test.name, index)
        if first != index:
            line = source.locate(("tests", first, "name")).line
            errors.append(
                source.locate(("tests", index, "name")).error(
                    f"tests[{index}].name: a test named {test.name!r} is already defined "
                    f"on line {line}"
                )
            )
    return errors


# -- pydantic's errors in the words of a test author ------------------------------


def _data_path(loc: tuple[int | str, ...]) -> DataPath:
    """pydantic's ``loc`` without the union tags it adds after a step's index."""
    path: list[str | int] = []
    skip_tag = False
    for part in loc:
        if skip_tag:
            skip_tag = False
            continue
        path.append(part)
        if len(path) >= 2 and path[-2] == "steps" and isinstance(part, int):
            skip_tag = True
    return tuple(path)


def _at(data: Any, path: DataPath) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _container(path: DataPath) -> str:
    """Which kind of mapping the last element of ``path`` sits in."""
    if len(path) <= 1:
        return "file"
    if len(path) == 2:
        return "test"
    if len(path) >= 5 and path[2] == "steps" and path[4] == "pending":
        return "pending"
    return "other"


_NOUNS = {"file": "the test file", "test": "a test", "pending": "a pending check"}


def _translate(error: ErrorDetails, data: Any, source: SourceMap) -> ConfigError:
    path = _data_path(error["loc"])
    kind = error["type"]
    if path and path[-1] == "[key]":  # a mapping key itself is wrong (a slot name)
        path = path[:-2]
        where = f"{format_path(path)}: " if path else ""
        name = describe_value(error["input"])
        at = source.locate((*path, error["input"]), key=True)
        return at.error(f"{where}{name} is not a valid name ({_NAME_RULE})")
    where = f"{format_path(path)}: " if path else ""
    if kind == "extra_forbidden":
        key = str(path[-1])
        container = _container(path[:-1])
        known = _FIELDS.get(container, ())
        noun = _NOUNS.get(container, "this mapping")
        prefix = f"{format_path(path[:-1])}: " if len(path) > 1 else ""
        message = f"unknown key {key!r} in {noun}{did_you_mean(key, known)}"
        return source.locate(path, key=True).error(prefix + message)
    if kind == "missing":
        if len(path) == 1:
            return Location(source.origin, 1, 1).error(
                "missing 'tests': a test file lists its conversations under 'tests:'"
            )
        return source.locate(path[:-1]).error(f"{format_path(path[:-1])}: missing {path[-1]!r}")
    if kind in ("union_tag_not_found", "union_tag_invalid"):
        return source.locate(path).error(where + _bad_step(_at(data, path)))
    if kind == "literal_error":
        return source.locate(path).error(
            f"{where}expected true, got {describe_value(error['input'])} "
            "(leave the step out instead)"
        )
    if kind == "too_short":
        noun = {"tests": "test", "steps": "step"}.get(str(path[-1]), "entry")
        return source.locate(path).error(f"{where}expected at least one {noun}")
    if kind == "string_pattern_mismatch":
        return source.locate(path).error(
            f"{where}{describe_value(error['input'])} is not a valid name ({_NAME_RULE})"
        )
    expected = {
        "string_type": "text",
        "dict_type": "a mapping",
        "list_type": "a list",
        "model_type": "a mapping",
        "model_attributes_type": "a mapping",
    }.get(kind)
    if expected is not None:
        return source.locate(path).error(
            f"{where}expected {expected}, got {describe_value(error['input'])}"
        )
    message = error["msg"].removeprefix("Value error, ")
    return source.locate(path).error(where + message)


def _bad_step(value: Any) -> str:
    if not isinstance(value, dict):
        return f"expected a step, got {describe_value(value)}; {_STEP_HINT}"
    if not value:
        return f"an empty step; {_STEP_HINT}"
    keys = list(value)
    if len(keys) > 1:
        shown = ", ".join(repr(k) for k in keys)
        return f"a step has exactly one key, got {shown} (write one step for each)"
    key = str(keys[0])
    return f"unknown step {key!r}{did_you_mean(key, STEP_KEYS)}; {_STEP_HINT}"
