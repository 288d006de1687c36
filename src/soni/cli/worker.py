"""``soni worker``: serve a module's action handlers to a running soni server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

import typer

from soni.cli._app import app
from soni.cli._output import fail

if TYPE_CHECKING:
    from soni.worker import Announced, Worker

_LEVELS = ("critical", "error", "warning", "info", "debug")


@app.command()
def worker(
    handlers: Annotated[
        str,
        typer.Argument(
            help="The handlers: a .py file, a folder or a dotted module of "
            "@ActionRegistry.register handlers."
        ),
    ],
    url: Annotated[str, typer.Option(help="The server's WebSocket endpoint: ws://HOST:PORT/ws.")],
    api_key: Annotated[
        str | None,
        typer.Option(envvar="SONI_WORKER_KEY", help="The worker key (Authorization: Bearer)."),
    ] = None,
    concurrency: Annotated[int, typer.Option(help="How many actions run at once.", min=1)] = 16,
    name: Annotated[
        str | None, typer.Option(help="The start of the worker's id (default: worker).")
    ] = None,
    log_level: Annotated[str, typer.Option(help="The worker's log level.")] = "info",
) -> None:
    """Serve action handlers to a soni server until SIGINT or SIGTERM (docs/workers.md)."""
    from soni.actions import ActionRegistry, load_actions
    from soni.actions.errors import ActionLoadError
    from soni.errors import SoniError
    from soni.worker import Worker

    if log_level not in _LEVELS:
        fail(f"--log-level must be one of {', '.join(_LEVELS)}, got {log_level!r}", code=2)
    if not url.startswith(("ws://", "wss://")):
        fail(f"--url must be a ws:// or wss:// address, got {url!r}", code=2)
    try:
        load_actions(handlers)
    except ActionLoadError as exc:
        fail(str(exc), code=2)
    registry = ActionRegistry.get_default()
    if len(registry) == 0:
        fail(f"{handlers} registers no action: nothing to serve", code=2)
    served = Worker(
        url, registry=registry, api_key=api_key, concurrency=concurrency, name=name,
        on_announce=_announced,
    )  # fmt: skip
    try:
        with _logging_to_stderr(log_level):
            asyncio.run(_serve(served))
    except SoniError as exc:
        fail(str(exc))


@contextlib.contextmanager
def _logging_to_stderr(level: str) -> Iterator[None]:
    """The worker's log lines on stderr while the command runs (and its loggers as they
    were afterwards: the command may run inside another program, as the tests run it)."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    loggers = [logging.getLogger(name) for name in ("soni.worker", "soni.remote", "soni.actions")]
    before = [(logger.level, logger.propagate) for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(level.upper())
        logger.propagate = False
    try:
        yield
    finally:
        for logger, (was_level, was_propagating) in zip(loggers, before, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(was_level)
            logger.propagate = was_propagating


def _announced(announced: Announced) -> None:
    count = len(announced.actions)
    if announced.reconnected:
        typer.echo(f"reconnected to {announced.url} (connection {announced.connection})")
    else:
        names = ", ".join(announced.actions)
        typer.echo(
            f"connected to {announced.url} as {announced.worker_id}: "
            f"{count} action{'s' if count != 1 else ''} ({names})"
        )


async def _serve(worker: Worker) -> None:
    """Run until a signal: the first stops gracefully, a second one at once."""
    loop = asyncio.get_running_loop()
    running = asyncio.current_task()

    def on_signal() -> None:
        if worker.stopping:
            typer.echo("stopping now")
            if running is not None:
                running.cancel()
            return
        typer.echo(f"stopping: {worker.in_flight} action(s) to finish (again to stop now)")
        worker.stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    try:
        await worker.run()
    except asyncio.CancelledError:
        pass
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
