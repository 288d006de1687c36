"""A real uvicorn server on a free 127.0.0.1 port, in a background thread, per test."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from soni.server import ServerSettings, create_app
from soni.server.transport import uvicorn_options
from soni.storage import is_postgres_url

from .._postgres import create_database, drop_database
from .._uvicorn import ThreadedServer
from ..engine.conftest import DEPLOYMENT_SECRET, EXAMPLES

__all__ = ("HTTP_LAYER", "LiveServer", "Serve")

STARTUP_TIMEOUT = 10.0

HTTP_LAYER = pytest.mark.sqlite_only(
    reason="about the HTTP and WebSocket layer (limits, parsing, validation, keys), "
    "which answers before the storage is reached: one backend is enough"
)
"""For the tests of a served bot whose outcome no storage plays a part in."""


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
        self.server = ThreadedServer(config)
        self.url = ""

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http") + "/ws"

    def start(self) -> LiveServer:
        # Started means the app's start-up (the bot's loading) is over and the socket
        # listens: no request needs to wait for it.
        self.server.start(timeout=STARTUP_TIMEOUT)
        self.url = f"http://127.0.0.1:{self.server.port}"
        return self

    def stop(self) -> None:
        self.server.stop()

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=15, trust_env=False)

    def async_client(self, key: str | None = None, **options: Any) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.AsyncClient(
            base_url=self.url, headers=headers, timeout=30, trust_env=False, **options
        )


class Serve:
    """Starts servers of a test on its backend: ``serve(bot=..., settings=..., **load_options)``.

    ``db`` names where a server keeps its state, as a file name would: servers of the
    test given the same name share it (a restart, another worker). On PostgreSQL each
    distinct name is a database of its own, made for the test from the template
    holding soni's tables, and its servers share the deployment's secret, as every
    deployment of several workers does.
    """

    def __init__(self, backend: str, tmp_path: Path) -> None:
        self.backend = backend
        self._tmp_path = tmp_path
        self._servers: list[LiveServer] = []
        self._databases: dict[str, str] = {}

    def db(self, name: str) -> str:
        """Where servers given ``db=name`` keep their state: a file, or a database URL."""
        if self.backend == "sqlite" or name == ":memory:" or is_postgres_url(name):
            return name
        if name not in self._databases:
            self._databases[name] = create_database(with_schema=True)
        return self._databases[name]

    def __call__(
        self,
        bot: Path | str = EXAMPLES / "banking",
        settings: ServerSettings | None = None,
        **load_options: Any,
    ) -> LiveServer:
        name = load_options.pop("db", None) or str(
            self._tmp_path / f"state-{len(self._servers)}.db"
        )
        load_options["db"] = self.db(name)
        if self.backend == "postgres":
            load_options.setdefault("secret", DEPLOYMENT_SECRET)
        settings = settings or ServerSettings()
        app = create_app(bot, settings, **load_options)
        server = LiveServer(app, settings).start()
        self._servers.append(server)
        return server

    def close(self) -> None:
        try:
            for server in self._servers:
                server.stop()
        finally:
            for url in self._databases.values():
                drop_database(url)


@pytest.fixture
def serve(handlers: object, tmp_path: Path, backend: str) -> Iterator[Serve]:
    """Start servers on the test's backend (SQLite and PostgreSQL); stopped at the end."""
    servers = Serve(backend, tmp_path)
    yield servers
    servers.close()


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
