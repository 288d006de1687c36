"""``soni confirmations``: operate on a confirmation store directly."""

from __future__ import annotations

from soni.cli._app import app  # noqa: F401  (commands are added here)
