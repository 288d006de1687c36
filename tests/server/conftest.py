"""A real uvicorn server on a free 127.0.0.1 port, in a background thread, per test."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from soni.server import ServerSettings, create_app
from soni.server.transport import uvicorn_options

from ..engine.conftest import EXAMPLES

__all__ = ("LiveServer",)

STARTUP_TIMEOUT = 10.0


class LiveServer:
    """An app served by uvicorn in a thread; ``url`` once started."""

    def __init__(self, app: Any, settings: ServerSettings | None = None) -> None:
        self.app = app
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,  # the OS picks a free port: tests in parallel never collide
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=2,
            # The protocols and transport limits soni serve runs with.
            **uvicorn_options(settings or ServerSettings()),
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)
        self.url = ""

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http") + "/ws"

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the server failed to start")
            if time.monotonic() > deadline:
                raise TimeoutError("the server did not start in time")
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        while True:
            try:
                if httpx.get(self.url + "/health", timeout=1, trust_env=False).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("/health did not answer in time")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        assert not self.thread.is_alive(), "the server did not stop"

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=15, trust_env=False)

    def async_client(self, key: str | None = None, **options: Any) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.AsyncClient(
            base_url=self.url, headers=headers, timeout=30, trust_env=False, **options
        )


Serve = Callable[..., LiveServer]


@pytest.fixture
def serve(handlers: object, tmp_path: Path) -> Iterator[Serve]:
    """Start servers: ``serve(bot=..., settings=..., **load_options)``; stopped at the end."""
    servers: list[LiveServer] = []

    def start(
        bot: Path | str = EXAMPLES / "banking",
        settings: ServerSettings | None = None,
        **load_options: Any,
    ) -> LiveServer:
        load_options.setdefault("db", str(tmp_path / f"state-{len(servers)}.db"))
        settings = settings or ServerSettings()
        app = create_app(bot, settings, **load_options)
        server = LiveServer(app, settings).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def server(serve: Serve) -> LiveServer:
    """The banking example, with default settings."""
    return serve()


TRANSFER = ["send 50 euros to Bob", "DE89370400440532013000"]
"""Two messages that bring the banking bot to its transfer confirmation."""


def start_transfer(client: httpx.Client, conversation_id: str) -> dict[str, Any]:
    """Run the banking bot up to its confirmation; returns the pending confirmation."""
    body: dict[str, Any] = {}
    for text in TRANSFER:
        response = client.post(f"/conversations/{conversation_id}/messages", json={"text": text})
        assert response.status_code == 200, response.text
        body = response.json()
    assert body["status"] == "awaiting_confirmation", body
    pending: dict[str, Any] = body["pending"][0]
    return pending


BOT_WITH_SLOW_ACTIONS = """
version: "1.0"
settings:
  confirmations: {ttl: %(ttl)s}
slots:
  amount: {type: float, prompt: "How much?"}
actions:
  wait_a_bit:
    description: "takes its time"
  blow_up:
    description: "always fails"
  pay:
    description: "pays"
    inputs: [amount]
    confirm: "Pay {amount}?"
flows:
  slow:
    description: "a slow flow"
    steps:
      - {step: work, type: action, call: wait_a_bit}
      - {step: done, type: say, message: "slow done"}
  boom:
    description: "a failing flow"
    steps:
      - {step: work, type: action, call: blow_up}
  payment:
    description: "a payment"
    steps:
      - {step: ask, type: collect, slot: amount}
      - {step: send, type: action, call: pay}
      - {step: done, type: say, message: "paid {amount}"}
"""


def write_test_bot(folder: Path, *, ttl: float = 300) -> Path:
    """A small bot whose handlers the test registers itself (no actions.py)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bot.yaml").write_text(BOT_WITH_SLOW_ACTIONS % {"ttl": ttl})
    return folder


async def sse_events(response: httpx.Response) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """``(event, data)`` pairs of a server-sent event stream; comments (pings) skipped."""
    event, data = "message", []
    async for line in response.aiter_lines():
        if not line:
            if data:
                yield event, json.loads("\n".join(data))
            event, data = "message", []
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                event = value
            elif field == "data":
                data.append(value)
