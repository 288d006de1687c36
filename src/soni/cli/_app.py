"""The Typer application every command module adds its commands to."""

from __future__ import annotations

from typing import Annotated

import typer

from soni import __version__
from soni.cli._output import set_debug

__all__ = ("app",)

app = typer.Typer(
    name="soni",
    help="Task-oriented chatbots from YAML flows.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback(invoke_without_command=True)
def _root(
    show_version: Annotated[
        bool, typer.Option("--version", help="Print soni's version and exit.")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of an error, not just its line.")
    ] = False,
) -> None:
    set_debug(debug)
    if show_version:
        typer.echo(f"soni {__version__}")
        raise typer.Exit()


@app.command()
def version() -> None:
    """Print soni's version."""
    typer.echo(f"soni {__version__}")
