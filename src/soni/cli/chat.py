"""``soni chat``: talk to a bot in the terminal."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from soni.cli._app import app
from soni.cli._db import DB_ENVVAR, check_db
from soni.cli._output import console, fail, reported


@app.command()
def chat(
    bot: Annotated[Path, typer.Argument(help="The bot: a folder of YAML files (or one file).")],
    db: Annotated[
        str | None,
        typer.Option(
            envvar=DB_ENVVAR,
            help="SQLite file, :memory: or postgresql:// URL for the conversation;"
            " default: the bot's.",
        ),
    ] = None,
    user: Annotated[str, typer.Option(help="The user id the messages come from.")] = "cli",
    conversation: Annotated[
        str | None,
        typer.Option(help="The conversation id; pass an earlier one to continue it."),
    ] = None,
    actions: Annotated[
        list[str] | None,
        typer.Option(help="A handler module (file, folder or dotted name); repeatable."),
    ] = None,
) -> None:
    """Chat with a bot; reads stdin line by line when it is not a terminal."""
    from soni.cli._chat_session import ChatSession, read_lines
    from soni.engine import SyncBot

    if not bot.exists():
        fail(f"no such bot: {bot}")
    check_db(db)
    options: dict[str, Any] = {"db": db} if db is not None else {}
    if actions:
        options["actions"] = actions
    with reported():
        running = SyncBot.load(bot, **options)
    try:
        with reported():
            session = ChatSession(
                running,
                conversation or f"cli-{secrets.token_hex(4)}",
                user_id=user,
                console=console,
                echo=not sys.stdin.isatty(),
            )
            where = bot.resolve()
            session.run(read_lines(), title=where.stem if where.is_file() else where.name)
    finally:
        running.close()
