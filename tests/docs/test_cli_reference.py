"""docs/cli.md is the whole command line: every command, and every option of each.

The page's blocks run the commands (test_code_blocks.py); this checks that nothing
the CLI offers is missing from it — a new option fails here until it is documented.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer

from soni.cli import app

from ._blocks import ROOT

PAGE = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")


def _sections() -> dict[str, str]:
    """``{"soni validate": its text, ...}``: the page's ``## `` sections by heading."""
    parts = re.split(r"^## (.+)$", PAGE, flags=re.MULTILINE)
    return {heading.strip(): text for heading, text in zip(parts[1::2], parts[2::2], strict=True)}


# Typer's commands (it vendors click): a group has `commands`, a parameter `opts`.
Command = Any


def _leaves(command: Command, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Command]]:
    if hasattr(command, "commands"):
        found: list[tuple[tuple[str, ...], Command]] = []
        for name, sub in command.commands.items():
            found += _leaves(sub, (*path, name))
        return found
    return [(path, command)]


ROOT_COMMAND = typer.main.get_command(app)
LEAVES = [leaf for leaf in _leaves(ROOT_COMMAND) if leaf[0] != ("version",)]


def _options(command: Command) -> set[str]:
    return {
        name
        for param in command.params
        if param.param_type_name == "option"
        for name in param.opts
        if name.startswith("--") and name != "--help"
    }


def _section(path: tuple[str, ...]) -> str:
    """The section of the longest heading ``soni ...`` that starts the command's name."""
    sections = _sections()
    for size in range(len(path), 0, -1):
        heading = "soni " + " ".join(path[:size])
        if heading in sections:
            return sections[heading]
    raise AssertionError(f"docs/cli.md has no section '## soni {' '.join(path)}'")


@pytest.mark.parametrize("leaf", LEAVES, ids=[" ".join(path) for path, _ in LEAVES])
def test_every_command_and_option_is_described(
    leaf: tuple[tuple[str, ...], Command],
) -> None:
    path, command = leaf
    text = _section(path)
    assert f"`{path[-1]}" in text or f"soni {' '.join(path)}" in text
    missing = sorted(option for option in _options(command) if f"`{option}" not in text)
    assert not missing, f"soni {' '.join(path)}: docs/cli.md does not describe {missing}"


def test_the_table_lists_every_command_and_the_global_options() -> None:
    table = PAGE.split("\n## ", 1)[0]
    for name in ROOT_COMMAND.commands:
        assert f"`soni {name}" in table, f"the commands table lacks soni {name}"
    globals_ = _sections()["Global options"]
    for option in _options(ROOT_COMMAND):
        assert f"`{option}`" in globals_, f"'## Global options' lacks {option}"
