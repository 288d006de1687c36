"""The ``soni`` command line: thin commands over the library.

Each module adds its commands to the one Typer app (``_app.app``).
"""

from __future__ import annotations

from soni.cli import serve as _serve  # noqa: F401  (registers its commands)
from soni.cli._app import app

__all__ = ("app", "main")


def main() -> None:
    app()
