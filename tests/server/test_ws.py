"""The WebSocket protocol over a real socket."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from .conftest import HTTP_LAYER, LiveServer

IBAN = "DE89370400440532013000"


class Client:
    """A protocol client: frames sorted by session_id as they arrive."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.frames: defaultdict[str | None, asyncio.Queue[dict[str, Any]]] = defaultdict(
            asyncio.Queue
        )
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.socket:
            frame = json.loads(raw)
            assert set(frame) == {"session_id", "local_timestamp", "payload"}
            self.frames[frame["session_id"]].put_nowait(frame["payload"])

    async def send_raw(self, raw: str) -> None:
        await self.socket.send(raw)

    async def send(self, session_id: str, name: str, **args: Any) -> None:
        frame = {
            "session_id": session_id,
            "local_timestamp": "2026-01-01T10:00:00+01:00",
            "payload": {"type": "instruction", "name": name, "args": args},
        }
        await self.socket.send(json.dumps(frame))

    async def next(self, session_id: str | None) -> dict[str, Any]:
        return await asyncio.wait_for(self.frames[session_id].get(), 10)

    async def call(self, session_id: str, name: str, **args: Any) -> dict[str, Any]:
        await self.send(session_id, name, **args)
        return await self.next(session_id)

    async def close(self) -> None:
        await self.socket.close()
        with contextlib.suppress(Exception):
            await self._reader


@contextlib.asynccontextmanager
async def ws_client(server: LiveServer, **options: Any) -> AsyncIterator[Client]:
    async with connect(server.ws_url, proxy=None, **options) as socket:
        client = Client(socket)
        try:
            yield client
        finally:
            await client.close()


async def test_a_transfer_over_the_websocket_with_a_subscriber(server: LiveServer) -> None:
    c = "ws-transfer"
    async with ws_client(server) as chat, ws_client(server) as watcher:
        subscribed = await watcher.call("sub-1", "subscribe", conversation_id=c)
        assert subscribed == {
            "type": "response",
            "ok": True,
            "result": {"subscribed": True, "conversation_id": c},
        }
        first = await chat.call("m1", "message", conversation_id=c, text="send 50 euros to Bob")
        assert first["ok"] is True
        assert first["result"]["replies"] == [{"text": "What is their IBAN?", "kind": "text"}]
        asked = await chat.call("m2", "message", conversation_id=c, text=IBAN, user_id="ann")
        result = asked["result"]
        assert result["status"] == "awaiting_confirmation"
        token = result["pending"][0]["token"]

        decided = await chat.call("d1", "decide", token=token, decision="approve")
        assert decided["ok"] is True
        assert decided["result"]["decision"] == "execute_transfer"
        assert decided["result"]["replies"][0]["text"].startswith("Done: 50 EUR sent to Bob.")
        assert decided["result"]["confirmation"]["decided_by"] == {
            "user_id": None,
            "channel": "ws",
        }

        events: list[dict[str, Any]] = []
        done = "Done: 50 EUR sent"
        while (
            not events
            or not _replies(events[-1])[:1]
            or not _replies(events[-1])[0].startswith(done)
        ):
            event = await watcher.next("sub-1")
            assert event["type"] == "event"
            assert event["conversation_id"] == c and event["at"]
            events.append(event)
        kinds = [e["event"] for e in events]
        assert kinds[:2] == ["session_started", "turn"]
        assert "confirmation_requested" in kinds and "awaiting_confirmation" in kinds
        assert kinds[-3:] == ["confirmation_decided", "action_executed", "turn"]

        # Anything but unsubscribe in a subscribed session is refused; unsubscribe ends it.
        busy = await watcher.call("sub-1", "message", conversation_id=c, text="hi")
        assert busy["ok"] is False and busy["error"]["status"] == 409
        bye = await watcher.call("sub-1", "unsubscribe")
        assert bye["result"] == {"unsubscribed": True, "conversation_id": c}
        # The session_id is free again.
        again = await watcher.call("sub-1", "message", conversation_id="other", text="balance")
        assert again["ok"] is True


def _replies(event: dict[str, Any]) -> list[str]:
    if event["event"] != "turn":
        return []
    return [reply["text"] for reply in event["data"]["replies"]]


@HTTP_LAYER
async def test_malformed_frames_get_error_responses_and_the_socket_stays_usable(
    server: LiveServer,
) -> None:
    async with ws_client(server) as client:
        await client.send_raw("this is not json")
        error = await client.next(None)
        assert error["type"] == "response" and error["ok"] is False
        assert set(error["error"]) >= {"type", "title", "status", "detail"}
        assert error["error"]["status"] == 400

        await client.send_raw(json.dumps([1, 2]))
        assert (await client.next(None))["ok"] is False
        await client.send_raw(json.dumps({"payload": {"type": "instruction"}}))
        assert (await client.next(None))["ok"] is False
        await client.send_raw(json.dumps({"session_id": "s1", "payload": "x"}))
        assert (await client.next("s1"))["error"]["status"] == 400
        await client.send_raw(json.dumps({"session_id": "s2", "payload": {"type": "bogus"}}))
        assert "unknown payload type" in (await client.next("s2"))["error"]["detail"]
        await client.send_raw(json.dumps({"session_id": "s3", "payload": {"type": "event"}}))
        assert (await client.next("s3"))["ok"] is False

        unknown = await client.call("s4", "dance")
        assert unknown["error"]["type"].endswith("unknown-instruction")
        assert unknown["error"]["title"] == "Unknown instruction"
        invalid = await client.call("s5", "message", conversation_id="c")
        assert invalid["error"]["status"] == 422
        bad_args = await client.call("s6", "message", conversation_id="c", text=3)
        assert bad_args["error"]["status"] == 422
        nothing = await client.call("s7", "unsubscribe")
        assert nothing["error"]["status"] == 404
        unknown_token = await client.call("s8", "decide", token="x" * 32, decision="approve")
        assert unknown_token["error"]["status"] == 404
        # Over max_body_bytes: refused in the session the frame names.
        await client.send_raw(json.dumps({"session_id": "big", "payload": "x" * 70_000}))
        assert (await client.next("big"))["error"]["status"] == 413
        await client.send_raw("x" * 70_000)  # names none: answered with session_id null
        assert (await client.next(None))["error"]["status"] == 413

        ok = await client.call("s9", "message", conversation_id="c", text="what's my balance")
        assert ok["ok"] is True
        assert ok["result"]["replies"][0]["text"] == "Which account: checking or savings?"


@HTTP_LAYER
@pytest.mark.parametrize(
    "raw",
    [
        '{"session_id": "s", "payload": {"type": ["x"]}}',
        '{"session_id": "s", "payload": {"type": {}}}',
        "[" * 60_000,
    ],
)
async def test_a_malformed_frame_gets_an_error_and_the_connection_stays(
    server: LiveServer, raw: str
) -> None:
    async with connect(server.ws_url, proxy=None) as socket:
        await socket.send(raw)
        error = json.loads(await asyncio.wait_for(socket.recv(), 10))
        assert error["payload"]["ok"] is False
        assert error["payload"]["error"]["status"] == 400
        frame = {"session_id": "ok", "local_timestamp": None}
        frame["payload"] = {"type": "instruction", "name": "message", "args": {}}
        frame["payload"]["args"] = {"conversation_id": "after", "text": "/check_balance"}
        await socket.send(json.dumps(frame))
        answer = json.loads(await asyncio.wait_for(socket.recv(), 10))

    assert answer["payload"]["ok"] is True


SCRIPT = [
    ("what's my balance", ["Which account: checking or savings?"]),
    ("savings", ["Your savings balance is 8000 EUR."]),
    ("send money", ["Who should receive the money?"]),
    ("Bob", ["How much do you want to send?"]),
    ("7", ["What is their IBAN?"]),
    (IBAN, [f"Send 7 EUR to Bob ({IBAN})?"]),
    ("no", ["Nothing was sent."]),
    ("check my checking balance", ["Your checking balance is 1520.5 EUR."]),
]


async def test_messages_sent_at_once_are_processed_in_the_order_they_arrived(
    server: LiveServer,
) -> None:
    async with ws_client(server) as client:
        for number, (text, _) in enumerate(SCRIPT):
            await client.send(f"turn-{number}", "message", conversation_id="burst", text=text)
        for number, (_, expected) in enumerate(SCRIPT):
            answer = await client.next(f"turn-{number}")
            assert [r["text"] for r in answer["result"]["replies"]] == expected, number


async def test_one_session_id_reused_for_instructions_sent_one_after_another(
    server: LiveServer,
) -> None:
    async with ws_client(server) as client:
        for text, _ in SCRIPT[:3]:
            await client.send("same", "message", conversation_id="reuse", text=text)
        for _, expected in SCRIPT[:3]:
            answer = await client.next("same")
            assert [r["text"] for r in answer["result"]["replies"]] == expected
