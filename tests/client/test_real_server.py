"""The client against the real server: a transfer approved over WebSocket, seen as an event."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from soni.client import AsyncClient, Event
from soni.server import ServerSettings, create_app

from .._handlers import register_again
from ._fake_server import serve

pytestmark = pytest.mark.server  # soni's own server, on real uvicorn

BANKING = Path(__file__).resolve().parents[2] / "examples" / "banking"
IBAN = "DE89370400440532013000"


@pytest.fixture
def banking_url(tmp_path: Path) -> Iterator[str]:
    register_again(BANKING / "actions.py")
    app = create_app(BANKING, ServerSettings(), db=str(tmp_path / "state.db"))
    with serve(app) as base:
        yield base.replace("http://", "ws://", 1) + "/ws"


async def test_message_then_approve_by_decide_is_seen_by_a_subscriber(banking_url: str) -> None:
    async with asyncio.timeout(20), AsyncClient(banking_url, request_timeout=10) as client:
        for text in ("/transfer_funds", "Bob", "50"):
            await client.send_message("ws-1", text, user_id="u1")
        asked = await client.send_message("ws-1", IBAN, user_id="u1")
        assert asked.texts == [f"Send 50 EUR to Bob ({IBAN})?"]
        (pending,) = asked.pending
        assert pending.token is not None

        async with client.subscribe("ws-1") as events:
            decision = await client.decide(pending.token, "approve")
            seen: list[Event] = []
            while not any(e.type == "confirmation_decided" for e in seen):
                event = await events.get(timeout=5)
                assert event is not None, "the subscription ended early"
                seen.append(event)

    assert decision.conversation_id == "ws-1"
    assert decision.texts[0].startswith("Done: 50 EUR sent to Bob.")
    assert decision.status == "ended"
    decided = next(e for e in seen if e.type == "confirmation_decided")
    assert decided.data["confirmation_id"] == pending.id
    assert decided.data["actor"]["channel"] == "ws"
    assert all(e.conversation_id == "ws-1" for e in seen)
    assert all(e.at is not None for e in seen)
