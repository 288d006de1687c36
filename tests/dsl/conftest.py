"""Fixtures for the bot-format tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from soni.dsl import default_registry


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh current directory, so error messages show short relative paths."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(autouse=True)
def _isolated_default_validators() -> Iterator[None]:
    """Validators a test registers with ``@validator`` do not outlive it."""
    previous = default_registry._replace(dict(default_registry._specs))
    try:
        yield
    finally:
        default_registry._replace(previous)
