"""A stand-in for soni's WebSocket endpoint: just enough of the protocol to test the client.

The chat text steers it:

- ``delay:<ms>:<tag>`` answers after ``ms`` milliseconds (answers come out of order);
- ``reverse:<n>:<tag>`` is held until ``n`` such messages have come on the
  connection, then all are answered, the last one first;
- ``held`` answers once the test sets ``seen.let_go``;
- ``fail:<status>`` answers an error with that status;
- ``hang`` never answers;
- ``drop`` closes the connection (code 1011) without answering;
- ``junk`` sends frames the client must ignore, then answers;
- anything else is echoed: ``echo: <text>``, plus ``user: <user_id>`` when given.

``decide`` tokens ``missing``/``taken``/``old``/``bad`` answer 404/409/410/422; any
other token is approved and an event is pushed to the connection's subscribers.
``subscribe`` answers, then pushes three ``turn`` events (with junk between them);
conversation ``forbidden`` answers 404. A bearer key ``wrong`` is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import uvicorn
from fastapi import FastAPI, WebSocket, WebSocketDisconnect

from .._uvicorn import ThreadedServer


@dataclass
class Seen:
    """What the server received and sent, for the tests to check and to wait for.

    The server runs on a thread of its own: it records under ``changed`` and
    notifies, and ``until`` waits (off the test's event loop) for what it records.
    """

    headers: list[dict[str, str]] = field(default_factory=list)
    instructions: list[tuple[str | None, str]] = field(default_factory=list)
    answered: list[str] = field(default_factory=list)
    """The text of each message answered, once its answer is sent."""
    pushed: list[tuple[str, str]] = field(default_factory=list)
    """Each event sent, as ``(event, conversation_id)``, once it is sent."""
    let_go: threading.Event = field(default_factory=threading.Event)
    """Set by a test to have the ``held`` messages answered."""
    changed: threading.Condition = field(default_factory=threading.Condition)

    def note(self, record: list[Any], item: Any) -> None:
        with self.changed:
            record.append(item)
            self.changed.notify_all()

    async def until(self, condition: Callable[[], bool], timeout: float = 10) -> None:
        """Wait for ``condition()`` to hold; a ``TimeoutError`` after ``timeout`` seconds."""

        def wait() -> None:
            with self.changed:
                if not self.changed.wait_for(condition, timeout):
                    raise TimeoutError("the fake server never got there")

        await asyncio.to_thread(wait)


@dataclass
class FakeServer:
    url: str
    seen: Seen


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _problem(status: int, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    problem = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return {"type": "response", "ok": False, "error": {**problem, **extra}}


def _ok(result: dict[str, Any]) -> dict[str, Any]:
    return {"type": "response", "ok": True, "result": result}


class _Session:
    """One WebSocket connection."""

    def __init__(self, websocket: WebSocket, seen: Seen) -> None:
        self.websocket = websocket
        self.seen = seen
        self.lock = asyncio.Lock()
        self.subscriptions: dict[str, str] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.reversed: list[tuple[str, dict[str, Any]]] = []

    async def send(self, session_id: str | None, payload: dict[str, Any]) -> None:
        frame = {"session_id": session_id, "local_timestamp": _now(), "payload": payload}
        await self.send_raw(json.dumps(frame))

    async def send_raw(self, text: str) -> None:
        async with self.lock:
            await self.websocket.send_text(text)

    async def serve(self) -> None:
        try:
            while True:
                frame = json.loads(await self.websocket.receive_text())
                session_id, payload = frame["session_id"], frame["payload"]
                self.seen.note(self.seen.instructions, (session_id, payload["name"]))
                if payload.get("args", {}).get("text") == "drop":
                    await self.websocket.close(code=1011, reason="dropped on purpose")
                    return
                task = asyncio.create_task(self.handle(session_id, payload))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)
        except WebSocketDisconnect:
            pass
        finally:
            for task in self.tasks:
                task.cancel()

    async def handle(self, session_id: str, payload: dict[str, Any]) -> None:
        name, args = payload["name"], payload.get("args", {})
        if name == "message":
            await self.message(session_id, args)
        elif name == "decide":
            await self.decide(session_id, args)
        elif name == "subscribe":
            await self.subscribe(session_id, args["conversation_id"])
        elif name == "unsubscribe":
            self.subscriptions.pop(session_id, None)
            await self.send(session_id, _ok({"unsubscribed": True}))
        else:
            await self.send(session_id, _problem(422, "Unprocessable", f"unknown {name!r}"))

    async def message(self, session_id: str, args: dict[str, Any]) -> None:
        text: str = args["text"]
        if text == "hang":
            return
        if text.startswith("fail:"):
            status = int(text.split(":")[1])
            await self.send(session_id, _problem(status, "Failed", f"asked to fail: {status}"))
            return
        if text.startswith("delay:"):
            await asyncio.sleep(int(text.split(":")[1]) / 1000)
        if text.startswith("reverse:"):
            self.reversed.append((session_id, args))
            if len(self.reversed) < int(text.split(":")[1]):
                return
            held, self.reversed = self.reversed, []
            for held_session, held_args in reversed(held):
                await self.answer(held_session, held_args)
            return
        if text == "held":
            await asyncio.to_thread(self.seen.let_go.wait, 10)
        await self.answer(session_id, args)

    async def answer(self, session_id: str, args: dict[str, Any]) -> None:
        text: str = args["text"]
        if text == "junk":
            await self.send_raw("this is not JSON")
            await self.send_raw(json.dumps([1, 2, 3]))
            await self.send(session_id, {"type": "mystery", "hello": "there"})
            await self.send("no-such-session", _ok({"stray": True}))
        replies = [{"text": f"echo: {text}", "kind": "text"}]
        if args.get("user_id"):
            replies.append({"text": f"user: {args['user_id']}", "kind": "info"})
        result = {
            "conversation_id": args["conversation_id"],
            "replies": replies,
            "pending": [
                {
                    "id": "conf-1",
                    "token": "tok-1",
                    "prompt": "Send 10 EUR?",
                    "options": ["approve"],
                    "labels": [None],
                    "expires_at": "2030-01-01T00:00:00+00:00",
                }
            ]
            if text == "confirm"
            else [],
            "status": "awaiting_confirmation" if text == "confirm" else "active",
            "active_flow": "transfer" if text == "confirm" else None,
        }
        await self.send(session_id, _ok(result))
        self.seen.note(self.seen.answered, text)

    async def decide(self, session_id: str, args: dict[str, Any]) -> None:
        token, decision = args["token"], args["decision"]
        refusals = {
            "missing": _problem(404, "Not Found", "unknown or invalid confirmation token"),
            "taken": _problem(409, "Already decided", "already decided", decision="skip"),
            "old": _problem(410, "Gone", "the confirmation expired"),
            "bad": _problem(422, "Unprocessable Content", "no option 'maybe'"),
        }
        if token in refusals:
            await self.send(session_id, refusals[token])
            return
        result = {
            "decision": decision,
            "status": "executed",
            "replies": [{"text": f"decided {decision}", "kind": "text"}],
            "pending": [],
            "conversation_id": "c1",
        }
        await self.send(session_id, _ok(result))
        for subscriber, conversation_id in list(self.subscriptions.items()):
            if conversation_id == "c1":
                await self.push(subscriber, "confirmation_decided", "c1", {"token": token})

    async def subscribe(self, session_id: str, conversation_id: str) -> None:
        if conversation_id == "forbidden":
            await self.send(session_id, _problem(404, "Not Found", "no such conversation"))
            return
        self.subscriptions[session_id] = conversation_id
        await self.send(session_id, _ok({"subscribed": conversation_id}))
        for n in range(3):
            await self.push(session_id, "turn", conversation_id, {"n": n})
            await self.send(session_id, {"type": "mystery"})
            await self.send_raw("{not json")

    async def push(
        self, session_id: str, event: str, conversation_id: str, data: dict[str, Any]
    ) -> None:
        payload = {
            "type": "event",
            "event": event,
            "conversation_id": conversation_id,
            "data": data,
            "at": _now(),
        }
        await self.send(session_id, payload)
        self.seen.note(self.seen.pushed, (event, conversation_id))


def build_app(seen: Seen) -> FastAPI:
    app = FastAPI()

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        seen.headers.append(dict(websocket.headers))
        if websocket.headers.get("authorization") == "Bearer wrong":
            await websocket.close(code=1008)  # before accept: an HTTP 403
            return
        await websocket.accept()
        await _Session(websocket, seen).serve()

    return app


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    """Run ``app`` on real uvicorn on a free 127.0.0.1 port; yields ``http://host:port``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_config=None,
        log_level="warning",
        # The sans-I/O implementation: the legacy one warns on import.
        ws="websockets-sansio",
        lifespan="on",
        timeout_graceful_shutdown=2,
    )
    server = ThreadedServer(config)
    try:
        server.start(sockets=[sock])
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        sock.close()
