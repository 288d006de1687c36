"""``soni validate``: load a bot and report every problem at its file and line."""

from __future__ import annotations

from soni.cli._app import app  # noqa: F401  (commands are added here)
