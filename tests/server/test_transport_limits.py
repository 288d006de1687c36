"""The transport limits soni serve enforces: request line (414), header section (431),
WebSocket frames (413 in their session up to the cap, 1009 beyond), non-UTF-8 text
frames (1007)."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import pytest
from pydantic import ValidationError
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from soni.server import ServerSettings

from ._raw_http import ANSWER_TIMEOUT, exchange, raw_request, read_answer
from .conftest import HTTP_LAYER, LiveServer, Serve

pytestmark = HTTP_LAYER

SMALL = ServerSettings(
    max_request_line_bytes=1024,
    max_header_bytes=2048,
    max_body_bytes=4096,
    ws_max_frame_bytes=16_384,
)


@pytest.fixture
def small(serve: Serve) -> LiveServer:
    return serve(settings=SMALL)


def port_of(server: LiveServer) -> int:
    return int(server.url.rsplit(":", 1)[1])


def message(text: str, **headers: str) -> bytes:
    body = json.dumps({"text": text}).encode()
    return raw_request("POST", "/conversations/c1/messages", body, headers=list(headers.items()))


def test_a_header_section_over_the_limit_is_refused_with_431(small: LiveServer) -> None:
    answer, connection = exchange(port_of(small), message("hi", X_Big="a" * 2100))

    assert answer is not None
    assert answer.status == 431
    assert answer.headers["content-type"] == "application/problem+json"
    problem = json.loads(answer.body)
    assert problem["type"] == "urn:soni:problem:header-too-large"
    assert problem["detail"] == "the request's header fields are larger than 2048 bytes"
    assert connection == "closed"  # said so, then closed: the answer was not lost


def test_a_header_section_within_the_limit_passes_whatever_follows_it(small: LiveServer) -> None:
    # The head and a long body in one read: only the head counts.
    text = "x" * 3000
    answer, connection = exchange(port_of(small), message(text, X_Big="a" * 1800))

    assert answer is not None and answer.status == 200, answer
    assert connection == "kept"


def test_a_request_line_over_the_limit_is_refused_with_414(small: LiveServer) -> None:
    answer, _ = exchange(port_of(small), raw_request("GET", "/health?" + "q" * 1100))

    assert answer is not None
    assert answer.status == 414
    assert json.loads(answer.body)["type"] == "urn:soni:problem:uri-too-long"


def test_a_10_mb_header_is_refused_and_the_answer_arrives(small: LiveServer) -> None:
    answer, _ = exchange(port_of(small), message("hi", X_Big="a" * 10_000_000))

    assert answer is not None
    assert answer.status == 431


def test_a_head_sent_a_few_bytes_at_a_time_is_measured_whole(small: LiveServer) -> None:
    raw = message("hi", X_Big="a" * 2100)
    with socket.create_connection(("127.0.0.1", port_of(small)), timeout=ANSWER_TIMEOUT) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for start in range(0, 2500, 100):
            sock.sendall(raw[start : start + 100])
        answer = read_answer(sock, bytearray())

    assert answer is not None
    assert answer.status == 431


def test_an_early_answer_does_not_lift_the_limit_for_the_next_request(small: LiveServer) -> None:
    # A 404 answered before its body was read, then an oversized head on the same
    # connection: the limit still holds.
    first = raw_request("POST", "/no/such/route", b"x" * 1000, key=None)
    second = message("hi", X_Big="a" * 2100)
    with socket.create_connection(("127.0.0.1", port_of(small)), timeout=ANSWER_TIMEOUT) as sock:
        sock.sendall(first)
        buffer = bytearray()
        answered = read_answer(sock, buffer)
        sock.sendall(second)
        refused = read_answer(sock, buffer)

    assert answered is not None and answered.status == 404
    assert refused is not None and refused.status == 431


def test_the_default_limits(serve: Serve) -> None:
    server = serve()
    port = port_of(server)
    fine, _ = exchange(port, raw_request("GET", "/health", headers=[("X-Big", "a" * 30_000)]))
    too_big, _ = exchange(port, raw_request("GET", "/health", headers=[("X-Big", "a" * 33_000)]))
    too_long, _ = exchange(port, raw_request("GET", "/health?" + "q" * 8200))

    assert fine is not None and fine.status == 200
    assert too_big is not None and too_big.status == 431
    assert too_long is not None and too_long.status == 414
    assert ServerSettings().ws_frame_cap == 16 * 65_536


# -- WebSocket frames -------------------------------------------------------------------


def frame(session_id: str, text: str) -> str:
    args = {"conversation_id": "c1", "text": text}
    payload = {"type": "instruction", "name": "message", "args": args}
    return json.dumps({"session_id": session_id, "local_timestamp": None, "payload": payload})


async def answer_in(socket_: Any, session_id: str) -> dict[str, Any]:
    while True:
        answer = json.loads(await asyncio.wait_for(socket_.recv(), ANSWER_TIMEOUT))
        if answer["session_id"] == session_id:
            payload: dict[str, Any] = answer["payload"]
            return payload


async def test_a_frame_over_max_body_bytes_gets_413_in_its_session(small: LiveServer) -> None:
    async with connect(small.ws_url, proxy=None) as ws:
        await ws.send(frame("big", "x" * 8000))
        refused = await answer_in(ws, "big")
        await ws.send(frame("after", "/check_balance"))
        after = await answer_in(ws, "after")

    assert refused["ok"] is False
    assert refused["error"]["status"] == 413
    assert refused["error"]["limit"] == 4096
    assert after["ok"] is True  # the connection stays


async def test_a_frame_over_the_cap_closes_the_connection_with_1009(small: LiveServer) -> None:
    async with connect(small.ws_url, proxy=None) as ws:
        await ws.send(frame("huge", "x" * 20_000))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), ANSWER_TIMEOUT)

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009


async def test_a_text_frame_that_is_not_utf8_closes_with_1007_and_says_why(
    small: LiveServer,
) -> None:
    async with connect(small.ws_url, proxy=None) as ws:
        await ws.send(b'{"session_id": "s\xff"}', text=True)
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), ANSWER_TIMEOUT)

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1007
    assert closed.value.rcvd.reason == "a text frame must be UTF-8 (invalid start byte at byte 17)"


async def test_a_binary_frame_that_is_not_utf8_is_answered_in_the_connection(
    small: LiveServer,
) -> None:
    # Binary frames carry bytes: RFC 6455 asks nothing of them, so soni answers.
    async with connect(small.ws_url, proxy=None) as ws:
        await ws.send(b'{"session_id": "s\xff"}')
        refused = json.loads(await asyncio.wait_for(ws.recv(), ANSWER_TIMEOUT))
        await ws.send(frame("after", "/check_balance"))
        after = await answer_in(ws, "after")

    assert refused["session_id"] is None
    assert refused["payload"]["error"]["status"] == 400
    assert after["ok"] is True


# -- settings ---------------------------------------------------------------------------


def test_the_frame_cap_is_at_least_the_frame_limit() -> None:
    with pytest.raises(ValidationError, match="ws_max_frame_bytes"):
        ServerSettings(max_body_bytes=100_000, ws_max_frame_bytes=50_000)
    assert ServerSettings(max_body_bytes=100_000).ws_frame_cap == 1_600_000


def test_the_limits_come_from_the_environment() -> None:
    settings = ServerSettings.from_env(
        {
            "SONI_MAX_REQUEST_LINE_BYTES": "4096",
            "SONI_MAX_HEADER_BYTES": "16384",
            "SONI_WS_MAX_FRAME_BYTES": "2097152",
        }
    )

    assert (settings.max_request_line_bytes, settings.max_header_bytes) == (4096, 16384)
    assert settings.ws_frame_cap == 2_097_152
