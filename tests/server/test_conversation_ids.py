"""What a conversation id may be: valid UTF-8 without '/', whichever way it comes in."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from soni.server import ServerSettings

from .conftest import HTTP_LAYER, LiveServer, Serve, Served

KEYS = ServerSettings(api_keys={"alice-key": "alice"})


@HTTP_LAYER
@pytest.mark.parametrize("raw", ["q%FF", "q%FE", "%ED%A0%80", "%C0%AF"])
@pytest.mark.in_process
def test_an_id_that_is_not_utf8_is_refused_not_merged(server: Served, raw: str) -> None:
    with server.client() as client:
        answers = [
            client.post(f"/conversations/{raw}/messages", json={"text": "hi"}),
            client.get(f"/conversations/{raw}"),
            client.delete(f"/conversations/{raw}"),
            client.get(f"/conversations/{raw}/confirmations"),
            client.get(f"/events?conversation_id={raw}"),
        ]
        # q%FF and q%FE would both have been "q\ufffd": nothing was started under it.
        replaced = client.get("/conversations/q%EF%BF%BD")

    for answer in answers:
        assert answer.status_code == 422, answer.request.url
        problem = answer.json()
        assert problem["type"] == "urn:soni:problem:invalid-request"
        assert problem["detail"] == f"invalid conversation id {raw!r}: not valid UTF-8"
    assert replaced.status_code == 404


async def ws_answer(server: LiveServer, name: str, args: dict[str, Any]) -> dict[str, Any]:
    async with connect(server.ws_url, proxy=None) as ws:
        payload = {"type": "instruction", "name": name, "args": args}
        await ws.send(json.dumps({"session_id": "s", "local_timestamp": None, "payload": payload}))
        answer: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 10))["payload"]
        return answer


@HTTP_LAYER
@pytest.mark.parametrize("name", ["message", "subscribe"])
async def test_a_websocket_id_with_a_slash_is_refused(server: LiveServer, name: str) -> None:
    args = {"conversation_id": "a/b"} | ({"text": "hi"} if name == "message" else {})

    answer = await ws_answer(server, name, args)

    assert answer["ok"] is False
    assert answer["error"]["status"] == 422
    assert answer["error"]["detail"] == "invalid conversation id 'a/b': '/' is not allowed in an id"


@HTTP_LAYER
@pytest.mark.parametrize("name", ["message", "subscribe"])
async def test_a_websocket_id_with_a_lone_surrogate_is_refused(
    server: LiveServer, name: str
) -> None:
    args = {"conversation_id": "a\ud800"} | ({"text": "hi"} if name == "message" else {})

    answer = await ws_answer(server, name, args)

    assert answer["ok"] is False
    assert answer["error"]["status"] == 422
    assert answer["error"]["errors"][0]["loc"] == ["conversation_id"]


@pytest.mark.in_process
def test_turning_api_keys_on_changes_the_namespace(serve: Serve, tmp_path: Path) -> None:
    db = str(tmp_path / "shared.db")
    open_server = serve(db=db)
    with open_server.client() as anyone:
        anyone.post(
            "/conversations/c1/messages", json={"text": "/check_balance", "user_id": "alice"}
        )
        assert anyone.get("/conversations/c1").json()["user_id"] == "alice"
    open_server.stop()

    keyed = serve(settings=KEYS, db=db)
    with keyed.client("alice-key") as alice:
        # Alice's "c1" is alice/c1 now: the conversation started without keys is
        # not hers, whatever user_id it was given.
        assert alice.get("/conversations/c1").status_code == 404
        started = alice.post("/conversations/c1/messages", json={"text": "/check_balance"})
        assert started.json()["replies"][0]["text"] == "Which account: checking or savings?"
