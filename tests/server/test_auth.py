"""API keys: every route needs one, and each user has conversation ids of their own."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from soni.server import ServerSettings

from .conftest import HTTP_LAYER, LiveServer, Serve, Served, sse_events, start_transfer

KEYS = ServerSettings(api_keys={"alice-key": "alice", "bob-key": "bob"})


@pytest.fixture
def keyed(serve: Serve) -> Served:
    return serve(settings=KEYS)


@HTTP_LAYER
@pytest.mark.in_process
def test_every_route_but_health_and_ready_needs_a_key(keyed: Served) -> None:
    with keyed.client() as anonymous, keyed.client("wrong") as wrong:
        assert anonymous.get("/health").status_code == 200
        assert anonymous.get("/ready").status_code == 200
        for method, path in [
            ("POST", "/conversations/c/messages"),
            ("GET", "/conversations/c"),
            ("DELETE", "/conversations/c"),
            ("GET", "/conversations/c/confirmations"),
            ("POST", "/confirmations/t/approve"),
            ("POST", "/confirmations/t/skip"),
            ("POST", "/confirmations/t/choose"),
            ("GET", "/confirmations/t"),
            ("POST", "/decisions"),
            ("GET", "/actions"),
            ("GET", "/metrics"),
            ("GET", "/events"),
        ]:
            for client in (anonymous, wrong):
                answer = client.request(method, path, json={"text": "hi"})
                assert answer.status_code == 401, (method, path)
                assert answer.headers["www-authenticate"] == "Bearer"
                assert answer.json()["type"].endswith("unauthorized")
        basic = anonymous.get("/actions", headers={"Authorization": "Basic YTpi"})
        assert basic.status_code == 401


def test_users_cannot_see_or_decide_each_others_conversations(keyed: LiveServer) -> None:
    with keyed.client("alice-key") as alice, keyed.client("bob-key") as bob:
        pending = start_transfer(alice, "shared-name")
        token = pending["token"]
        mine = alice.get("/conversations/shared-name").json()
        assert mine["user_id"] == "alice"
        # The user_id of a body is ignored: the key says who it is.
        alice.post("/conversations/a2/messages", json={"text": "balance", "user_id": "bob"})
        assert alice.get("/conversations/a2").json()["user_id"] == "alice"

        def same_as_unknown(path: str, method: str = "GET", **kw: object) -> None:
            theirs = bob.request(method, path.format(c="shared-name", t=token), **kw)
            nobody = bob.request(method, path.format(c="no-such", t="x" * 32), **kw)
            assert theirs.status_code == nobody.status_code == 404, path
            # No hint that it exists: the same answer but for the name itself.
            assert theirs.json()["type"] == nobody.json()["type"]
            assert theirs.json()["title"] == nobody.json()["title"]

        same_as_unknown("/conversations/{c}")
        same_as_unknown("/conversations/{c}/confirmations")
        same_as_unknown("/conversations/{c}", "DELETE")
        same_as_unknown("/confirmations/{t}")
        same_as_unknown("/confirmations/{t}/approve", "POST")
        same_as_unknown("/confirmations/{t}/skip", "POST")
        same_as_unknown("/confirmations/{t}/choose", "POST", json={"option": "execute_transfer"})
        theirs = bob.post("/decisions", content=f"EXECUTE:{token}")
        assert theirs.status_code == 404
        assert theirs.json() == bob.post("/decisions", content="EXECUTE:" + "x" * 32).json()
        # Following another user's conversation is accepted as for an unknown one (a
        # refusal would tell them apart); its events are filtered out (see below).
        with (
            bob.stream(
                "GET", "/events", params={"conversation_id": "shared-name"}
            ) as theirs_stream,
            bob.stream("GET", "/events", params={"conversation_id": "no-such"}) as nobody_stream,
        ):
            assert theirs_stream.status_code == nobody_stream.status_code == 200

        # Bob's "shared-name" is a conversation of his own, started as any new id is:
        # his "yes" reaches neither alice's conversation nor her confirmation.
        sent = bob.post("/conversations/shared-name/messages", json={"text": "yes"})
        assert sent.status_code == 200
        assert sent.json()["conversation_id"] == "shared-name"
        assert sent.json()["pending"] == []
        his = bob.get("/conversations/shared-name").json()
        assert his["user_id"] == "bob"
        assert his["slots"] == {}

        # Nothing bob tried changed anything of alice's.
        assert alice.get(f"/confirmations/{token}").json()["status"] == "pending"
        hers = alice.get("/conversations/shared-name").json()
        assert hers["user_id"] == "alice"
        assert hers["slots"]["beneficiary"] == "Bob"
        approved = alice.post(f"/confirmations/{token}/approve")
        assert approved.status_code == 200
        assert approved.json()["confirmation"]["decided_by"] == {
            "user_id": "alice",
            "channel": "http",
        }


async def test_a_watcher_of_everything_sees_only_its_own_conversations(
    keyed: LiveServer,
) -> None:
    async with keyed.async_client("bob-key") as bob, keyed.async_client("alice-key") as alice:
        seen: list[str | None] = []
        subscribed = asyncio.Event()

        async def watch() -> None:
            async with bob.stream("GET", "/events") as stream:
                async for event, data in sse_events(stream):
                    if event == "subscribed":
                        subscribed.set()
                    elif event == "turn":
                        seen.append(data["conversation_id"])
                        if data["conversation_id"] == "bobs":
                            return

        watching = asyncio.create_task(watch())
        await asyncio.wait_for(subscribed.wait(), 10)
        await alice.post("/conversations/alices/messages", json={"text": "balance"})
        await bob.post("/conversations/bobs/messages", json={"text": "balance"})
        await asyncio.wait_for(watching, 10)
        assert seen == ["bobs"]


async def test_the_websocket_needs_a_key_and_keeps_users_apart(keyed: LiveServer) -> None:
    with keyed.client("alice-key") as alice:
        token = start_transfer(alice, "alices-ws")["token"]
    with pytest.raises(InvalidStatus) as refused:
        async with connect(keyed.ws_url, proxy=None):
            pass
    assert refused.value.response.status_code == 401
    with pytest.raises(InvalidStatus):
        async with connect(keyed.ws_url + "?api_key=wrong", proxy=None):
            pass

    async with connect(keyed.ws_url + "?api_key=bob-key", proxy=None) as bob:

        async def call(session_id: str, name: str, **args: object) -> dict[str, object]:
            frame = {"session_id": session_id, "local_timestamp": None}
            frame["payload"] = {"type": "instruction", "name": name, "args": args}
            await bob.send(json.dumps(frame))
            while True:  # events of the subscriptions below may come first
                answer = json.loads(await asyncio.wait_for(bob.recv(), 10))
                if answer["session_id"] == session_id:
                    payload: dict[str, object] = answer["payload"]
                    return payload

        decided = await call("1", "decide", token=token, decision="approve")
        assert decided["ok"] is False
        assert decided["error"]["status"] == 404  # type: ignore[index]
        # Subscribing to another user's conversation answers as for an unknown one.
        watched = await call("2", "subscribe", conversation_id="alices-ws")
        unknown = await call("2b", "subscribe", conversation_id="nobodys-ws")
        assert watched["ok"] is unknown["ok"] is True
        # Bob's "alices-ws" is his own new conversation: his "yes" decides nothing.
        sent = await call("3", "message", conversation_id="alices-ws", text="yes")
        assert sent["ok"] is True
        assert sent["result"]["conversation_id"] == "alices-ws"  # type: ignore[index]
        assert sent["result"]["pending"] == []  # type: ignore[index]
        own = await call("4", "message", conversation_id="bobs-ws", text="balance")
        assert own["ok"] is True

    headers = {"Authorization": "Bearer alice-key"}
    async with connect(keyed.ws_url, proxy=None, additional_headers=headers) as socket:
        frame = {
            "session_id": "a",
            "local_timestamp": None,
            "payload": {
                "type": "instruction",
                "name": "decide",
                "args": {"token": token, "decision": "skip"},
            },
        }
        await socket.send(json.dumps(frame))
        answer = json.loads(await asyncio.wait_for(socket.recv(), 10))
        assert answer["payload"]["ok"] is True
        assert answer["payload"]["result"]["confirmation"]["decided_by"] == {
            "user_id": "alice",
            "channel": "ws",
        }


@pytest.mark.in_process
def test_a_token_alone_decides_when_the_setting_allows_it(serve: Serve) -> None:
    settings = KEYS.model_copy(update={"decide_by_token_alone": True})
    server = serve(settings=settings)
    with (
        server.client("alice-key") as alice,
        server.client() as link,
        server.client("bob-key") as bob,
    ):
        first = start_transfer(alice, "linked")
        assert link.get(f"/confirmations/{first['token']}").json()["status"] == "pending"
        approved = link.post(f"/confirmations/{first['token']}/approve")
        assert approved.status_code == 200
        # The conversation as its owner knows it, not as the bot stores it.
        assert approved.json()["conversation_id"] == "linked"
        assert approved.json()["confirmation"]["conversation_id"] == "linked"
        assert approved.json()["confirmation"]["decided_by"] == {
            "user_id": None,
            "channel": "http",
        }
        second = start_transfer(alice, "linked-2")
        assert link.post("/decisions", content=f"SKIP:{second['token']}").status_code == 200
        # The conversations themselves stay private.
        assert link.get("/conversations/linked").status_code == 401
        assert bob.get("/conversations/linked").status_code == 404


@pytest.mark.in_process
def test_a_reset_name_used_by_another_user_is_theirs_with_none_of_the_old_confirmations(
    keyed: Served,
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
