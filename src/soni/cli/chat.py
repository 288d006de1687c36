"""``soni chat``: talk to a bot in the terminal."""

from __future__ import annotations

from soni.cli._app import app  # noqa: F401  (commands are added here)
