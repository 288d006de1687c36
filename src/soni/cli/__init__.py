"""The ``soni`` command line: thin commands over the library.

Each module adds its commands to the one Typer app (``_app.app``); importing it
registers them, in the order ``soni --help`` lists them.
"""

from __future__ import annotations

import importlib

from soni.cli._app import app

__all__ = ("app", "main")

COMMAND_MODULES = (
    "init",
    "validate",
    "chat",
    "test",
    "serve",
    "worker",
    "actions",
    "confirmations",
    "sessions",
    "db",
)

for _name in COMMAND_MODULES:
    importlib.import_module(f"soni.cli.{_name}")


def main() -> None:
    app()
