"""``soni init``: scaffold a runnable bot."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from soni.cli._app import app
from soni.cli._output import fail, reported

# What a new bot holds: the file written, and its template in soni/cli/_scaffold/.
SCAFFOLD = (
    ("bot.yaml", "bot.yaml.tmpl"),
    ("actions.py", "actions.py.tmpl"),
    ("tests/conversations.yaml", "tests/conversations.yaml.tmpl"),
    ("README.md", "README.md.tmpl"),
    (".gitignore", "gitignore.tmpl"),
)


def template(name: str) -> str:
    """The text of a scaffold template (package data, so it ships in the wheel)."""
    return resources.files("soni.cli").joinpath("_scaffold", name).read_text(encoding="utf-8")


def scaffold(target: Path, *, force: bool = False) -> tuple[list[Path], list[Path]]:
    """Write a new bot into ``target``; the files written and the files kept as they were.

    An existing file is never replaced: with ``force`` the folder may hold other
    files, and a scaffold file that is already there is left alone.

    Raises:
        FileExistsError: ``target`` is a file, or a folder with files and not ``force``.
    """
    if target.exists() and not target.is_dir():
        raise FileExistsError(f"{target} is a file, not a folder")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise FileExistsError(
            f"{target} is not empty; use --force to add the bot's files to it "
            "(files already there are kept)"
        )
    written: list[Path] = []
    kept: list[Path] = []
    name = target.resolve().name
    for relative, source in SCAFFOLD:
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # "x": never replace a file, even one created since the check above.
            with path.open("x", encoding="utf-8") as file:
                file.write(template(source).replace("{name}", name))
        except FileExistsError:
            kept.append(path)
        else:
            written.append(path)
    return written, kept


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder for the new bot (created if missing).")],
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Write into a folder that is not empty; files already there are kept."
        ),
    ] = False,
) -> None:
    """Create a runnable bot: flows, a handler, conversation tests and a README."""
    with reported():
        try:
            written, kept = scaffold(directory, force=force)
        except FileExistsError as exc:
            fail(str(exc))
    if written:
        typer.echo(f"Created a bot in {directory}:")
    else:
        typer.echo(f"{directory} already holds every file of a new bot; nothing was written:")
    for path in written:
        typer.echo(f"  {path}")
    for path in kept:
        typer.secho(f"  {path} (already there, kept)", fg=typer.colors.YELLOW)
    typer.echo("Next:")
    for command in ("validate", "test", "chat"):
        typer.echo(f"  soni {command} {directory}")
