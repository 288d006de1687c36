"""``soni serve``: a bot over HTTP and WebSocket, in one process or in N workers."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from soni.cli._app import app
from soni.cli._db import DB_ENVVAR, check_db, is_url, migrated, run_storage
from soni.cli._output import fail

if TYPE_CHECKING:
    from soni.dsl import BotConfig
    from soni.server import ServerSettings

_SECRET_HINT = "python -c 'import secrets; print(secrets.token_urlsafe(32))' makes one"


@app.command()
def serve(
    bot_dir: Annotated[Path, typer.Argument(help="The bot: a folder of YAML files (or one file).")],
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=0, max=65535)] = 8000,
    db: Annotated[
        str | None,
        typer.Option(
            envvar=DB_ENVVAR,
            help="SQLite file or postgresql:// URL for conversations; default: the bot's settings.",
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            help="Worker processes, each a whole server on the port (more than 1: PostgreSQL).",
            min=1,
        ),
    ] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn's log level.")] = "info",
    no_ui: Annotated[
        bool,
        typer.Option("--no-ui", help="Do not serve the web chat (/) and inbox (/inbox)."),
    ] = False,
    no_local_actions: Annotated[
        bool,
        typer.Option(
            "--no-local-actions",
            help="Do not import the bot folder's actions.py: its actions run in action "
            "workers (soni worker).",
        ),
    ] = False,
) -> None:
    """Serve a bot over HTTP and WebSocket (OpenAPI page at /docs).

    Actions with no handler here are served by action workers that announce them
    (soni worker; docs/workers.md)."""
    from pydantic import ValidationError
    from uvicorn.config import LOG_LEVELS

    from soni.engine import load_config
    from soni.errors import SoniError
    from soni.server import ServerSettings

    if not bot_dir.exists():
        fail(f"no such bot: {bot_dir}")
    if log_level not in LOG_LEVELS:
        fail(f"--log-level must be one of {', '.join(LOG_LEVELS)}, got {log_level!r}", code=2)
    if no_ui:
        # Read by this process's settings and by every worker process's.
        os.environ["SONI_UI"] = "false"
    try:
        settings = ServerSettings.from_env()
    except ValidationError as exc:
        fail(_settings_problem(exc))
    if workers > 1 and db is not None:
        _require_shared(db)
    check_db(db)
    try:
        # The server loads the bot once it runs; a broken bot (its files, its
        # handlers) is reported here first, as one line, rather than as a failed
        # start-up (of every worker).
        config = load_config(bot_dir, local_actions=not no_local_actions, remote_actions=True)
    except SoniError as exc:
        fail(str(exc))
    if settings.ui:
        shown = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
        typer.echo(f"chat:  {shown}/\ninbox: {shown}/inbox\napi:   {shown}/docs")
    if workers == 1:
        _serve_one(
            bot_dir,
            db,
            settings,
            host=host,
            port=port,
            log_level=log_level,
            local_actions=not no_local_actions,
        )
        return
    shared = db if db is not None else _require_shared(_bot_database(config, bot_dir))
    check_db(shared)
    # Once, here, before any worker starts: a migration that fails is one line
    # and exit 1, not N workers failing to start (they would take turns at it).
    run_storage(migrated(shared))
    _serve_workers(
        bot_dir,
        db,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        local_actions=not no_local_actions,
    )


def _serve_one(
    bot_dir: Path,
    db: str | None,
    settings: ServerSettings,
    *,
    host: str,
    port: int,
    log_level: str,
    local_actions: bool = True,
) -> None:
    """One process: uvicorn runs the app in this one."""
    import uvicorn

    from soni.errors import SoniError
    from soni.server import create_app
    from soni.server.transport import uvicorn_options

    options: dict[str, Any] = {"db": db} if db is not None else {}
    options.update(local_actions=local_actions, remote_actions=True)
    try:
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


def _serve_workers(
    bot_dir: Path,
    db: str | None,
    *,
    host: str,
    port: int,
    workers: int,
    log_level: str,
    local_actions: bool = True,
) -> None:
    """N worker processes on one socket, watched by this one (soni.server.workers)."""
    from soni.server.workers import WorkerSpec, serve_workers

    spec = WorkerSpec(bot=str(bot_dir), db=db, log_level=log_level, local_actions=local_actions)
    try:
        status = serve_workers(spec, host=host, port=port, workers=workers)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    if status:
        raise typer.Exit(status)  # why is in the log: which worker, how it ended


def _bot_database(config: BotConfig, bot_dir: Path) -> str:
    """Where the bot's ``settings.persistence`` keeps its state, as ``Bot.load`` reads it."""
    persistence = config.settings.persistence
    if persistence.backend == "postgres" and persistence.url:
        return persistence.url
    if persistence.backend == "memory":
        return ":memory:"
    # A relative path is the bot's.
    folder = bot_dir if bot_dir.is_dir() else bot_dir.parent
    return str(folder / persistence.path)


def _require_shared(location: str) -> str:
    """Refuse (exit 2) what several workers cannot share: anything but PostgreSQL, no secret.

    Every worker must also derive the same confirmation tokens: each needs the
    deployment's secret, so ``SONI_SECRET`` must be set, and be a secret.
    """
    if not is_url(location):
        what = "memory" if location == ":memory:" else f"the SQLite file {location}"
        fail(
            f"several workers need PostgreSQL: --db postgresql://… ({what} serves one process)",
            code=2,
        )
    from soni.confirmations.secret import ENV_VAR, SecretError, secret_from_env

    try:
        secret = secret_from_env()
    except SecretError as exc:  # set, but empty or too short: never a secret of one's own
        fail(str(exc), code=2)
    if secret is None:
        fail(
            f"several workers need {ENV_VAR}: every worker must derive the same"
            f" confirmation tokens ({_SECRET_HINT})",
            code=2,
        )
    return location


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
