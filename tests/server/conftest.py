"""Serving a test's app: on a real uvicorn server on a free 127.0.0.1 port, in a
background thread, or, for a test marked ``in_process``, in the test's own process
through an ASGI transport (no socket).

A real server is what tests of WebSockets, server-sent events, transport limits and
everything on the wire need. A test of plain requests and answers gets the same app,
the same start-up and the same answers in process, without the socket, the server
thread's start and its graceful stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any, TypeAlias

import anyio.from_thread
import httpx
import pytest
import uvicorn

from soni.server import ServerSettings, create_app
from soni.server.transport import uvicorn_options
from soni.storage import is_postgres_url

from .._postgres import create_database, drop_database
from .._uvicorn import ThreadedServer
from ..engine.conftest import DEPLOYMENT_SECRET, EXAMPLES

__all__ = ("HTTP_LAYER", "InProcessServer", "LiveServer", "Serve", "Served")

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


class InProcessServer:
    """An app answering in this process: its lifespan runs on an event loop of its own
    (a thread, as under uvicorn), and its clients reach it through an ASGI transport.

    The same interface as ``LiveServer`` for plain requests; no streaming (an answer
    is read whole before it is returned), no WebSocket.
    """

    url = "http://soni.test"

    def __init__(self, app: Any) -> None:
        self.app = app
        self._running = contextlib.ExitStack()
        self._transport: _AppTransport | None = None

    def start(self) -> InProcessServer:
        with self._running as running:
            portal = running.enter_context(anyio.from_thread.start_blocking_portal())
            lifespan = self.app.router.lifespan_context(self.app)
            running.enter_context(portal.wrap_async_context_manager(lifespan))
            self._running = running.pop_all()  # a failed start-up leaves nothing running
        self._transport = _AppTransport(self.app, portal)
        return self

    def stop(self) -> None:
        self._running.close()

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(transport=self._transport, base_url=self.url, headers=headers)

    def async_client(self, key: str | None = None, **options: Any) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.AsyncClient(
            transport=self._transport, base_url=self.url, headers=headers, **options
        )


class _AppTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Requests answered by the app on its own loop, from any thread or loop.

    An exception the app does not handle is a 500, as a server answers it. A request
    gets as long as the real servers' clients give it (15 s, 30 s from async tests).
    """

    def __init__(self, app: Any, portal: anyio.from_thread.BlockingPortal) -> None:
        self._asgi = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self._portal = portal

    async def _answer(self, request: httpx.Request) -> httpx.Response:
        response = await self._asgi.handle_async_request(request)
        content = await response.aread()
        return httpx.Response(
            response.status_code, headers=response.headers, stream=httpx.ByteStream(content)
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        # Read here, on the caller's thread; sent to the app in the pieces it came in.
        request.stream = _Pieces(list(request.stream))
        answer = self._portal.start_task_soon(self._answer, request)
        try:
            return answer.result(timeout=15)
        except FutureTimeout:
            answer.cancel()
            raise httpx.ReadTimeout("no answer in 15 s", request=request) from None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.stream = _Pieces([piece async for piece in request.stream])
        answer = asyncio.wrap_future(self._portal.start_task_soon(self._answer, request))
        try:
            return await asyncio.wait_for(answer, 30)
        except TimeoutError:
            raise httpx.ReadTimeout("no answer in 30 s", request=request) from None


class _Pieces(httpx.AsyncByteStream):
    """A request body read already, handed to the app piece by piece (a chunked body
    reaches it in several ASGI messages, as from a socket)."""

    def __init__(self, pieces: list[bytes]) -> None:
        self._pieces = pieces

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self._pieces:
            yield piece


Served: TypeAlias = LiveServer | InProcessServer


class Serve:
    """Starts servers of a test on its backend: ``serve(bot=..., settings=..., **load_options)``.

    ``db`` names where a server keeps its state, as a file name would: servers of the
    test given the same name share it (a restart, another worker). On PostgreSQL each
    distinct name is a database of its own, made for the test from the template
    holding soni's tables, and its servers share the deployment's secret, as every
    deployment of several workers does.
    """

    def __init__(self, backend: str, tmp_path: Path, *, in_process: bool = False) -> None:
        self.backend = backend
        self.in_process = in_process
        self._tmp_path = tmp_path
        self._servers: list[Served] = []
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
    ) -> Served:
        name = load_options.pop("db", None) or str(
            self._tmp_path / f"state-{len(self._servers)}.db"
        )
        load_options["db"] = self.db(name)
        if self.backend == "postgres":
            load_options.setdefault("secret", DEPLOYMENT_SECRET)
        settings = settings or ServerSettings()
        app = create_app(bot, settings, **load_options)
        server = InProcessServer(app) if self.in_process else LiveServer(app, settings)
        self._servers.append(server.start())
        return server

    def close(self) -> None:
        try:
            for server in self._servers:
                server.stop()
        finally:
            for url in self._databases.values():
                drop_database(url)


@pytest.fixture
def serve(
    handlers: object, tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> Iterator[Serve]:
    """Start servers on the test's backend (SQLite and PostgreSQL); stopped at the end.

    Real servers, or in process for a test marked ``in_process``.
    """
    in_process = request.node.get_closest_marker("in_process") is not None
    servers = Serve(backend, tmp_path, in_process=in_process)
    yield servers
    servers.close()


@pytest.fixture
def server(serve: Serve) -> Served:
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
