"""Malformed requests and frames against a real ``soni serve``: answered, never a crash.

Two corpora — raw HTTP requests and WebSocket frames — are sent to ``soni serve``
running in its own process with API keys on, its log captured. For every input:
an answer below 500 (or, for the two frames RFC 6455 makes fatal, the documented
close), the connection still usable unless the answer said it closes, and then a
chat turn in the same conversation still works. At the end the log holds no
traceback and no error line.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from ..engine.conftest import EXAMPLES
from ._raw_http import exchange, raw_request

KEY = "alice-key"
STARTUP_TIMEOUT = 30.0
ANSWER_TIMEOUT = 10.0
CONVERSATION = "c1"

Record = Callable[[str, object], None]


# -- soni serve in its own process ----------------------------------------------------


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    log: Path
    port: int = 0

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws?api_key={KEY}"

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """``soni serve examples/banking`` on a port the OS picks, its log in a file."""
    log = tmp_path / "server.log"
    env = {"SONI_API_KEYS": f"{KEY}=alice,bob-key=bob", "PATH": "/usr/bin:/bin"}
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "soni", "serve", str(EXAMPLES / "banking"),
             "--port", "0", "--db", str(tmp_path / "state.db"), "--log-level", "info"],
            stdout=sink, stderr=subprocess.STDOUT, cwd=tmp_path, env=env,
        )  # fmt: skip
    server = Served(process, log)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not server.port:
            found = re.search(r"Uvicorn running on http://127\.0\.0\.1:(\d+)", server.log_text())
            if found:
                server.port = int(found.group(1))
            elif process.poll() is not None:
                raise RuntimeError(f"soni serve exited:\n{server.log_text()}")
            elif time.monotonic() > deadline:
                raise TimeoutError(f"soni serve did not start:\n{server.log_text()}")
            else:
                time.sleep(0.05)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def assert_clean_log(server: Served) -> None:
    text = server.log_text()
    assert "Traceback" not in text, text
    errors = [line for line in text.splitlines() if line.startswith(("ERROR", "CRITICAL"))]
    assert errors == [], "\n".join(errors)


# -- raw HTTP -------------------------------------------------------------------------


def request(*args: Any, **kwargs: Any) -> bytes:
    """A raw request with alice's key unless told otherwise."""
    kwargs.setdefault("key", KEY)
    return raw_request(*args, **kwargs)


MESSAGES = f"/conversations/{CONVERSATION}/messages"
CHOOSE = "/confirmations/not-a-token/choose"
DECISIONS = "/decisions"


def http_corpus() -> list[tuple[str, bytes]]:
    """``(name, raw request)`` pairs: every way the audit found to send a bad request."""
    cases: list[tuple[str, bytes]] = []

    def add(name: str, raw: bytes) -> None:
        cases.append((name, raw))

    malformed_json = [
        b"", b"{", b"}", b'{"text":', b'{"text": "a",}', b"{'text': 'a'}", b"not json",
        b"[1, 2", b"\x00", b"nul", b'{"text": "a"} trailing', b'{"text": "a" "b"}',
        b'{"text": "\\x"}', b'{"text": "\\u12"}', b'"\\ud800"',
    ]  # fmt: skip
    for number, body in enumerate(malformed_json):
        for path in (MESSAGES, CHOOSE, DECISIONS):
            add(f"malformed JSON #{number} to {path}", request("POST", path, body))

    wrong_types = {
        MESSAGES: [
            {"text": 1}, {"text": None}, {"text": []}, {"text": {}}, {"text": True},
            {"text": 1.5}, {"text": "hi", "user_id": 5}, {"text": "hi", "user_id": []},
            {"text": "hi", "metadata": "x"}, {"text": "hi", "metadata": [1]},
            {"text": "hi", "extra": 1}, {}, [], "text", 5, None,
        ],
        CHOOSE: [{"option": 1}, {"option": None}, {"option": []}, {"option": ""},
                 {"option": "x" * 200}, {}],
        DECISIONS: [{"message": 1}, {"message": None}, {"message": []}, {"message": {}},
                    {"message": "EXECUTE:"}, {"message": "x" * 60_000}, {}],
    }  # fmt: skip
    for path, bodies in wrong_types.items():
        for body in bodies:
            add(
                f"wrong type {body!r:.40} to {path}",
                request("POST", path, json.dumps(body).encode()),
            )
    for wait in ("abc", "-1", "nan", "inf", "-inf", "1e999", "", "1" * 5000, "0x10"):
        add(f"wait={wait:.20}", request("GET", f"/confirmations/not-a-token?wait={wait}"))

    for depth in (1_000, 20_000, 60_000):
        add(f"[ x {depth}", request("POST", MESSAGES, b"[" * depth))
        add(f"[ x {depth} to decisions", request("POST", DECISIONS, b"[" * depth))
    for depth in (500, 2_000, 10_000):
        nested = b'{"a":' * depth + b"1" + b"}" * depth
        add(
            f"valid JSON {depth} deep in metadata",
            request("POST", MESSAGES, b'{"text": "hi", "metadata": ' + nested + b"}"),
        )
        add(f"valid JSON {depth} deep to choose",
            request("POST", CHOOSE, b'{"option": ' + nested + b"}"))  # fmt: skip

    for number in (b"1e999", b"-1e999", b"1e-999", b"1" * 5000, b"NaN", b"Infinity",
                   b"-Infinity", b"0." + b"0" * 5000 + b"1", b"123456789" * 7000):  # fmt: skip
        add(
            f"number {number[:12]!r} in metadata",
            request("POST", MESSAGES, b'{"text": "hi", "metadata": {"n": ' + number + b"}}"),
        )
        add(
            f"number {number[:12]!r} as text",
            request("POST", MESSAGES, b'{"text": ' + number + b"}"),
        )
        add(f"number {number[:12]!r} as message",
            request("POST", DECISIONS, b'{"message": ' + number + b"}"))  # fmt: skip

    for raw in (b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"a\x80b"):
        add(
            f"invalid UTF-8 {raw!r} in JSON", request("POST", MESSAGES, b'{"text": "' + raw + b'"}')
        )
        add(f"invalid UTF-8 {raw!r} as decision text",
            request("POST", DECISIONS, b"EXECUTE:" + raw, content_type="text/plain"))  # fmt: skip
    for escaped in (b'"\\ud800"', b'"\\udfff"', b'"a\\ud800b"'):
        add(
            f"lone surrogate {escaped!r} as text",
            request("POST", MESSAGES, b'{"text": ' + escaped + b"}"),
        )
        add(
            f"lone surrogate {escaped!r} as user_id",
            request("POST", MESSAGES, b'{"text": "hi", "user_id": ' + escaped + b"}"),
        )
        add(
            f"lone surrogate {escaped!r} as option",
            request("POST", CHOOSE, b'{"option": ' + escaped + b"}"),
        )
        add(f"lone surrogate {escaped!r} as message",
            request("POST", DECISIONS, b'{"message": ' + escaped + b"}"))  # fmt: skip
    add(
        "invalid UTF-8 in a header value",
        request("GET", "/actions", headers=[("X-Note", b"\xff\xfe")]),
    )
    add(
        "invalid UTF-8 in the API key",
        request("GET", "/actions", key=None, headers=[("Authorization", b"Bearer \xff\xfe")]),
    )
    add("raw non-ASCII in the path", request("GET", b"/conversations/\xff"))
    add("raw non-ASCII in the query", request("GET", b"/events?conversation_id=\xff"))

    body = b'{"text": "hi"}'
    for content_type in ("text/plain", "application/xml", "multipart/form-data; boundary=x",
                         "application/x-www-form-urlencoded", None,
                         "application/json; charset=latin-1",
                         "*/*", ";;;", "application/json; charset=", "application/merge-patch+json",
                         "application/json\x7f", "APPLICATION/JSON"):  # fmt: skip
        for path in (MESSAGES, DECISIONS):
            add(f"content type {content_type!r} to {path}",
                request("POST", path, body, content_type=content_type))  # fmt: skip
    utf16 = '{"text": "hi"}'.encode("utf-16")
    add(
        "UTF-16 JSON",
        request("POST", MESSAGES, utf16, content_type="application/json; charset=utf-16"),
    )
    add(
        "form body",
        request("POST", MESSAGES, b"text=hi", content_type="application/x-www-form-urlencoded"),
    )

    add("a 40 KB header", request("GET", "/actions", headers=[("X-Big", "a" * 40_000)]))
    add("a 10 MB header", request("GET", "/actions", headers=[("X-Big", "a" * 10_000_000)]))
    add(
        "2,000 headers",
        request("GET", "/actions", headers=[(f"X-H{i}", "v" * 20) for i in range(2000)]),
    )
    add("a 10 KB request line", request("GET", "/actions?" + "a" * 10_000))
    add("a 10 MB request line", request("GET", "/conversations/" + "a" * 10_000_000))
    add("a 300-character id", request("GET", "/conversations/" + "a" * 300))
    add("a 1 MB declared body", request("POST", MESSAGES, b"x" * 1_048_576))
    big = b"x" * 100_000
    add("a 100 KB chunked body",
        request("POST", MESSAGES, None, headers=[("Content-Type", "application/json"),
                                                 ("Transfer-Encoding", "chunked")])[:-2]
        + b"\r\n" + hex(len(big))[2:].encode() + b"\r\n" + big + b"\r\n0\r\n\r\n")  # fmt: skip

    encodings = ["%FF", "%FE", "q%FF", "%", "%G1", "%F", "%ED%A0%80", "%C0%AF", "%00", "%2F",
                 "%25", "%EF%BF%BD", "%%", "a%2", "%u0041"]  # fmt: skip
    for text in encodings:
        add(f"{text} as a conversation id", request("GET", f"/conversations/{text}"))
        add(f"{text} in a message's id", request("POST", f"/conversations/{text}/messages", body))
        add(f"{text} in a delete", request("DELETE", f"/conversations/{text}"))
        add(f"{text} in a listing", request("GET", f"/conversations/{text}/confirmations"))
        add(f"{text} as a followed id", request("GET", f"/events?conversation_id={text}"))
        add(f"{text} as a token", request("POST", f"/confirmations/{text}/approve"))

    for method in (
        "PUT",
        "PATCH",
        "OPTIONS",
        "TRACE",
        "HEAD",
        "FOO",
        "get",
        "PROPFIND",
        "M-SEARCH",
    ):
        for path in (MESSAGES, f"/conversations/{CONVERSATION}", "/confirmations/t/approve"):
            add(f"{method} {path}", request(method, path, b"{}"))
    add("CONNECT", b"CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n")
    add("a 300-character method", request("A" * 300, "/health"))

    add("HTTP/1.0", b"GET /health HTTP/1.0\r\n\r\n")
    add("HTTP/9.9", b"GET /health HTTP/9.9\r\nHost: x\r\n\r\n")
    add("no Host", b"GET /health HTTP/1.1\r\n\r\n")
    add("garbage", b"\x00\x01\x02\x03\r\n\r\n")
    add("a header name with a space", b"GET /health HTTP/1.1\r\nBad Name: x\r\n\r\n")
    add("a header without a colon", b"GET /health HTTP/1.1\r\nNoColon\r\n\r\n")
    add("bare LF line ends", b"GET /health HTTP/1.1\nHost: x\n\n")
    add("NUL in a header", b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n")
    add("an obsolete folded header", b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n")
    add("two Content-Lengths", b"POST /decisions HTTP/1.1\r\nHost: x\r\n"
        b"Content-Length: 3\r\nContent-Length: 5\r\n\r\nabc")  # fmt: skip
    add("Content-Length and chunked", b"POST /decisions HTTP/1.1\r\nHost: x\r\n"
        b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")  # fmt: skip
    add("a bad chunk size", b"POST /decisions HTTP/1.1\r\nHost: x\r\n"
        b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n")  # fmt: skip
    add(
        "a negative Content-Length",
        b"POST /decisions HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    )
    add("a Content-Length that is not a number",
        b"POST /decisions HTTP/1.1\r\nHost: x\r\nContent-Length: lots\r\n\r\n")  # fmt: skip
    add(
        "Expect: 100-continue",
        request("POST", MESSAGES, body, headers=[("Expect", "100-continue")]),
    )
    add(
        "an unknown Transfer-Encoding",
        request("POST", DECISIONS, b"x", headers=[("Transfer-Encoding", "gzip")]),
    )
    add(
        "a Basic credential",
        request("GET", "/actions", key=None, headers=[("Authorization", "Basic YTpi")]),
    )
    add(
        "Bearer without a key",
        request("GET", "/actions", key=None, headers=[("Authorization", "Bearer ")]),
    )
    add(
        "a 20 KB API key",
        request("GET", "/actions", key=None, headers=[("Authorization", "Bearer " + "k" * 20_000)]),
    )
    add("a WebSocket upgrade without a key",
        b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: x\r\n\r\n")  # fmt: skip
    return cases


TURNS = ["/check_balance", "checking"]


def a_turn_works(port: int, number: int) -> bool:
    """A chat turn in the conversation the corpus aims at still gets a real answer."""
    body = json.dumps({"text": TURNS[number % 2]}).encode()
    answer, _ = exchange(port, request("POST", MESSAGES, body))
    if answer is None or answer.status != 200:
        return False
    replies = json.loads(answer.body)["replies"]
    return bool(replies) and all(reply["kind"] != "error" for reply in replies)


def test_the_http_corpus_is_answered_without_a_crash(
    served: Served, record_property: Record
) -> None:
    corpus = http_corpus()
    failures: list[str] = []
    statuses: dict[int, int] = {}
    closed = 0
    for number, (name, raw) in enumerate(corpus):
        answer, connection = exchange(served.port, raw)
        if answer is None:
            failures.append(f"{name}: no answer, the connection was dropped")
            continue
        statuses[answer.status] = statuses.get(answer.status, 0) + 1
        if answer.status >= 500:
            failures.append(f"{name}: {answer.status} {answer.body[:200]!r}")
        if connection == "dropped":
            failures.append(f"{name}: answered {answer.status}, then the connection was dropped")
        closed += connection == "closed"
        if not a_turn_works(served.port, number):
            failures.append(f"{name}: the conversation stopped working after it")

    assert failures == [], "\n".join(failures)
    assert_clean_log(served)
    assert max(statuses) < 500
    # The limits answer as documented.
    assert statuses.get(413) and statuses.get(414) and statuses.get(431), statuses
    record_property(
        "figure",
        f"malformed HTTP corpus: {len(corpus)} requests, 0 dropped connections "
        f"({closed} closed by an answer that said so), 0 tracebacks, 0 responses >= 500",
    )


# -- WebSocket ------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """A frame to send, and what it must get: an error (``status`` below 500, in
    ``session`` if given), a successful response, or the documented close."""

    name: str
    data: str | bytes | list[bytes]  # a list: the fragments of one text message
    expect: str = "error"  # "error", "ok" or "close"
    session: str | None = "any"
    close_code: int | None = None
    text: bool = True


def envelope(payload: Any, session_id: Any = "bad") -> str:
    return json.dumps({"session_id": session_id, "local_timestamp": None, "payload": payload})


def instruction(name: Any, args: Any, session_id: str = "bad") -> str:
    return envelope({"type": "instruction", "name": name, "args": args}, session_id)


def ws_corpus() -> list[Frame]:
    frames: list[Frame] = []
    for raw in ("", " ", "not json", "{", "[1, 2", "nul", "\x00", "{'a': 1}", "NaN",
                '{"session_id": "s"', "}" * 10):  # fmt: skip
        frames.append(Frame(f"not JSON: {raw!r}", raw, session=None))
    for raw in ("[]", "1", "null", "true", '"s"', "1e999", "-0", '[{"session_id": "s"}]'):
        frames.append(Frame(f"JSON, not an object: {raw}", raw, session=None))
    for data in (b"", b"\xff\xfe", b"\x00" * 10, bytes(range(256)) * 4):
        frames.append(Frame(f"binary {data[:8]!r}", data, session=None, text=False))
    frames.append(Frame("a whole instruction as a binary frame",
                        instruction("message", {"conversation_id": "bin", "text": "hi"}).encode(),
                        expect="ok", session="bad", text=False))  # fmt: skip

    for data in ({}, {"session_id": 1}, {"session_id": ""}, {"session_id": "x" * 129},
                 {"session_id": None}, {"session_id": []},
                 {"payload": {"type": "instruction"}}):  # fmt: skip
        frames.append(Frame(f"envelope {data!r:.40}", json.dumps(data), session=None))
    for payload in (None, [], "x", 1, {}, {"type": 1}, {"type": "bogus"}, {"type": "response"},
                    {"type": "event"}, {"type": "instruction"},
                    {"type": "instruction", "name": None},
                    {"type": "instruction", "name": 1}, {"type": "instruction", "name": []},
                    {"type": "instruction", "name": ""}):  # fmt: skip
        frames.append(Frame(f"payload {payload!r:.50}", envelope(payload), session="bad"))
    frames.append(Frame("no payload", json.dumps({"session_id": "bad"}), session="bad"))
    for name in (
        "dance",
        "Message",
        "message ",
        "__init__",
        "_message",
        "subscribe_all",
        "x" * 1000,
    ):
        frames.append(
            Frame(f"unknown instruction {name:.20}", instruction(name, {}), session="bad")
        )
    for args in (None, [], "x", 1, True):
        frames.append(Frame(f"args {args!r}", instruction("message", args), session="bad"))

    wrong = {
        "message": [
            {"conversation_id": 1, "text": "hi"}, {"conversation_id": None, "text": "hi"},
            {"conversation_id": "", "text": "hi"}, {"conversation_id": "a" * 300, "text": "hi"},
            {"conversation_id": "a/b", "text": "hi"}, {"conversation_id": "\ud800", "text": "hi"},
            {"conversation_id": "c", "text": 1}, {"conversation_id": "c", "text": None},
            {"conversation_id": "c"}, {"text": "hi"},
            {"conversation_id": "c", "text": "hi", "user_id": 1},
            {"conversation_id": "c", "text": "hi", "metadata": "x"},
            {"conversation_id": "c", "text": "hi", "extra": 1},
            {"conversation_id": ["c"], "text": "hi"}, {"conversation_id": {"a": 1}, "text": "hi"},
        ],
        "decide": [
            {"token": 1, "decision": "approve"}, {"token": "", "decision": "approve"},
            {"token": "x" * 300, "decision": "approve"}, {"token": "t", "decision": 1},
            {"token": "t", "decision": ""}, {"token": "t"}, {},
            {"token": "\ud800", "decision": "skip"},
            {"token": "t", "decision": "approve", "extra": 1},
        ],
        "subscribe": [
            {"conversation_id": 1}, {"conversation_id": ""}, {"conversation_id": "a/b"},
            {"conversation_id": "\udfff"}, {"conversation_id": "a" * 300}, {"extra": 1},
        ],
        "unsubscribe": [{}, {"conversation_id": "c"}],
    }  # fmt: skip
    for name, variants in wrong.items():
        for args in variants:
            frames.append(Frame(f"{name} {args!r:.50}", instruction(name, args), session="bad"))

    for depth in (1_000, 20_000, 60_000):
        frames.append(Frame(f"[ x {depth}", "[" * depth, session=None))
    for depth in (500, 5_000):
        nested = '{"a":' * depth + "1" + "}" * depth
        deep = instruction("message", {"conversation_id": "deep", "text": "hi"})
        deep = deep.replace('"text": "hi"', '"text": "hi", "metadata": ' + nested)
        if depth < 1000:  # deep, and still read: metadata is not interpreted
            frames.append(Frame(f"JSON {depth} deep in args", deep, expect="ok", session="bad"))
        else:  # deeper than the JSON reader goes: unreadable, so no session
            frames.append(Frame(f"JSON {depth} deep in args", deep, session=None))
    for number in ("1e999", "1" * 5000, "NaN", "-Infinity"):
        raw = instruction("message", {"conversation_id": "n", "text": "hi"})
        # A number JSON cannot hold in a float answers in the session; one too long
        # to read at all, with no session.
        session = "bad" if len(number) < 10 else None
        frames.append(Frame(f"number {number[:10]} as text", raw.replace('"hi"', number),
                            session=session))  # fmt: skip

    over = instruction("message", {"conversation_id": "big", "text": "x" * 70_000}, "big")
    frames.append(Frame("a text frame over max_body_bytes", over, session="big"))
    frames.append(
        Frame("a binary frame over max_body_bytes", over.encode(), session="big", text=False)
    )
    frames.append(Frame("an unreadable frame over max_body_bytes", "x" * 70_000, session=None))
    parts = [
        '{"session_id": "bad", "local_timestamp": null, ',
        '"payload": {"type": "instruction", "name": "message", ',
        '"args": {"conversation_id": "frag", "text": "hi"}}}',
    ]
    frames.append(
        Frame("a message in fragments", [p.encode() for p in parts], expect="ok", session="bad")
    )

    # RFC 6455 makes these fatal, and soni documents them so.
    for data in (b'{"a": "\xff"}', b"\xed\xa0\x80", b"\xc0\xaf"):
        frames.append(
            Frame(f"invalid UTF-8 {data!r} in a text frame", data, expect="close", close_code=1007)
        )
    frames.append(Frame("UTF-8 split invalidly across fragments", [b'{"a": "\xe2\x82', b'x"}'],
                        expect="close", close_code=1007))  # fmt: skip
    frames.append(Frame("a frame over the transport cap", "x" * (1_048_576 + 1), expect="close",
                        close_code=1009))  # fmt: skip
    frames.append(Frame("a 20 MB frame", "x" * 20_000_000, expect="close", close_code=1009))
    return frames


@dataclass
class WsRun:
    connection: ClientConnection
    probes: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)

    async def send(self, frame: Frame) -> None:
        data = frame.data
        if isinstance(data, list):
            await self.connection.send(iter(data), text=True)
        elif isinstance(data, bytes):
            await self.connection.send(data, text=frame.text)
        else:
            await self.connection.send(data)

    async def probe_and_collect(self, expect_answer: bool) -> tuple[list[dict[str, Any]], bool]:
        """Send a chat turn in a fresh session; the other answers read meanwhile, and
        whether the turn got a real answer."""
        self.probes += 1
        session_id = f"probe-{self.probes}"
        text = TURNS[self.probes % 2]
        await self.connection.send(
            instruction("message", {"conversation_id": CONVERSATION, "text": text}, session_id)
        )
        answers: list[dict[str, Any]] = []
        probe: dict[str, Any] | None = None
        while probe is None or (expect_answer and not answers):
            frame = json.loads(await asyncio.wait_for(self.connection.recv(), ANSWER_TIMEOUT))
            if frame["payload"]["type"] == "event":
                self.events.append(frame)
            elif frame["session_id"] == session_id:
                probe = frame["payload"]
            else:
                answers.append(frame)
        replies = probe.get("result", {}).get("replies", []) if probe["ok"] else []
        works = bool(replies) and all(reply["kind"] != "error" for reply in replies)
        return answers, works


async def test_the_websocket_corpus_is_answered_without_a_crash(
    served: Served, record_property: Record
) -> None:
    corpus = ws_corpus()
    failures: list[str] = []
    closes: dict[int, int] = {}
    connection = await connect(served.ws_url, proxy=None, max_size=None)
    run = WsRun(connection)
    try:
        for frame in corpus:
            await run.send(frame)
            if frame.expect == "close":
                try:
                    await asyncio.wait_for(connection.recv(), ANSWER_TIMEOUT)
                    failures.append(f"{frame.name}: answered, not closed")
                except ConnectionClosed as closed:
                    code = closed.rcvd.code if closed.rcvd else None
                    if code != frame.close_code:
                        failures.append(f"{frame.name}: closed with {code}, not {frame.close_code}")
                    closes[code or 0] = closes.get(code or 0, 0) + 1
                connection = await connect(served.ws_url, proxy=None, max_size=None)
                run.connection = connection
                _, works = await run.probe_and_collect(expect_answer=False)
                if not works:
                    failures.append(f"{frame.name}: the conversation stopped working after it")
                continue
            try:
                answers, works = await run.probe_and_collect(expect_answer=True)
            except ConnectionClosed as closed:
                failures.append(f"{frame.name}: the connection closed ({closed})")
                connection = await connect(served.ws_url, proxy=None, max_size=None)
                run.connection = connection
                continue
            if len(answers) != 1:
                failures.append(f"{frame.name}: {len(answers)} answers")
                continue
            answer = answers[0]
            payload = answer["payload"]
            if frame.session != "any" and answer["session_id"] != frame.session:
                failures.append(f"{frame.name}: answered in {answer['session_id']!r}")
            if frame.expect == "ok" and payload.get("ok") is not True:
                failures.append(f"{frame.name}: {payload}")
            if frame.expect == "error":
                error = payload.get("error") or {}
                if payload.get("ok") is not False or not 400 <= error.get("status", 0) < 500:
                    failures.append(f"{frame.name}: {payload}")
            if not works:
                failures.append(f"{frame.name}: the conversation stopped working after it")
    finally:
        await connection.close()

    assert failures == [], "\n".join(failures)
    assert_clean_log(served)
    answered = sum(frame.expect != "close" for frame in corpus)
    record_property(
        "figure",
        f"malformed WebSocket corpus: {len(corpus)} frames, {answered} answered in-session "
        f"(all < 500), {sum(closes.values())} documented closes "
        f"({closes.get(1007, 0)}x 1007 invalid UTF-8, {closes.get(1009, 0)}x 1009 over the cap), "
        "0 unexpected closes, 0 tracebacks",
    )
