"""The blocking Client: one connection on its own loop thread, shared by many threads."""

from __future__ import annotations

import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from soni.client import Client, ConnectFailed, ConnectionClosed, Gone, RequestTimeout, Unauthorized

from ._fake_server import FakeServer

BOUND = 10


def test_eight_threads_share_one_client(fake_server: FakeServer) -> None:
    def chat(client: Client, thread: int) -> list[list[str]]:
        return [
            client.send_message(f"t{thread}", f"delay:{(thread * 7 + turn * 13) % 40}:{turn}").texts
            for turn in range(5)
        ]

    start = threading.Barrier(8, timeout=BOUND)

    with Client(fake_server.url, request_timeout=5) as client:

        def run(thread: int) -> list[list[str]]:
            start.wait()  # all eight at once
            return chat(client, thread)

        with ThreadPoolExecutor(8) as pool:
            results = [f.result(BOUND) for f in [pool.submit(run, t) for t in range(8)]]

    for thread, texts in enumerate(results):
        assert texts == [
            [f"echo: delay:{(thread * 7 + turn * 13) % 40}:{turn}"] for turn in range(5)
        ]
    assert len(fake_server.seen.headers) == 1  # one connection for all


def test_errors_and_decisions_come_through(fake_server: FakeServer) -> None:
    with Client(fake_server.url, api_key="key-2") as client:
        with pytest.raises(Gone):
            client.decide("old", "approve")
        assert client.decide("tok-1", "skip").decision == "skip"
    assert fake_server.seen.headers[0]["authorization"] == "Bearer key-2"


def test_a_subscription_from_another_thread(fake_server: FakeServer) -> None:
    with Client(fake_server.url) as client, client.subscribe("c1") as events:
        first = [events.get(timeout=2) for _ in range(3)]
        decider = threading.Thread(target=client.decide, args=("tok-9", "approve"))
        decider.start()
        decider.join(BOUND)
        pushed = events.get(timeout=2)
        with pytest.raises(TimeoutError):
            events.get(timeout=0.1)

    assert [e.data for e in first if e] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert pushed is not None
    assert pushed.type == "confirmation_decided"
    assert [name for _, name in fake_server.seen.instructions] == [
        "subscribe",
        "decide",
        "unsubscribe",
    ]


def test_iteration_ends_when_the_connection_is_lost(fake_server: FakeServer) -> None:
    with Client(fake_server.url) as client, client.subscribe("c1") as events:
        with pytest.raises(ConnectionClosed):
            client.send_message("c1", "drop")
        assert [e.data["n"] for e in events] == [0, 1, 2]
        assert events.error is not None
        assert client.closed


def test_a_request_times_out(fake_server: FakeServer) -> None:
    with Client(fake_server.url, request_timeout=0.2) as client:
        with pytest.raises(RequestTimeout):
            client.send_message("c1", "hang")
        assert client.send_message("c1", "ok").texts == ["echo: ok"]


def test_close_stops_the_thread_and_fails_calls_in_flight(fake_server: FakeServer) -> None:
    client = Client(fake_server.url)
    thread = client._portal.call(threading.current_thread)
    outcome: list[BaseException] = []

    def hang() -> None:
        try:
            client.send_message("c1", "hang")
        except BaseException as exc:
            outcome.append(exc)

    caller = threading.Thread(target=hang)
    caller.start()
    while not fake_server.seen.instructions:  # the request is out
        caller.join(0.01)
    client.close()
    client.close()  # twice is fine
    caller.join(BOUND)

    assert not thread.is_alive()
    assert client.closed
    assert len(outcome) == 1
    assert isinstance(outcome[0], ConnectionClosed)
    with pytest.raises(ConnectionClosed, match="closed"):
        client.send_message("c1", "hello")


def test_connect_errors_are_raised_and_leave_no_thread(fake_server: FakeServer) -> None:
    before = {t for t in threading.enumerate() if t.name == "soni-client-loop"}
    with pytest.raises(Unauthorized):
        Client(fake_server.url, api_key="wrong")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        with pytest.raises(ConnectFailed):
            Client(f"ws://127.0.0.1:{sock.getsockname()[1]}/ws", open_timeout=2)
    after = {t for t in threading.enumerate() if t.name == "soni-client-loop"}
    assert after <= before
