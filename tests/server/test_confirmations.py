"""Deciding out of band: the confirmation routes, the decision protocol, long polls."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from soni import ActionRegistry
from soni.confirmations import ConfirmationRegistry
from soni.server import ServerSettings

from ..confirmations.conftest import FakeClock
from .conftest import Serve, Served, start_transfer, write_test_bot

pytestmark = pytest.mark.in_process  # plain requests and answers: no socket needed


async def test_a_long_poll_returns_when_another_request_decides(
    server: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    waiting = threading.Event()  # the server runs on a thread of its own
    wait = ConfirmationRegistry.wait

    async def wait_noted(self: ConfirmationRegistry, *args: Any, **kwargs: Any) -> Any:
        waiting.set()
        return await wait(self, *args, **kwargs)

    monkeypatch.setattr(ConfirmationRegistry, "wait", wait_noted)
    with server.client() as client:
        pending = start_transfer(client, "polled")
    token = pending["token"]
    async with server.async_client() as poller, server.async_client() as decider:
        started = time.monotonic()
        polling = asyncio.create_task(poller.get(f"/confirmations/{token}", params={"wait": 5}))
        # The poll waits on the server before the decision comes.
        assert await asyncio.to_thread(waiting.wait, 10), "the long poll never waited"
        assert not polling.done()
        skipped = await decider.post(f"/confirmations/{token}/skip")
        assert skipped.status_code == 200
        assert [r["text"] for r in skipped.json()["replies"]] == ["Nothing was sent."]
        polled = await asyncio.wait_for(polling, 10)
        assert time.monotonic() - started < 4
    assert polled.status_code == 200
    body = polled.json()
    assert body["status"] == "skipped" and body["decision"] == "skip"
    assert body["conversation_id"] == "polled"
    assert body["decided_by"] == {"user_id": None, "channel": "http"}


def test_a_long_poll_without_a_decision_answers_pending_after_the_capped_wait(
    serve: Serve,
) -> None:
    server = serve(settings=ServerSettings(long_poll_max=0.4))
    with server.client() as client:
        pending = start_transfer(client, "slow-poll")
        started = time.monotonic()
        polled = client.get(f"/confirmations/{pending['token']}", params={"wait": 30})
        assert 0.3 < time.monotonic() - started < 3
        assert polled.json()["status"] == "pending"
        assert client.get(f"/confirmations/{pending['token']}").json()["status"] == "pending"


def test_decisions_in_the_protocol_as_text_or_json(server: Served) -> None:
    with server.client() as client:
        first = start_transfer(client, "proto-1")
        shown = client.post("/decisions", content=f"SHOWN:{first['token']}")
        assert shown.status_code == 200
        assert shown.json()["decision"] == "shown" and shown.json()["status"] is None
        assert shown.json()["confirmation"]["status"] == "shown"

        executed = client.post(
            "/decisions",
            content=f"EXECUTE:{first['token']}\n",
            headers={"Content-Type": "text/plain"},
        )
        assert executed.status_code == 200
        assert executed.json()["replies"][0]["text"].startswith("Done: 50 EUR sent to Bob.")

        second = start_transfer(client, "proto-2")
        skipped = client.post("/decisions", json={"message": f"SKIP:{second['token']}"})
        assert skipped.json()["confirmation"]["status"] == "skipped"
        assert skipped.json()["replies"][-1]["text"] == "Nothing was sent."

        third = start_transfer(client, "proto-3")
        chosen = client.post(
            "/decisions", json={"message": f"CHOOSE:{third['token']}:execute_transfer"}
        )
        assert chosen.json()["decision"] == "execute_transfer"
        assert chosen.json()["confirmation"]["status"] == "executed"

        for bad in (f"execute:{third['token']}", "EXECUTE:", "", "hello"):
            refused = client.post("/decisions", content=bad)
            assert refused.status_code == 422, bad
            assert refused.json()["type"].endswith("invalid-decision-message")
            assert third["token"] not in refused.text  # a near-miss is never echoed
        for bad_json in ('{"message": 1}', '{"text": "x"}', "[1]"):
            refused = client.post(
                "/decisions", content=bad_json, headers={"Content-Type": "application/json"}
            )
            assert refused.status_code == 422, bad_json
        malformed = client.post(
            "/decisions", content="{nope", headers={"Content-Type": "application/json"}
        )
        assert malformed.status_code == 422
        unknown = client.post("/decisions", content="EXECUTE:" + "A" * 32)
        assert unknown.status_code == 404


def test_choose_names_an_offered_option(server: Served) -> None:
    with server.client() as client:
        pending = start_transfer(client, "choose")
        wrong = client.post(f"/confirmations/{pending['token']}/choose", json={"option": "nope"})
        assert wrong.status_code == 422
        assert wrong.json()["type"].endswith("invalid-decision")
        assert wrong.json()["options"] == ["execute_transfer"]
        assert client.post(f"/confirmations/{pending['token']}/choose", json={}).status_code == 422
        chosen = client.post(
            f"/confirmations/{pending['token']}/choose", json={"option": "execute_transfer"}
        )
        assert chosen.status_code == 200
        assert chosen.json()["confirmation"]["decision"] == "execute_transfer"


def test_a_decision_already_taken_answers_409_with_the_recorded_one(server: Served) -> None:
    with server.client() as client:
        pending = start_transfer(client, "twice")
        token = pending["token"]
        assert client.post(f"/confirmations/{token}/approve").status_code == 200
        again = client.post(f"/confirmations/{token}/skip")
        assert again.status_code == 409
        assert again.headers["content-type"] == "application/problem+json"
        body = again.json()
        assert body["type"].endswith("already-decided") and body["status"] == 409
        assert body["decision"] == "execute_transfer"
        assert body["confirmation_status"] == "executed"
        assert body["confirmation_id"] == pending["id"]
        assert body["decided_by"] == {"user_id": None, "channel": "http"}
        assert body["decided_at"]


def test_repeating_a_decision_after_a_reset_does_not_bring_the_conversation_back(
    server: Served,
) -> None:
    # Found by the stateful contract test (use_after_free): the repeat ran a turn,
    # which started the deleted conversation again, empty.
    with server.client() as client:
        token = start_transfer(client, "reset")["token"]
        assert client.post(f"/confirmations/{token}/approve").status_code == 200
        assert client.delete("/conversations/reset").status_code == 204
        again = client.post(f"/confirmations/{token}/approve")
        assert again.status_code == 200, again.text
        assert again.json()["decision"] == "execute_transfer"
        assert again.json()["confirmation"]["status"] == "executed"
        assert again.json()["replies"] == []
        assert client.get("/conversations/reset").status_code == 404
        assert client.delete("/conversations/reset").status_code == 404


def test_repeating_a_decision_leaves_the_conversations_last_replies(server: Served) -> None:
    # The repeat used to run an empty turn, which wiped the replies the decision had
    # produced from GET /conversations/{id}.
    with server.client() as client:
        token = start_transfer(client, "again")["token"]
        first = client.post(f"/confirmations/{token}/approve")
        assert first.status_code == 200
        said = client.get("/conversations/again").json()["replies"]
        assert said and said == first.json()["replies"]
        again = client.post(f"/confirmations/{token}/approve")
        assert again.status_code == 200, again.text
        assert again.json()["replies"] == []  # nothing new said
        assert client.get("/conversations/again").json()["replies"] == said


@pytest.fixture
def tiny_ttl_bot(serve: Serve, tmp_path: Path) -> Served:
    ActionRegistry.register("pay")(lambda amount: {})
    for name in ("wait_a_bit", "blow_up"):
        ActionRegistry.register(name)(lambda: {})
    return serve(bot=write_test_bot(tmp_path / "bot", ttl=0.3))


def test_an_expired_confirmation_answers_410(tiny_ttl_bot: Served) -> None:
    # The bot's clock, moved past the confirmation's 0.3 s instead of waiting them out.
    clock = FakeClock(datetime.now(UTC))
    tiny_ttl_bot.app.state.soni.bot.confirmations.clock = clock
    with tiny_ttl_bot.client() as client:
        client.post("/conversations/late/messages", json={"text": "/payment"})
        asked = client.post("/conversations/late/messages", json={"text": "12"}).json()
        assert asked["status"] == "awaiting_confirmation"
        token = asked["pending"][0]["token"]
        clock.advance(0.5)
        late = client.post(f"/confirmations/{token}/approve")
        assert late.status_code == 410
        assert late.json()["type"].endswith("confirmation-expired")
        assert late.json()["confirmation_id"] == asked["pending"][0]["id"]
        assert client.get(f"/confirmations/{token}").json()["status"] == "expired"
        assert client.post("/decisions", content=f"SKIP:{token}").status_code == 410
