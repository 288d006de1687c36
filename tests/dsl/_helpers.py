"""Writing bot files and collecting the errors loading them raises."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from soni.dsl import load_bot
from soni.dsl.errors import ConfigError, ConfigErrors


def write(path: Path, *parts: str) -> Path:
    """Write the ``parts`` (each dedented, leading newline dropped) to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(textwrap.dedent(part).lstrip("\n") for part in parts)
    path.write_text(text, encoding="utf-8")
    return path


def config_errors(target: str | Path, **kwargs: object) -> list[ConfigError]:
    """The errors ``load_bot(target)`` raises; fails the test if it loads."""
    with pytest.raises(ConfigErrors) as info:
        load_bot(target, **kwargs)  # type: ignore[arg-type]
    return list(info.value.errors)


def messages(target: str | Path, **kwargs: object) -> list[str]:
    """``str()`` of each error ``load_bot(target)`` raises."""
    return [str(error) for error in config_errors(target, **kwargs)]


MINIMAL_FLOW = """
flows:
  greet:
    steps:
      - step: hello
        type: say
        message: "Hello!"
"""
