"""The ``soni`` command line."""

from __future__ import annotations

from typing import Annotated

import typer

from soni import __version__

app = typer.Typer(
    name="soni",
    help="Task-oriented chatbots from YAML flows.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback(invoke_without_command=True)
def _root(
    show_version: Annotated[
        bool, typer.Option("--version", help="Print soni's version and exit.")
    ] = False,
) -> None:
    if show_version:
        typer.echo(f"soni {__version__}")
        raise typer.Exit()


@app.command()
def version() -> None:
    """Print soni's version."""
    typer.echo(f"soni {__version__}")


def main() -> None:
    app()
