"""`soni sessions watch`: a live table of a real server's conversations, fed by SSE."""

from __future__ import annotations

import io
import json
import os
import queue
import socket
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from rich.console import Console
from typer.testing import CliRunner, Result

from soni.cli import app
from soni.cli._watch_stream import sse_messages
from soni.cli._watch_table import SessionTable, describe
from soni.server import ServerSettings

from ..server.conftest import LiveServer, Serve, serve

__all__ = ("serve",)

IBAN = "DE89370400440532013000"
TIMEOUT = 30.0

runner = CliRunner()


def watch(*args: str) -> Result:
    return runner.invoke(
        app, ["sessions", "watch", *args], env={"SONI_API_KEY": None, "COLUMNS": "200"}
    )


def one_error_line(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return lines[0]


def chat(client: httpx.Client, conversation: str, *texts: str, user: str = "ann") -> None:
    for text in texts:
        answer = client.post(
            f"/conversations/{conversation}/messages", json={"text": text, "user_id": user}
        )
        assert answer.status_code == 200, answer.text


def drive(server: LiveServer, key: str | None = None) -> None:
    """Two conversations: a transfer confirmed in the chat, and a balance."""
    with server.client(key) as client:
        chat(client, "c1", "send 50 euros to Bob", IBAN, "yes")
        chat(client, "c2", "check my savings balance", user="bob")


EXPECTED = [
    ("session_started", "c1"),
    ("turn", "c1"),
    ("confirmation_requested", "c1"),
    ("turn", "c1"),
    ("awaiting_confirmation", "c1"),
    ("confirmation_decided", "c1"),
    ("action_executed", "c1"),
    ("turn", "c1"),
    ("session_started", "c2"),
    ("turn", "c2"),
]


def environment() -> dict[str, str]:
    """This process's environment, without an API key, never through a proxy."""
    env = {k: v for k, v in os.environ.items() if k != "SONI_API_KEY"}
    return {**env, "NO_PROXY": "127.0.0.1"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# -- the event → row reducer ----------------------------------------------------------


def event(kind: str, conversation: str | None = "c1", **data: Any) -> dict[str, Any]:
    at = "2026-11-23T15:26:20+00:00"
    return {"type": kind, "conversation_id": conversation, "data": data, "at": at}


def test_the_table_follows_a_conversation_event_by_event() -> None:
    table = SessionTable()

    table.apply(event("session_started", user_id="ann"))
    table.apply(event("turn", status="awaiting_input", active_flow="transfer_funds", pending=0))
    table.apply(event("confirmation_requested", confirmation_id="x", user_id="ann"))
    assert table.get("c1") is not None and table.get("c1").pending == 1  # type: ignore[union-attr]
    table.apply(event("awaiting_confirmation", pending=1, active_flow="transfer_funds"))
    row = table.apply(
        event("confirmation_decided", decision="skip", actor={"user_id": None, "channel": "cli"})
    )

    assert row is not None
    assert (row.user_id, row.status, row.active_flow, row.pending) == (
        "ann",
        "awaiting_confirmation",
        "transfer_funds",
        0,
    )
    assert row.last_event == "confirmation_decided: skip by - via cli"
    assert row.last_activity is not None and row.last_activity.hour == 15

    ended = table.apply(event("turn", status="ended", active_flow=None, pending=0))
    assert ended is not None and (ended.status, ended.active_flow) == ("ended", None)


def test_removed_conversations_leave_and_lagged_touches_no_row() -> None:
    table = SessionTable()
    table.apply(event("session_started", "c1", user_id="ann"))
    table.apply(event("session_started", "c2", user_id="bob"))

    assert table.apply(event("session_removed", "c1", reason="idle", user_id="ann")) is None
    assert table.apply(event("lagged", None, queue_size=256)) is None
    assert [row.conversation_id for row in table.rows] == ["c2"]


def test_bad_fields_leave_the_row_as_it_was() -> None:
    table = SessionTable()
    table.apply(event("turn", status="active", active_flow="f", pending=2))

    row = table.apply({"type": "turn", "conversation_id": "c1", "data": {"pending": "x"}, "at": 5})

    assert row is not None and (row.pending, row.status) == (2, "active")
    assert table.apply({"type": "turn", "conversation_id": 7}) is None


def test_rows_are_most_recent_first_and_the_render_is_capped() -> None:
    table = SessionTable()
    for minute in range(3):
        table.apply({**event("turn", f"c{minute}"), "at": f"2026-11-23T15:0{minute}:00+00:00"})
    out = io.StringIO()

    Console(file=out, width=200).print(table.render(title="t", limit=2))

    assert [row.conversation_id for row in table.rows] == ["c2", "c1", "c0"]
    assert "c0" not in out.getvalue() and "2 of 3 conversations shown" in out.getvalue()


def test_the_table_shows_ids_names_and_error_texts_as_written() -> None:
    # Ids come from API callers and an error text from a handler: none is rich markup.
    table = SessionTable()
    table.apply(event("session_started", "c[/]", user_id="[ann]"))
    table.apply(event("turn", "c[/]", status="active", active_flow="[b]f", pending=0))
    table.apply(event("action_executed", "c[/]", action="pay", ok=False, error="bad [/red] :x:"))
    table.apply(event("session_started", "[team-a]", user_id=":smile:"))
    out = io.StringIO()

    Console(file=out, width=200, color_system=None).print(table.render(title="[/] · c[/]"))

    text = out.getvalue()
    for shown in ("[/] · c[/]", "c[/]", "[ann]", "[b]f", "pay failed: bad [/red] :x:"):
        assert shown in text
    assert "[team-a]" in text and ":smile:" in text


def test_a_flow_or_data_of_the_wrong_type_leaves_the_row_as_it_was() -> None:
    table = SessionTable()
    table.apply(event("turn", status="active", active_flow="f", pending=0))

    row = table.apply(event("turn", status="active", active_flow=["f"], pending=1))
    waiting = table.apply(event("awaiting_confirmation", active_flow={"x": 1}, pending=1))
    odd = table.apply({"type": "turn", "conversation_id": "c1", "data": ["not", "a", "mapping"]})

    assert row is not None and row.active_flow == "f"
    assert waiting is not None and waiting.active_flow == "f"
    assert odd is not None and (odd.status, odd.pending) == ("awaiting_confirmation", 1)
    Console(file=io.StringIO(), width=200).print(table.render())


def test_describe_names_what_happened() -> None:
    assert describe(event("action_executed", action="pay", ok=True, error=None)) == (
        "action_executed: pay ok"
    )
    assert describe(event("action_executed", action="pay", ok=False, error="boom")) == (
        "action_executed: pay failed: boom"
    )
    assert describe(event("action_interrupted", action="pay")) == (
        "action_interrupted: pay outcome unknown"
    )
    assert describe(event("session_removed", reason="reset")) == "session_removed: reset"
    assert describe(event("confirmation_expired", confirmation_id="x")) == "confirmation_expired"


async def test_sse_lines_become_messages() -> None:
    async def lines() -> AsyncIterator[str]:
        for line in [": ping", "event: turn", 'data: {"a":', "data: 1}", "", "", "id: 3", ""]:
            yield line

    assert [m async for m in sse_messages(lines())] == [("turn", '{"a":\n1}')]


# -- against a real server --------------------------------------------------------------


@pytest.fixture
def backend() -> str:
    """SQLite under the watched servers: what is checked here is the table the watcher
    draws from a server's event stream, which reads the same on any storage (the
    server suite runs the stream on both)."""
    return "sqlite"


@pytest.fixture
def server(serve: Serve) -> LiveServer:
    return serve()


def _lines(stream: io.TextIOBase, into: queue.Queue[str]) -> None:
    for line in stream:
        into.put(line)


@pytest.fixture
def watcher(server: LiveServer) -> Iterator[tuple[subprocess.Popen[str], queue.Queue[str]]]:
    """``soni sessions watch --json`` in a real process, once it is subscribed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "soni", "sessions", "watch", "--url", server.url, "--json",
         "--max-events", str(len(EXPECTED)), "--duration", str(TIMEOUT)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=environment(),
    )  # fmt: skip
    errors: queue.Queue[str] = queue.Queue()
    assert process.stderr is not None
    threading.Thread(target=_lines, args=(process.stderr, errors), daemon=True).start()
    try:
        ready = errors.get(timeout=TIMEOUT)
        assert ready == f"watching {server.url}/events (Ctrl-C to stop)\n"
        yield process, errors
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=TIMEOUT)


def test_a_watcher_process_prints_every_event_as_a_json_line(
    server: LiveServer, watcher: tuple[subprocess.Popen[str], queue.Queue[str]]
) -> None:
    process, errors = watcher

    drive(server)
    out, _ = process.communicate(timeout=TIMEOUT)

    assert process.returncode == 0, list(errors.queue)
    events = [json.loads(line) for line in out.splitlines()]
    assert [(e["type"], e["conversation_id"]) for e in events] == EXPECTED
    decided = events[5]["data"]
    assert (decided["decision"], decided["actor"]) == (
        "execute_transfer",
        {"user_id": "ann", "channel": "chat"},
    )
    assert all("token" not in e["data"] for e in events)


def test_the_table_shows_each_conversation_as_it_ended(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    subscribed = threading.Event()

    class Signal(io.StringIO):
        def write(self, text: str) -> int:
            if "watching" in text:
                subscribed.set()
            return super().write(text)

    # The command says "watching …" once the stream is open: start chatting then.
    monkeypatch.setattr("soni.cli.sessions.err_console", Console(file=Signal()))
    results: list[Result] = []
    args = ["--url", server.url, "--max-events", str(len(EXPECTED)), "--duration", str(TIMEOUT)]
    thread = threading.Thread(target=lambda: results.append(watch(*args)))
    thread.start()
    try:
        assert subscribed.wait(TIMEOUT), "the watcher did not subscribe"
        drive(server)
    finally:
        thread.join(TIMEOUT * 2)
    [result] = results

    assert result.exit_code == 0, result.output
    rows = {
        line.split("│")[1].strip(): line for line in result.stdout.splitlines() if "│ c" in line
    }
    cells = {conv: [cell.strip() for cell in line.split("│")[2:-1]] for conv, line in rows.items()}
    assert cells["c1"][:4] == ["ann", "ended", "-", "0"]
    assert cells["c1"][-1] == "turn: ended"
    assert cells["c2"][:4] == ["bob", "ended", "-", "0"]
    assert f"{server.url} · every conversation" in result.stdout


def test_one_conversation_only(server: LiveServer) -> None:
    with server.client() as client:
        chat(client, "c2", "check my savings balance")
    result = watch("--url", server.url, "--conversation", "c2", "--duration", "0.5", "--json")

    assert result.exit_code == 0, result.output
    assert result.stdout == ""  # events are live: what happened before is not replayed


def test_a_server_with_api_keys_refuses_a_missing_or_wrong_key_in_one_red_line(
    serve: Serve,
) -> None:
    server = serve(settings=ServerSettings(api_keys={"alice-key": "alice"}))

    missing = watch("--url", server.url, "--duration", "5")
    wrong = watch("--url", server.url, "--api-key", "nope", "--duration", "5")
    right = watch("--url", server.url, "--api-key", "alice-key", "--duration", "0.5", "--json")

    assert missing.exit_code == 1
    assert one_error_line(missing) == (
        f"error: {server.url} needs an API key (401): pass --api-key or set SONI_API_KEY"
    )
    assert wrong.exit_code == 1
    assert one_error_line(wrong) == f"error: {server.url} refused the API key (401)"
    assert right.exit_code == 0, right.output


def test_a_refused_key_in_a_real_process_is_one_red_line(serve: Serve) -> None:
    server = serve(settings=ServerSettings(api_keys={"alice-key": "alice"}))

    done = subprocess.run(
        [sys.executable, "-m", "soni", "sessions", "watch", "--url", server.url, "--duration", "5"],
        capture_output=True, text=True, timeout=TIMEOUT, check=False,
        env={**environment(), "SONI_API_KEY": "nope"},
    )  # fmt: skip

    assert done.returncode == 1
    assert done.stderr == f"error: {server.url} refused the API key (401)\n"
    assert done.stdout == ""


def test_an_unreachable_server_is_one_red_line() -> None:
    url = f"http://127.0.0.1:{free_port()}"

    result = watch("--url", url, "--duration", "5")

    assert result.exit_code == 1
    assert one_error_line(result).startswith(f"error: cannot connect to {url}: ")


def test_a_bad_url_is_refused_before_connecting() -> None:
    result = watch("--url", "localhost:8000")

    assert result.exit_code == 2
    assert one_error_line(result) == (
        "error: --url must be an http:// or https:// address, got 'localhost:8000'"
    )


def test_with_api_keys_a_watcher_sees_its_users_conversations_by_their_own_ids(
    serve: Serve,
) -> None:
    server = serve(settings=ServerSettings(api_keys={"alice-key": "alice", "bob-key": "bob"}))
    process = subprocess.Popen(
        [sys.executable, "-m", "soni", "sessions", "watch", "--url", server.url, "--json",
         "--max-events", "2", "--duration", str(TIMEOUT)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**environment(), "SONI_API_KEY": "alice-key"},
    )  # fmt: skip
    try:
        assert process.stderr is not None
        assert process.stderr.readline() == f"watching {server.url}/events (Ctrl-C to stop)\n"
        # Bob first: had his turn leaked, it would be the first line.
        with server.client("bob-key") as bob:
            chat(bob, "c1", "check my savings balance")
        with server.client("alice-key") as alice:
            chat(alice, "c1", "check my savings balance")
        out, _ = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=TIMEOUT)

    events = [json.loads(line) for line in out.splitlines()]
    assert [(e["type"], e["conversation_id"]) for e in events] == [
        ("session_started", "c1"),
        ("turn", "c1"),
    ]
    assert events[0]["data"]["user_id"] == "alice"
