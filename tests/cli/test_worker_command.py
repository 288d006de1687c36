"""`soni worker HANDLERS --url URL`: a module's handlers served to a server, stopped by a
signal; mistakes in the call are one line and exit 2, a refused key exit 1."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from http import HTTPStatus
from pathlib import Path

import pytest
from typer.testing import CliRunner

from soni.cli import app
from soni.remote import ThreadSafeEventLoop

from ..worker._server import FakeServer

runner = CliRunner()

HANDLERS = '''
from soni import ActionRegistry

@ActionRegistry.register
def add(a: int, b: int = 1) -> dict:
    """Add two numbers."""
    return {"sum": a + b}
'''


@pytest.fixture
def handlers(tmp_path: Path) -> Path:
    path = tmp_path / "handlers.py"
    path.write_text(HANDLERS, encoding="utf-8")
    return path


def test_a_module_that_does_not_load_is_one_line_and_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("import no_such_module_here\n", encoding="utf-8")

    result = runner.invoke(app, ["worker", str(broken), "--url", "ws://127.0.0.1:1/ws"])

    assert result.exit_code == 2
    assert "error: cannot load actions from" in result.output
    assert "ModuleNotFoundError: No module named 'no_such_module_here'" in result.output


def test_a_module_without_actions_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n", encoding="utf-8")

    result = runner.invoke(app, ["worker", str(empty), "--url", "ws://127.0.0.1:1/ws"])

    assert result.exit_code == 2
    assert "registers no action: nothing to serve" in result.output


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--url", "http://127.0.0.1:1/ws"], "--url must be a ws:// or wss:// address"),
        (["--url", "ws://127.0.0.1:1/ws", "--log-level", "loud"], "--log-level must be one of"),
    ],
)
def test_a_wrong_option_is_a_usage_error(handlers: Path, options: list[str], message: str) -> None:
    result = runner.invoke(app, ["worker", str(handlers), *options])

    assert result.exit_code == 2
    assert message in result.output


@pytest.fixture
def threaded_server() -> Iterator[tuple[FakeServer, ThreadSafeEventLoop]]:
    with ThreadSafeEventLoop(name="test-server") as loop:
        server = FakeServer()
        loop.run(server.start(), timeout=5)
        yield server, loop
        loop.run(server.stop(), timeout=5)


def test_a_refused_key_is_one_line_and_exit_1_without_retrying(
    handlers: Path,
    threaded_server: tuple[FakeServer, ThreadSafeEventLoop],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, _ = threaded_server
    server.refuse_with = HTTPStatus.FORBIDDEN
    monkeypatch.setenv("SONI_WORKER_KEY", "chat-key")

    result = runner.invoke(app, ["worker", str(handlers), "--url", server.url])

    assert result.exit_code == 1
    assert "refused the worker (HTTP 403)" in result.output
    assert server.handshakes == 1
    assert server.authorization == ["Bearer chat-key"]  # --api-key defaults to SONI_WORKER_KEY


@pytest.fixture
async def server() -> AsyncIterator[FakeServer]:
    started = FakeServer()
    await started.start()
    try:
        yield started
    finally:
        await started.stop()


async def _line(stream: asyncio.StreamReader) -> str:
    async with asyncio.timeout(30):  # the first one waits for soni to import
        return (await stream.readline()).decode()


@pytest.mark.slow
async def test_it_serves_until_sigterm_printing_a_line_per_connection(
    handlers: Path, server: FakeServer
) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "soni", "worker", str(handlers),
        "--url", server.url, "--name", "adder", "--api-key", "wk-1",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert process.stdout is not None
    try:
        connected = await _line(process.stdout)
        assert connected.startswith(f"connected to {server.url} as adder-")
        assert connected.rstrip().endswith(": 1 action (add)")
        answer = await server.run("add", {"a": 2})
        assert answer["result"] == {"sum": 3}

        assert server.connection is not None
        await server.connection.close()
        assert (await _line(process.stdout)).strip() == (
            f"reconnected to {server.url} (connection 2)"
        )

        process.send_signal(signal.SIGTERM)
        assert (await _line(process.stdout)).startswith("stopping: 0 action(s) to finish")
        async with asyncio.timeout(15):
            assert await process.wait() == 0
    except BaseException as exc:
        if process.returncode is None:
            process.kill()
        assert process.stderr is not None
        logged = (await process.stderr.read()).decode()
        raise AssertionError(f"{exc!r}; the worker logged:\n{logged}") from exc
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert server.authorization[0] == "Bearer wk-1"
