"""The server side of docs/workers.md, just enough of it to test a worker against: a
real WebSocket server on 127.0.0.1, written with plain ``websockets`` and ``json``
(not with ``soni.remote``, so a mistake there cannot hide on both ends).

It answers ``announce`` (or refuses it, when told to), answers a worker's
``conversation`` instruction, and lets a test send ``run_action`` commands and
read what the worker sends back in each command's session.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response


def envelope(session_id: str, payload: dict[str, Any]) -> str:
    stamp = datetime.now(UTC).isoformat()
    return json.dumps({"session_id": session_id, "local_timestamp": stamp, "payload": payload})


class FakeServer:
    """One listening server; the worker's current connection is ``connection``."""

    def __init__(self) -> None:
        self.announces: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.handshakes = 0
        self.refuse_with: HTTPStatus | None = None
        self.refuse_announce: dict[str, Any] | None = None
        self.authorization: list[str | None] = []
        self.connection: ServerConnection | None = None
        self.bad_frames: list[str] = []
        self._inboxes: defaultdict[str, asyncio.Queue[dict[str, Any]]] = defaultdict(asyncio.Queue)
        self._server: Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    async def start(self) -> None:
        self._server = await serve(self._serve, "127.0.0.1", self.port, process_request=self._check)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and close every connection (the worker sees 1001)."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def _check(self, connection: ServerConnection, request: Request) -> Response | None:
        self.handshakes += 1
        self.authorization.append(request.headers.get("Authorization"))
        if self.refuse_with is not None:
            return connection.respond(self.refuse_with, "refused\n")
        return None

    async def _serve(self, connection: ServerConnection) -> None:
        self.connection = connection
        async for text in connection:
            data = json.loads(text)
            session_id, payload = data["session_id"], data["payload"]
            name = payload.get("name") if payload.get("type") == "instruction" else None
            if name == "announce":
                await self._announce(connection, session_id, payload["args"])
            elif name == "conversation":
                result = {"conversation_id": "c1", "status": "awaiting_input"}
                answer = {"type": "response", "ok": True, "result": result}
                await connection.send(envelope(session_id, answer))
            else:
                self._inboxes[session_id].put_nowait(payload)

    async def _announce(
        self, connection: ServerConnection, session_id: str, args: dict[str, Any]
    ) -> None:
        self.announces.put_nowait(args)
        if self.refuse_announce is not None:
            answer = {"type": "response", "ok": False, "error": self.refuse_announce}
        else:
            names = [action["name"] for action in args["actions"]]
            result = {"worker": args["worker"], "actions": names}
            answer = {"type": "response", "ok": True, "result": result}
        await connection.send(envelope(session_id, answer))

    async def announced(self, timeout: float = 5) -> dict[str, Any]:
        """The next announce's args."""
        async with asyncio.timeout(timeout):
            return await self.announces.get()

    async def send(self, session_id: str, payload: dict[str, Any]) -> None:
        assert self.connection is not None, "no worker connected"
        await self.connection.send(envelope(session_id, payload))

    async def command(
        self,
        action: str,
        slots: dict[str, Any] | None = None,
        *,
        key: str | None = None,
        deadline: float | None = 5.0,
        reconcile: bool = False,
    ) -> str:
        """Send ``run_action`` in a new session; returns the session id."""
        session_id = f"cmd-{uuid.uuid4().hex}"
        context: dict[str, Any] = {"conversation_id": "c1", "user_id": "alice", "flow": "f"}
        if key is not None:
            context["idempotency_key"] = key
        args = {
            "action": action,
            "reconcile": reconcile,
            "slots": slots or {},
            "context": context,
            "deadline": deadline,
        }
        await self.send(session_id, {"type": "instruction", "name": "run_action", "args": args})
        return session_id

    async def next_payload(self, session_id: str, timeout: float = 5) -> dict[str, Any]:
        """The next payload the worker sends in ``session_id``."""
        async with asyncio.timeout(timeout):
            return await self._inboxes[session_id].get()

    async def answer(self, session_id: str, timeout: float = 5) -> dict[str, Any]:
        """The response the worker sends in ``session_id`` (events before it are skipped)."""
        while True:
            payload = await self.next_payload(session_id, timeout)
            if payload["type"] == "response":
                return payload

    async def run(
        self, action: str, slots: dict[str, Any] | None = None, **options: Any
    ) -> dict[str, Any]:
        return await self.answer(await self.command(action, slots, **options))
