"""``soni sessions``: follow a running server's conversations."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Annotated, Any

import typer
from rich.live import Live
from rich.text import Text

from soni.cli._app import app
from soni.cli._confirm_view import print_whole
from soni.cli._output import console, err_console, fail, reported
from soni.cli._watch_stream import follow
from soni.cli._watch_table import SessionTable

sessions = typer.Typer(help="Follow a running server's conversations.", no_args_is_help=True)
app.add_typer(sessions, name="sessions")


@sessions.command()
def watch(
    url: Annotated[str, typer.Option(help="The soni server.")] = "http://127.0.0.1:8000",
    api_key: Annotated[
        str | None,
        typer.Option(envvar="SONI_API_KEY", help="Bearer API key, when the server has keys on."),
    ] = None,
    conversation: Annotated[
        str | None, typer.Option(help="Follow this conversation only.", show_default=False)
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON line per event instead of the table.")
    ] = False,
    max_events: Annotated[
        int | None, typer.Option(help="Stop after this many events.", min=1, show_default=False)
    ] = None,
    duration: Annotated[
        float | None,
        typer.Option(help="Stop after this many seconds.", min=0, show_default=False),
    ] = None,
) -> None:
    """A live table of conversations, fed by the server's event stream (Ctrl-C stops)."""
    if not url.startswith(("http://", "https://")):
        fail(f"--url must be an http:// or https:// address, got {url!r}", code=2)
    table = SessionTable()
    title = f"{url.rstrip('/')} · {conversation or 'every conversation'}"
    live = console.is_terminal and not as_json

    def subscribed() -> None:
        err_console.print(Text(f"watching {url.rstrip('/')}/events (Ctrl-C to stop)", style="dim"))

    def show(event: dict[str, Any], display: Live | None) -> None:
        if as_json:
            typer.echo(json.dumps(event, ensure_ascii=False, separators=(",", ":")))
            return
        table.apply(event)
        if event.get("type") == "lagged":
            err_console.print(Text("fell behind and missed events; subscribing again", style="dim"))
        if display is not None:
            display.update(table.render(title=title), refresh=True)

    async def run() -> None:
        # The last table stays on screen when the watch ends, however it ends.
        with contextlib.ExitStack() as stack:
            display = None
            if live:
                display = stack.enter_context(
                    Live(table.render(title=title), console=console, auto_refresh=False)
                )
            await follow(
                url,
                lambda event: show(event, display),
                api_key=api_key,
                conversation_id=conversation,
                on_subscribed=subscribed,
                max_events=max_events,
                duration=duration,
            )

    # Ctrl-C is how a watch ends: not an error.
    with reported(), contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    if not live and not as_json:
        with reported():
            print_whole(console, table.render(title=title))
