"""``soni serve``: a bot over HTTP and WebSocket."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from soni.cli._app import app
from soni.cli._db import check_db
from soni.cli._output import fail


@app.command()
def serve(
    bot_dir: Annotated[Path, typer.Argument(help="The bot: a folder of YAML files (or one file).")],
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=0, max=65535)] = 8000,
    db: Annotated[
        Path | None,
        typer.Option(help="SQLite file for conversations; default: the bot's settings."),
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn's log level.")] = "info",
) -> None:
    """Serve a bot over HTTP and WebSocket (OpenAPI page at /docs)."""
    import uvicorn
    from pydantic import ValidationError

    from soni.engine.check import load_config
    from soni.errors import SoniError
    from soni.server import ServerSettings, create_app
    from soni.server.transport import uvicorn_options

    if not bot_dir.exists():
        fail(f"no such bot: {bot_dir}")
    check_db(db)
    options: dict[str, Any] = {"db": str(db)} if db is not None else {}
    try:
        settings = ServerSettings.from_env()
    except ValidationError as exc:
        fail(_settings_problem(exc))
    try:
        # The server loads the bot once it runs; a broken bot (its files, its
        # handlers) is reported here first, as one line, rather than as a failed
        # start-up.
        load_config(bot_dir)
        application = create_app(bot_dir, settings, **options)
        uvicorn.run(
            application,
            host=host,
            port=port,
            log_level=log_level,
            # The request line, header and WebSocket frame limits of the settings.
            **uvicorn_options(settings),
            # Open long polls and event streams must not hold a shutdown up.
            timeout_graceful_shutdown=5,
        )
    except SoniError as exc:  # a bot that does not load: say why, in one place
        fail(str(exc))


def _settings_problem(exc: Any) -> str:
    """A ``SONI_*`` variable's bad value, named as the user set it."""
    problems = []
    for error in exc.errors():
        if not error["loc"]:
            problems.append(error["msg"])
        elif error["loc"][0] == "api_keys":
            # Never echo the value: it holds the keys.
            problems.append(f"SONI_API_KEYS: {error['msg']}")
        else:
            name = str(error["loc"][0]).upper()
            problems.append(f"SONI_{name}: {error['msg']} (got {error['input']!r})")
    return "; ".join(problems)
