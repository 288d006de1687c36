"""Conversations over HTTP, with a watcher on server-sent events."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from .conftest import LiveServer, Served, sse_events, start_transfer


async def test_a_transfer_approved_over_http_while_another_client_watches_the_events(
    server: LiveServer,
) -> None:
    c = "http-transfer"
    async with server.async_client() as chat, server.async_client() as watcher:
        first = await chat.post(
            f"/conversations/{c}/messages", json={"text": "send 50 euros to Bob", "user_id": "ann"}
        )
        assert first.status_code == 200
        assert first.json() == {
            "conversation_id": c,
            "replies": [{"text": "What is their IBAN?", "kind": "text"}],
            "pending": [],
            "status": "awaiting_input",
            "active_flow": "transfer_funds",
        }
        asked = await chat.post(
            f"/conversations/{c}/messages", json={"text": "DE89370400440532013000"}
        )
        body = asked.json()
        assert body["status"] == "awaiting_confirmation"
        assert body["replies"] == [
            {"text": "Send 50 EUR to Bob (DE89370400440532013000)?", "kind": "confirmation"}
        ]
        [pending] = body["pending"]
        assert pending["options"] == ["execute_transfer"]
        assert pending["labels"] == [None]
        assert pending["prompt"] == "Send 50 EUR to Bob (DE89370400440532013000)?"
        assert len(pending["token"]) >= 22 and pending["id"] and pending["expires_at"]

        seen: list[tuple[str, dict[str, Any]]] = []
        subscribed = asyncio.Event()

        async def watch() -> None:
            async with watcher.stream("GET", "/events", params={"conversation_id": c}) as stream:
                assert stream.status_code == 200
                assert stream.headers["content-type"].startswith("text/event-stream")
                async for event, data in sse_events(stream):
                    seen.append((event, data))
                    if event == "subscribed":
                        subscribed.set()
                    if event == "turn":
                        return

        watching = asyncio.create_task(watch())
        await asyncio.wait_for(subscribed.wait(), 10)

        approved = await chat.post(f"/confirmations/{pending['token']}/approve")
        assert approved.status_code == 200
        decision = approved.json()
        done = "Done: 50 EUR sent to Bob. Reference "
        assert decision["decision"] == "execute_transfer"
        assert decision["conversation_id"] == c
        assert decision["status"] == "ended"
        assert decision["pending"] == []
        assert decision["replies"][0]["text"].startswith(done)
        assert decision["confirmation"]["status"] == "executed"
        assert decision["confirmation"]["decided_by"] == {"user_id": None, "channel": "http"}

        await asyncio.wait_for(watching, 10)
        kinds = [event for event, _ in seen]
        assert kinds[0] == "subscribed"
        assert "confirmation_decided" in kinds and "action_executed" in kinds
        turn = seen[-1][1]
        assert turn["type"] == "turn" and turn["conversation_id"] == c
        assert turn["data"]["replies"][0]["text"].startswith(done)
        decided = dict(seen)["confirmation_decided"]["data"]
        assert decided["decision"] == "execute_transfer"
        assert decided["actor"] == {"user_id": None, "channel": "http"}

        # The follow-up reply is kept: the next read of the conversation shows it.
        state = (await chat.get(f"/conversations/{c}")).json()
        assert state["replies"][0]["text"].startswith(done)
        assert state["status"] == "ended" and state["active_flow"] is None
        assert state["user_id"] == "ann"
        assert state["slots"]["amount"] == 50 and state["slots"]["beneficiary"] == "Bob"

        listed = (await chat.get(f"/conversations/{c}/confirmations")).json()
        [record] = listed["confirmations"]
        assert record["status"] == "executed" and record["token"] is None
        assert record["result"]["transaction_id"].startswith("TX-")


@pytest.mark.in_process
def test_a_conversation_read_while_it_waits_shows_the_pending_confirmation(
    server: Served,
) -> None:
    with server.client() as client:
        pending = start_transfer(client, "waiting")
        state = client.get("/conversations/waiting").json()
        assert state["status"] == "awaiting_confirmation"
        assert state["active_flow"] == "transfer_funds"
        assert state["flows"] == ["transfer_funds"]
        assert state["pending"] == [pending]
        listed = client.get("/conversations/waiting/confirmations").json()
        assert [r["token"] for r in listed["confirmations"]] == [pending["token"]]
        assert listed["confirmations"][0]["status"] == "pending"


@pytest.mark.in_process
def test_deleting_a_conversation_forgets_it_and_withdraws_its_confirmation(
    server: Served,
) -> None:
    with server.client() as client:
        pending = start_transfer(client, "gone")
        assert client.delete("/conversations/gone").status_code == 204
        assert client.get("/conversations/gone").status_code == 404
        assert client.delete("/conversations/gone").status_code == 404
        closed = client.post(f"/confirmations/{pending['token']}/approve")
        assert closed.status_code == 410
        assert closed.json()["type"].endswith("confirmation-closed")
        # The id can be used again, for a new conversation.
        again = client.post("/conversations/gone/messages", json={"text": "what's my balance"})
        assert again.json()["replies"][0]["text"] == "Which account: checking or savings?"


@pytest.mark.in_process
def test_actions_health_and_ready(server: Served) -> None:
    with server.client() as client:
        assert client.get("/health").json() == {"status": "ok"}
        assert client.get("/ready").json() == {"status": "ready"}
        actions = client.get("/actions").json()
        assert {"execute_transfer", "get_balance"} <= set(actions["global"])
        assert actions["local"] == []
        assert client.get("/docs").status_code == 200
        assert (
            "/conversations/{conversation_id}/messages"
            in client.get("/openapi.json").json()["paths"]
        )
