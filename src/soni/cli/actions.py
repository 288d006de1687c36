"""``soni actions``: the action handlers a bot can call."""

from __future__ import annotations

from soni.cli._app import app  # noqa: F401  (commands are added here)
