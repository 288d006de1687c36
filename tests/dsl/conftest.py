"""Fixtures for the bot-format tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh current directory, so error messages show short relative paths."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
