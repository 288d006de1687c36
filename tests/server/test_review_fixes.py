"""A review of the server: leaks with API keys, frames and bodies that broke things."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect

from soni.server import ServerSettings

from .conftest import HTTP_LAYER, LiveServer, Serve, start_transfer

KEYS = ServerSettings(api_keys={"alice-key": "alice", "bob-key": "bob"})


@pytest.fixture
def keyed(serve: Serve) -> LiveServer:
    return serve(settings=KEYS)


def test_a_reset_name_used_by_another_user_is_theirs_with_none_of_the_old_confirmations(
    keyed: LiveServer,
) -> None:
    with keyed.client("alice-key") as alice, keyed.client("bob-key") as bob:
        start_transfer(alice, "reused")
        assert alice.delete("/conversations/reused").status_code == 204
        assert bob.post("/conversations/reused/messages", json={"text": "hello"}).status_code == 200

        listed = bob.get("/conversations/reused/confirmations")

    assert listed.status_code == 200
    assert listed.json()["confirmations"] == []


async def test_the_owner_is_told_of_their_own_reset(keyed: LiveServer) -> None:
    with keyed.client("alice-key") as alice:
        alice.post("/conversations/mine/messages", json={"text": "/check_balance"})
    headers = {"Authorization": "Bearer alice-key"}
    async with connect(keyed.ws_url, proxy=None, additional_headers=headers) as socket:
        frame = {"session_id": "s", "local_timestamp": None}
        frame["payload"] = {"type": "instruction", "name": "subscribe", "args": {}}
        frame["payload"]["args"] = {"conversation_id": "mine"}
        await socket.send(json.dumps(frame))
        answer = json.loads(await asyncio.wait_for(socket.recv(), 10))
        assert answer["payload"]["ok"] is True
        with keyed.client("alice-key") as alice:
            assert alice.delete("/conversations/mine").status_code == 204
        event = json.loads(await asyncio.wait_for(socket.recv(), 10))

    assert event["payload"]["event"] == "session_removed"
    assert event["payload"]["data"]["reason"] == "reset"


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


@HTTP_LAYER
def test_deeply_nested_json_to_decisions_is_a_422(server: LiveServer) -> None:
    with server.client() as client:
        response = client.post(
            "/decisions", content=b"[" * 60_000, headers={"Content-Type": "application/json"}
        )

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
