"""AsyncClient against a fake server on real uvicorn."""

from __future__ import annotations

import asyncio
import socket
import time
from datetime import datetime

import pytest

from soni.client import (
    AsyncClient,
    BotMessage,
    ClientError,
    Conflict,
    ConnectFailed,
    ConnectionClosed,
    Gone,
    InvalidRequest,
    NotFound,
    Pending,
    RequestTimeout,
    Unauthorized,
)

from ._fake_server import FakeServer

# Every test finishes well within this, or fails instead of hanging.
BOUND = 10


def messages(fake_server: FakeServer) -> int:
    """How many chat messages the fake server has received."""
    return sum(name == "message" for _, name in fake_server.seen.instructions)


async def test_a_message_gets_its_reply(fake_server: FakeServer) -> None:
    async with asyncio.timeout(BOUND), AsyncClient(fake_server.url) as client:
        reply = await client.send_message("c1", "confirm", user_id="ana")

    assert reply.conversation_id == "c1"
    assert reply.texts == ["echo: confirm", "user: ana"]
    assert reply.replies[1] == BotMessage("user: ana", "info")
    assert reply.status == "awaiting_confirmation"
    assert reply.active_flow == "transfer"
    assert reply.pending == (
        Pending(
            id="conf-1",
            token="tok-1",
            prompt="Send 10 EUR?",
            options=("approve",),
            labels=(None,),
            expires_at=datetime.fromisoformat("2030-01-01T00:00:00+00:00"),
        ),
    )


async def test_concurrent_requests_are_matched_to_answers_that_come_out_of_order(
    fake_server: FakeServer,
) -> None:
    finished: list[int] = []

    async def ask(client: AsyncClient, i: int) -> None:
        # The server holds the twenty and answers the last one first.
        reply = await client.send_message(f"c{i}", f"reverse:20:{i}")
        assert reply.conversation_id == f"c{i}"
        assert reply.texts == [f"echo: reverse:20:{i}"]
        finished.append(i)

    async with asyncio.timeout(BOUND), AsyncClient(fake_server.url) as client:
        await asyncio.gather(*(ask(client, i) for i in range(20)))

    assert sorted(finished) == list(range(20))
    assert finished != sorted(finished)
    sessions = [session for session, _ in fake_server.seen.instructions]
    assert len(set(sessions)) == 20
    assert all(s is not None and len(s) == 32 and int(s, 16) >= 0 for s in sessions)


@pytest.mark.parametrize(
    ("token", "error", "status"),
    [
        ("missing", NotFound, 404),
        ("taken", Conflict, 409),
        ("old", Gone, 410),
        ("bad", InvalidRequest, 422),
    ],
)
async def test_error_responses_raise_by_status(
    fake_server: FakeServer, token: str, error: type[ClientError], status: int
) -> None:
    async with asyncio.timeout(BOUND), AsyncClient(fake_server.url) as client:
        with pytest.raises(error) as caught:
            await client.decide(token, "approve")
        # An error is one request's; the connection carries on.
        decision = await client.decide("tok-1", "approve")

    assert caught.value.status == status
    assert caught.value.detail
    assert str(status) in str(caught.value)
    assert caught.value.problem["status"] == status
    assert decision.decision == "approve"
    assert decision.status == "executed"
    assert decision.texts == ["decided approve"]


async def test_a_conflict_carries_the_recorded_decision(fake_server: FakeServer) -> None:
    async with asyncio.timeout(BOUND), AsyncClient(fake_server.url) as client:
        with pytest.raises(Conflict) as caught:
            await client.decide("taken", "approve")
    assert caught.value.recorded == "skip"


async def test_an_unmapped_status_raises_the_base_error(fake_server: FakeServer) -> None:
    async with asyncio.timeout(BOUND), AsyncClient(fake_server.url) as client:
        with pytest.raises(ClientError) as caught:
            await client.send_message("c1", "fail:500")
    assert type(caught.value) is ClientError
    assert caught.value.status == 500
    assert caught.value.title == "Failed"


async def test_unrecognised_frames_are_ignored(fake_server: FakeServer) -> None:
    async with asyncio.timeout(BOUND), AsyncClient(fake_server.url) as client:
        reply = await client.send_message("c1", "junk")
        again = await client.send_message("c1", "still there?")
    assert reply.texts == ["echo: junk"]
    assert again.texts == ["echo: still there?"]


async def test_a_subscription_receives_events_and_unsubscribes(fake_server: FakeServer) -> None:
    async with asyncio.timeout(BOUND), AsyncClient(fake_server.url) as client:
        async with client.subscribe("c1") as events:
            received = [await events.get(timeout=2) for _ in range(3)]
            decided = await client.decide("tok-1", "approve")
            pushed = await events.get(timeout=2)
        assert await events.get() is None  # ended by leaving the block

    assert [(e.type, e.conversation_id, e.data) for e in received if e] == [
        ("turn", "c1", {"n": 0}),
        ("turn", "c1", {"n": 1}),
        ("turn", "c1", {"n": 2}),
    ]
    assert all(isinstance(e.at, datetime) for e in received if e)
    assert decided.texts == ["decided approve"]
    assert pushed is not None
    assert (pushed.type, pushed.data) == ("confirmation_decided", {"token": "tok-1"})
    assert events.error is None
    names = [name for _, name in fake_server.seen.instructions]
    assert names == ["subscribe", "decide", "unsubscribe"]
    # One session from subscribe to unsubscribe.
    assert fake_server.seen.instructions[0][0] == fake_server.seen.instructions[2][0]


async def test_a_refused_subscription_raises_on_entering(fake_server: FakeServer) -> None:
    async with asyncio.timeout(BOUND), AsyncClient(fake_server.url) as client:
        with pytest.raises(NotFound):
            async with client.subscribe("forbidden"):
                pytest.fail("entered a refused subscription")
        assert not client._streams


async def test_iteration_ends_when_the_connection_is_lost(fake_server: FakeServer) -> None:
    async with asyncio.timeout(BOUND), AsyncClient(fake_server.url) as client:
        async with client.subscribe("c1") as events:
            waiting = [asyncio.create_task(client.send_message("c1", "hang")) for _ in range(3)]
            # The requests are out, and the subscription's events were sent before them.
            await fake_server.seen.until(lambda: messages(fake_server) == 3)
            await fake_server.seen.until(lambda: len(fake_server.seen.pushed) == 3)
            with pytest.raises(ConnectionClosed) as dropped:
                await client.send_message("c1", "drop")
            received = [event async for event in events]

        results = await asyncio.gather(*waiting, return_exceptions=True)
        with pytest.raises(ConnectionClosed):
            await client.send_message("c1", "anyone?")

    assert all(isinstance(r, ConnectionClosed) for r in results)
    assert dropped.value.code == 1011
    assert dropped.value.reason == "dropped on purpose"
    assert "lost" in str(dropped.value)
    assert [e.data["n"] for e in received] == [0, 1, 2]  # buffered ones still arrive
    assert isinstance(events.error, ConnectionClosed)
    assert client.closed
    assert not client._waiting


async def test_a_request_times_out_and_a_late_answer_is_dropped(fake_server: FakeServer) -> None:
    async with asyncio.timeout(BOUND), AsyncClient(fake_server.url, request_timeout=0.3) as client:
        started = time.monotonic()
        with pytest.raises(RequestTimeout) as caught:
            await client.send_message("c1", "held")
        elapsed = time.monotonic() - started
        # The late answer is sent, so it comes before the next one on the connection.
        fake_server.seen.let_go.set()
        await fake_server.seen.until(lambda: fake_server.seen.answered == ["held"])
        reply = await client.send_message("c1", "on time")

    assert 0.3 <= elapsed < 2
    assert isinstance(caught.value, TimeoutError)
    assert caught.value.instruction == "message"
    assert reply.texts == ["echo: on time"]
    assert not client._waiting


async def test_a_cancelled_request_leaves_nothing_behind(fake_server: FakeServer) -> None:
    async with asyncio.timeout(BOUND), AsyncClient(fake_server.url) as client:
        task = asyncio.create_task(client.send_message("c1", "hang"))
        await fake_server.seen.until(lambda: messages(fake_server) == 1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not client._waiting


async def test_the_api_key_is_sent_as_a_bearer_header(fake_server: FakeServer) -> None:
    async with asyncio.timeout(BOUND):
        async with AsyncClient(fake_server.url, api_key="key-1") as client:
            await client.send_message("c1", "hello")
        async with AsyncClient(fake_server.url) as client:
            await client.send_message("c1", "hello")

    with_key, without = fake_server.seen.headers
    assert with_key["authorization"] == "Bearer key-1"
    assert "authorization" not in without


async def test_a_refused_key_raises_unauthorized(fake_server: FakeServer) -> None:
    async with asyncio.timeout(BOUND):
        with pytest.raises(Unauthorized) as caught:
            await AsyncClient(fake_server.url, api_key="wrong").connect()
    assert caught.value.status == 403


async def test_an_unreachable_server_raises_connect_failed() -> None:
    # Bound but not listening: the connection is refused at once.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"ws://127.0.0.1:{sock.getsockname()[1]}/ws?api_key=secret"
        async with asyncio.timeout(BOUND):
            with pytest.raises(ConnectFailed) as caught:
                await AsyncClient(url, open_timeout=2).connect()
    assert "secret" not in str(caught.value)
    assert "api_key=***" in caught.value.url


async def test_closing_fails_waiting_requests_and_ends_subscriptions(
    fake_server: FakeServer,
) -> None:
    async with asyncio.timeout(BOUND):
        client = AsyncClient(fake_server.url)
        await client.connect()
        events = await client.subscribe("c1").__aenter__()
        waiting = asyncio.create_task(client.send_message("c1", "hang"))
        # The request is out, and the events sent: they come before the closing handshake.
        await fake_server.seen.until(lambda: messages(fake_server) == 1)
        await fake_server.seen.until(lambda: len(fake_server.seen.pushed) == 3)
        await client.aclose()
        await client.aclose()  # twice is fine

        with pytest.raises(ConnectionClosed, match="the client was closed"):
            await waiting
        assert len([e async for e in events]) == 3
        await events.aclose()  # after the connection: nothing to do
    assert client.closed


async def test_using_a_client_before_connecting_is_an_error() -> None:
    client = AsyncClient("ws://127.0.0.1:9/ws")
    with pytest.raises(RuntimeError, match="not connected"):
        await client.send_message("c1", "hello")
    with pytest.raises(RuntimeError, match="enter the subscription"):
        await client.subscribe("c1").get()
