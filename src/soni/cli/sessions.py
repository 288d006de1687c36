"""``soni sessions``: follow a running server's conversations."""

from __future__ import annotations

from soni.cli._app import app  # noqa: F401  (commands are added here)
