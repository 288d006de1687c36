"""The LLM backend against a fake OpenAI-compatible (and Ollama-native) server on 127.0.0.1.

The server is real (FastAPI under uvicorn, on a port the OS picks, in a thread of
its own) and so is the HTTP client; only the model is scripted. Nothing leaves
the machine. A reply that never comes waits on an event the test's teardown sets,
never on a sleep; time itself, where a test needs it, is a fake clock.
"""

from __future__ import annotations

import asyncio
import json
import logging
import pickle
import socket
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import StreamingResponse

import soni.nlu
from soni import Bot
from soni.dsl.models import NluSettings
from soni.nlu import (
    MAX_MESSAGE_CHARS,
    Affirm,
    CancelFlow,
    Choose,
    Clarify,
    Command,
    ConversationContext,
    CorrectSlot,
    Deny,
    FlowInfo,
    Help,
    LLMSettings,
    LLMUnderstanding,
    OutOfScope,
    PendingInfo,
    SetSlot,
    SlotInfo,
    StartFlow,
    Understanding,
)
from soni.nlu._llm_prompt import system_prompt
from soni.nlu.errors import NluSettingsError

from .._uvicorn import ThreadedServer

API_KEY = "sk-test-0123456789abcdef"
MODEL = "fake-model-1"

# -- the fake server ----------------------------------------------------------------


@dataclass
class Reply:
    """What the fake answers one request with."""

    content: str | None = None
    status: int = 200
    body: bytes | None = None
    refusal: str | None = None
    finish_reason: str = "stop"
    hold: bool = False  # answer only when the test is over (a model that never answers)
    media_type: str = "application/json"  # of a given body
    stall: bool = False  # stream the first piece, then nothing until the client hangs up


def answer(*commands: dict[str, Any]) -> Reply:
    return Reply(content=json.dumps({"commands": list(commands)}))


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeOpenAI:
    """An OpenAI-compatible ``/v1/chat/completions``, scripted reply by reply.

    Replies are used in order; the last one repeats.
    """

    base_url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    replies: deque[Reply] = field(default_factory=deque)
    release: threading.Event = field(default_factory=threading.Event)
    hung_up: threading.Event = field(default_factory=threading.Event)

    def script(self, *replies: Reply) -> None:
        self.replies = deque(replies)

    def reset(self) -> None:
        self.requests = []
        self.replies = deque([answer({"kind": "help"})])
        self.release = threading.Event()
        self.hung_up = threading.Event()

    async def _next(self, request: Request) -> Reply:
        self.requests.append(
            Recorded(request.url.path, dict(request.headers), await request.json())
        )
        reply = self.replies.popleft() if len(self.replies) > 1 else self.replies[0]
        if reply.hold:
            release = self.release
            await asyncio.get_running_loop().run_in_executor(None, release.wait, 60)
        return reply

    async def _stream(
        self, request: Request, reply: Reply, lines: list[str], media_type: str
    ) -> StreamingResponse:
        async def send() -> AsyncIterator[str]:
            yield lines[0]
            if reply.stall:
                # Nothing more: the next message the server gets is the client leaving.
                if (await request.receive())["type"] == "http.disconnect":
                    self.hung_up.set()
                return
            for line in lines[1:]:
                yield line

        return StreamingResponse(send(), reply.status, media_type=media_type)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/api/chat")
        async def ollama_chat(request: Request) -> Response:
            reply = await self._next(request)
            if reply.body is not None:
                return Response(reply.body, reply.status, media_type=reply.media_type)
            if self.requests[-1].body.get("stream", True):  # Ollama streams by default
                pieces = _pieces(reply.content)
                lines = [
                    json.dumps(
                        {
                            "model": MODEL,
                            "message": {"role": "assistant", "content": p},
                            "done": False,
                        }
                    )
                    + "\n"
                    for p in pieces
                ]
                lines.append(
                    json.dumps(
                        {
                            "model": MODEL,
                            "message": {"role": "assistant", "content": ""},
                            "done": True,
                            "done_reason": reply.finish_reason,
                        }
                    )
                    + "\n"
                )
                return await self._stream(request, reply, lines, "application/x-ndjson")
            chat = {
                "model": MODEL,
                "created_at": "2026-01-01T00:00:00Z",
                "message": {"role": "assistant", "content": reply.content},
                "done": True,
                "done_reason": reply.finish_reason,
            }
            return Response(json.dumps(chat), reply.status, media_type="application/json")

        @app.post("/v1/chat/completions")
        async def complete(request: Request) -> Response:
            reply = await self._next(request)
            if reply.body is not None:
                return Response(reply.body, reply.status, media_type=reply.media_type)
            if self.requests[-1].body.get("stream"):
                chunks: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
                chunks += [{"content": p} for p in _pieces(reply.content)]
                if reply.refusal:
                    chunks.append({"refusal": reply.refusal})
                events = [
                    {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
                    for delta in chunks
                ]
                events.append(
                    {"choices": [{"index": 0, "delta": {}, "finish_reason": reply.finish_reason}]}
                )
                lines = [": ping\n\n"] + [f"data: {json.dumps(e)}\n\n" for e in events]
                lines.append("data: [DONE]\n\n")
                return await self._stream(request, reply, lines, "text/event-stream")
            message = {"role": "assistant", "content": reply.content, "refusal": reply.refusal}
            completion = {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": 0,
                "model": MODEL,
                "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason}],
            }
            return Response(json.dumps(completion), reply.status, media_type="application/json")

        return app


def _pieces(content: str | None) -> list[str]:
    """The content in three pieces, as a model streams it token by token."""
    if not content:
        return []
    third = max(1, len(content) // 3)
    return [content[:third], content[third : 2 * third], content[2 * third :]]


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    fake.reset()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))  # the OS picks a free port: safe under xdist
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        fake.app(),
        log_config=None,
        access_log=False,
        lifespan="off",
        http="h11",
        ws="none",
        loop="asyncio",
        timeout_graceful_shutdown=1,
    )
    # A thread of its own: the server outlives each test's event loop, and uvicorn
    # leaves signal handlers alone outside the main thread.
    server = ThreadedServer(config)
    server.start(sockets=[sock])
    fake.base_url = f"http://127.0.0.1:{port}/v1"
    try:
        yield fake
    finally:
        server.force_exit = True
        server.stop()
        sock.close()


@pytest.fixture
def fake(fake_server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    # httpx honours proxy variables by default; 127.0.0.1 must be reached directly.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("all_proxy", raising=False)
    fake_server.reset()
    yield fake_server
    fake_server.release.set()  # replies held back answer now, to nobody


# -- the understanding under test --------------------------------------------------


FALLBACK: list[Command] = [Help()]


class StubRules:
    """The fallback: records what it was asked and answers ``FALLBACK``."""

    def __init__(self, *, fails: bool = False) -> None:
        self.calls: list[str] = []
        self.fails = fails

    async def understand(self, text: str, context: ConversationContext) -> list[Command]:
        self.calls.append(text)
        if self.fails:
            raise RuntimeError("the rules broke")
        return list(FALLBACK)


class FakeClock:
    """Monotonic seconds that move only when the backend waits between retries."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


Make = Callable[..., Awaitable[tuple[LLMUnderstanding, StubRules]]]


@pytest.fixture
async def make(fake: FakeOpenAI) -> AsyncIterator[Make]:
    made: list[LLMUnderstanding] = []

    async def build(
        *,
        rules: StubRules | None = None,
        client: httpx.AsyncClient | None = None,
        clock: FakeClock | None = None,
        **options: Any,
    ) -> tuple[LLMUnderstanding, StubRules]:
        settings = {
            "model": MODEL,
            "base_url": fake.base_url,
            "api_key": API_KEY,
            "timeout": 1.0,
            "retries": 0,
            "retry_backoff": 0.01,
            **options,
        }
        rules = rules or StubRules()
        timing: dict[str, Any] = {"clock": clock, "sleep": clock.sleep} if clock else {}
        llm = LLMUnderstanding(LLMSettings(**settings), fallback=rules, client=client, **timing)
        made.append(llm)
        return llm, rules

    yield build
    for llm in made:
        await llm.aclose()


SLOT_TYPES = {
    "medication": SlotInfo("medication", "choice", {"ibuprofen": ["nurofen", "advil"]}),
    "quantity": SlotInfo("quantity", "integer"),
    "amount": SlotInfo("amount", "number"),
    "recipient": SlotInfo("recipient", "string"),
}
FLOWS = (
    FlowInfo(
        "refill",
        "Refill a prescription",
        ("I need more {medication}", "refill my prescription"),
        ("medication", "quantity"),
    ),
    FlowInfo("check_balance", "Tell the account balance", ("what's my balance",)),
    FlowInfo("transfer", "Send money", ("send money",), ("amount", "recipient")),
)
PENDING = PendingInfo(
    "c1", ("send_now", "schedule"), {"send_now": "Send it now", "schedule": "Later"}
)


def context(**changes: Any) -> ConversationContext:
    values: dict[str, Any] = {
        "flows": FLOWS,
        "slot_types": SLOT_TYPES,
        "today": date(2024, 5, 1),
    }
    values.update(changes)
    return ConversationContext(**values)


COLLECTING = context(
    active_flow="refill", expected_slot=SLOT_TYPES["quantity"], slots={"medication": "ibuprofen"}
)
CONFIRMING = context(
    active_flow="transfer", slots={"amount": 20, "recipient": "Bob"}, pending=PENDING
)


# -- the request ---------------------------------------------------------------------


async def test_the_request_carries_model_key_schema_and_context(
    fake: FakeOpenAI, make: Make
) -> None:
    llm, _ = await make(temperature=0.3)
    ctx = context(
        active_flow="refill",
        expected_slot=SLOT_TYPES["medication"],
        slots={"quantity": 2},
        pending=PENDING,
    )
    await llm.understand("the second one", ctx)

    (request,) = fake.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    body = request.body
    assert body["model"] == MODEL
    assert body["temperature"] == 0.3
    assert body["max_tokens"] == 400  # an answer is a few dozen tokens; a runaway one stops
    system, user = body["messages"]
    assert (system["role"], user["role"]) == ("system", "user")
    assert user["content"] == "the second one"

    assert body["response_format"]["type"] == "json_schema"
    spec = body["response_format"]["json_schema"]
    assert spec["strict"] is True
    schema = spec["schema"]
    assert schema["required"] == ["commands"]
    shapes = {
        item["properties"]["kind"]["enum"][0]: item
        for item in schema["properties"]["commands"]["items"]["anyOf"]
    }
    assert set(shapes) == {
        "start_flow", "set_slot", "correct_slot", "cancel_flow", "affirm", "deny",
        "choose", "clarify", "help", "out_of_scope",
    }  # fmt: skip
    assert shapes["start_flow"]["properties"]["flow"]["enum"] == [
        "refill",
        "check_balance",
        "transfer",
    ]
    assert shapes["choose"]["properties"]["option"]["enum"] == ["send_now", "schedule"]
    assert set(shapes["set_slot"]["properties"]["slot"]["enum"]) == set(SLOT_TYPES)
    assert shapes["clarify"]["required"] == ["kind", "candidates"]

    prompt = system["content"]
    for fragment in (
        "refill: Refill a prescription",
        '"I need more {medication}"',
        "check_balance: Tell the account balance",
        "transfer: Send money",
        "Slots: amount (number), recipient (string)",
        "Active flow: refill",
        "asked for the slot medication (choice; one of: ibuprofen [also said: nurofen, advil])",
        "quantity=2",
        'send_now ("Send it now")',
        'schedule ("Later")',
        "2024-05-01 (Wednesday)",
    ):
        assert fragment in prompt
    assert "JSON schema" not in prompt  # structured outputs carry it


async def test_choose_is_in_the_schema_only_when_options_are_offered(
    fake: FakeOpenAI, make: Make
) -> None:
    llm, _ = await make()
    await llm.understand("the first", CONFIRMING)
    await llm.understand("the first", COLLECTING)
    offered, none = (r.body["response_format"]["json_schema"]["schema"] for r in fake.requests)
    assert "choose" in _kinds(offered)
    assert "choose" not in _kinds(none)
    assert {"affirm", "deny", "set_slot"} <= _kinds(none)


async def test_without_a_key_no_authorization_header_is_sent(fake: FakeOpenAI, make: Make) -> None:
    llm, _ = await make(api_key=None)
    await llm.understand("help", context())
    assert "authorization" not in fake.requests[0].headers


@pytest.mark.parametrize(
    ("response_format", "sent"), [("json_object", {"type": "json_object"}), ("none", None)]
)
async def test_without_structured_outputs_the_schema_goes_in_the_prompt(
    fake: FakeOpenAI, make: Make, response_format: str, sent: dict[str, str] | None
) -> None:
    llm, _ = await make(response_format=response_format)
    fake.script(Reply(content='```json\n{"commands": [{"kind": "affirm"}]}\n```'))
    assert await llm.understand("yes", CONFIRMING) == [Affirm()]
    body = fake.requests[0].body
    assert body.get("response_format") == sent
    assert "The answer must match this JSON schema:" in body["messages"][0]["content"]


def _kinds(schema: dict[str, Any]) -> set[str]:
    return {
        item["properties"]["kind"]["enum"][0]
        for item in schema["properties"]["commands"]["items"]["anyOf"]
    }


@pytest.mark.parametrize(
    ("response_format", "where"),
    [
        # OpenAI structured outputs; also vLLM, Ollama's /v1 and llama.cpp's llama-server
        ("json_schema", lambda body: body["response_format"]["json_schema"]["schema"]),
        # llama-cpp-python's server: json_object with the schema beside the type
        ("llama_cpp", lambda body: body["response_format"]["schema"]),
        # vLLM 0.10.2 and later
        ("vllm", lambda body: body["structured_outputs"]["json"]),
        # vLLM before 0.12
        ("guided_json", lambda body: body["guided_json"]),
    ],
)
async def test_each_server_family_gets_the_schema_where_it_reads_it(
    fake: FakeOpenAI,
    make: Make,
    response_format: str,
    where: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    llm, rules = await make(response_format=response_format)
    fake.script(answer({"kind": "affirm"}))
    assert await llm.understand("yes", CONFIRMING) == [Affirm()]
    assert rules.calls == []
    (request,) = fake.requests
    assert request.path == "/v1/chat/completions"
    body = request.body
    schema = where(body)
    assert schema["required"] == ["commands"]
    assert "affirm" in _kinds(schema)
    if response_format == "llama_cpp":
        assert body["response_format"]["type"] == "json_object"
    if response_format in ("vllm", "guided_json"):
        assert "response_format" not in body
    assert body["max_tokens"] == 400
    # the server holds the answer to the schema: the prompt need not spell it out
    assert "JSON schema" not in body["messages"][0]["content"]


@pytest.mark.parametrize(
    ("response_format", "bounded"),
    [("llama_cpp", True), ("ollama", True), ("json_schema", False), ("vllm", False)],
)
async def test_grammar_servers_get_bounds_so_a_small_model_cannot_loop(
    fake: FakeOpenAI, make: Make, response_format: str, bounded: bool
) -> None:
    base_url = fake.base_url.removesuffix("/v1") if response_format == "ollama" else fake.base_url
    llm, _ = await make(response_format=response_format, base_url=base_url)
    await llm.understand("send 20 to Bob", context())
    body = fake.requests[0].body
    schema = {
        "llama_cpp": lambda: body["response_format"]["schema"],
        "ollama": lambda: body["format"],
        "json_schema": lambda: body["response_format"]["json_schema"]["schema"],
        "vllm": lambda: body["structured_outputs"]["json"],
    }[response_format]()
    commands = schema["properties"]["commands"]
    start_flow = commands["items"]["anyOf"][0]["properties"]
    text = start_flow["slots"]["items"]["properties"]["value"]["anyOf"][0]
    if bounded:
        assert (commands["minItems"], commands["maxItems"]) == (1, 4)
        assert start_flow["slots"]["maxItems"] == len(SLOT_TYPES)  # each slot once
        assert text == {"type": "string", "maxLength": 200}
    else:  # OpenAI's strict subset has no such keywords: they would fail the request
        assert "maxItems" not in json.dumps(schema)
        assert "minItems" not in json.dumps(schema)
        assert "maxLength" not in json.dumps(schema)


@pytest.mark.parametrize("base_path", ["/v1", ""])
async def test_ollama_gets_its_native_chat_with_format(
    fake: FakeOpenAI, make: Make, base_path: str
) -> None:
    root = fake.base_url.removesuffix("/v1")
    llm, rules = await make(
        response_format="ollama", base_url=root + base_path, temperature=0.2, max_tokens=300
    )
    fake.script(answer({"kind": "choose", "option": "schedule"}))
    assert await llm.understand("later please", CONFIRMING) == [Choose("schedule")]
    assert rules.calls == []
    (request,) = fake.requests
    assert request.path == "/api/chat"
    body = request.body
    assert body["stream"] is True  # read line by line (the default)
    assert body["options"] == {"temperature": 0.2, "num_predict": 300}
    assert body["format"]["required"] == ["commands"]
    assert body["format"]["properties"]["commands"]["items"]["anyOf"]
    assert body["messages"][1] == {"role": "user", "content": "later please"}
    assert "response_format" not in body


@pytest.mark.parametrize("response_format", ["auto", "llama_cpp", "ollama"])
async def test_without_streaming_the_whole_answer_is_read_at_once(
    fake: FakeOpenAI, make: Make, response_format: str
) -> None:
    kwargs: dict[str, Any] = {"response_format": response_format, "stream": False}
    if response_format == "ollama":
        kwargs["base_url"] = fake.base_url.removesuffix("/v1")
    llm, rules = await make(**kwargs)
    fake.script(answer({"kind": "affirm"}))
    assert await llm.understand("yes", CONFIRMING) == [Affirm()]
    assert rules.calls == []
    assert fake.requests[0].body.get("stream", False) is False


async def test_a_server_that_ignores_stream_is_read_whole(fake: FakeOpenAI, make: Make) -> None:
    llm, rules = await make()
    completion = {"choices": [{"message": {"content": '{"commands": [{"kind": "deny"}]}'}}]}
    fake.script(Reply(body=json.dumps(completion).encode()))  # application/json, not a stream
    assert await llm.understand("no", CONFIRMING) == [Deny()]
    assert fake.requests[0].body["stream"] is True
    assert rules.calls == []


@pytest.mark.parametrize(
    ("lines", "why"),
    [
        (b'data: {"choices": [{"delta": {"content": "{\\"comm"}}]}\n\n', "ended before"),
        (b"data: [DONE]\n\n", "the answer is empty"),
        (b'data: {"error": {"message": "out of memory"}}\n\n', "reported an error"),
        (b"data: not json\n\n", "not a chat completion stream"),
    ],
)
async def test_a_broken_stream_falls_back(
    fake: FakeOpenAI, make: Make, caplog: pytest.LogCaptureFixture, lines: bytes, why: str
) -> None:
    llm, rules = await make()
    fake.script(Reply(body=lines, media_type="text/event-stream"))
    with caplog.at_level(logging.WARNING):
        assert await llm.understand("hi", context()) == FALLBACK
    assert rules.calls == ["hi"]
    assert why in _warnings(caplog)[0]


async def test_an_ollama_answer_cut_short_falls_back(
    fake: FakeOpenAI, make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    llm, rules = await make(response_format="ollama")
    fake.script(Reply(content='{"commands": [{"kind": "aff', finish_reason="length"))
    with caplog.at_level(logging.WARNING):
        assert await llm.understand("yes", CONFIRMING) == FALLBACK
    assert rules.calls == ["yes"]
    assert "cut short" in _warnings(caplog)[0]


async def test_no_token_limit_is_sent_when_max_tokens_is_0(fake: FakeOpenAI, make: Make) -> None:
    llm, _ = await make(max_tokens=0)
    await llm.understand("help", context())
    assert "max_tokens" not in fake.requests[0].body


# -- auto: the request shape found from the server -------------------------------------

# What llama-cpp-python's server (0.3.36) answers a json_schema response_format with,
# verbatim but for the traceback's path.
LLAMA_CPP_PYTHON_500 = Reply(
    status=500,
    body=json.dumps(
        {
            "error": {
                "message": "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', "
                "'response_format', 'type'), 'msg': \"Input should be 'text' or 'json_object'\","
                " 'input': 'json_schema', 'ctx': {'expected': \"'text' or 'json_object'\"}}\n\n"
                '  File "llama_cpp/server/app.py", line 376, in create_chat_completion\n'
                "    POST /v1/chat/completions",
                "type": "internal_server_error",
                "param": None,
                "code": None,
            }
        }
    ).encode(),
)


async def test_auto_steps_down_once_when_the_server_rejects_the_form_and_remembers(
    fake: FakeOpenAI, make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    llm, rules = await make(retries=2)  # response_format: auto, the default
    assert llm.response_format == "json_schema"
    fake.script(LLAMA_CPP_PYTHON_500, answer({"kind": "affirm"}))
    with caplog.at_level(logging.INFO, logger="soni.nlu.llm"):
        assert await llm.understand("yes", CONFIRMING) == [Affirm()]
        assert await llm.understand("yes", CONFIRMING) == [Affirm()]
    assert rules.calls == []
    sent = [r.body["response_format"] for r in fake.requests]
    assert sent[0]["type"] == "json_schema"
    # the rejected form is not retried, neither in this turn nor in the next
    assert [f["type"] for f in sent[1:]] == ["json_object", "json_object"]
    assert all(f["schema"]["required"] == ["commands"] for f in sent[1:])
    assert llm.response_format == "llama_cpp"
    assert _warnings(caplog) == []
    (note,) = [r.getMessage() for r in caplog.records if "rejected" in r.getMessage()]
    assert "rejected response_format json_schema (HTTP 500, internal_server_error)" in note
    assert "using llama_cpp from now on" in note


async def test_auto_steps_down_to_no_format_at_worst(fake: FakeOpenAI, make: Make) -> None:
    rejected = Reply(status=400, body=b'{"error": {"message": "unknown field response_format"}}')
    llm, rules = await make()
    fake.script(rejected, rejected, rejected, Reply(content='{"commands": [{"kind": "help"}]}'))
    assert await llm.understand("what can you do", context()) == [Help()]
    assert rules.calls == []
    assert llm.response_format == "none"
    last = fake.requests[-1].body
    assert "response_format" not in last
    assert "The answer must match this JSON schema:" in last["messages"][0]["content"]


async def test_auto_with_every_form_rejected_falls_back(
    fake: FakeOpenAI, make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    llm, rules = await make()
    fake.script(Reply(status=422, body=b'{"detail": "bad response_format"}'))
    with caplog.at_level(logging.WARNING):
        assert await llm.understand("hi", context()) == FALLBACK
        assert await llm.understand("hi again", context()) == FALLBACK
    assert rules.calls == ["hi", "hi again"]
    assert len(fake.requests) == 4 + 1  # each form once; then only the last one is left
    assert "no other response_format is left" in _warnings(caplog)[0]


async def test_a_server_error_not_about_the_format_is_retried_not_stepped_down(
    fake: FakeOpenAI, make: Make
) -> None:
    llm, rules = await make(retries=1)
    fake.script(
        Reply(status=500, body=b'{"error": {"message": "out of memory"}}'), answer({"kind": "help"})
    )
    assert await llm.understand("what can you do", context()) == [Help()]
    assert rules.calls == []
    assert llm.response_format == "json_schema"
    assert [r.body["response_format"]["type"] for r in fake.requests] == ["json_schema"] * 2


async def test_once_a_form_was_accepted_auto_keeps_it(fake: FakeOpenAI, make: Make) -> None:
    llm, rules = await make(retries=0)
    await llm.understand("what can you do", context())  # accepted: json_schema is the form
    fake.script(LLAMA_CPP_PYTHON_500)  # a later error, even one naming the schema
    assert await llm.understand("hi", context()) == FALLBACK
    assert rules.calls == ["hi"]
    assert llm.response_format == "json_schema"
    assert len(fake.requests) == 2


async def test_a_chosen_form_the_server_rejects_is_not_changed_and_says_so(
    fake: FakeOpenAI, make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    llm, rules = await make(response_format="json_schema", retries=2)
    fake.script(Reply(status=400, body=b'{"error": {"message": "response_format not supported"}}'))
    with caplog.at_level(logging.WARNING):
        assert await llm.understand("hi", context()) == FALLBACK
    assert rules.calls == ["hi"]
    assert len(fake.requests) == 1
    assert llm.response_format == "json_schema"
    (warning,) = _warnings(caplog)
    assert "HTTP 400 (does the server take response_format json_schema? try auto)" in warning


# -- the turn budget -------------------------------------------------------------------

BOT = """
settings:
  nlu: {{engine: llm, model: fake-model-1, base_url: "{url}", turn_budget: 0.3, timeout: 10}}
slots:
  quantity: {{type: integer, prompt: "How many?"}}
flows:
  refill:
    trigger: {{intents: ["refill my prescription"]}}
    steps:
      - {{step: ask, type: collect, slot: quantity}}
      - {{step: done, type: say, message: "{{quantity}} packs."}}
"""


async def test_a_bot_turn_ends_within_the_budget_on_the_rules(
    fake: FakeOpenAI, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "bot.yaml").write_text(BOT.format(url=fake.base_url))
    fake.script(Reply(content='{"commands": [{"kind": "help"}]}', hold=True))
    bot = await Bot.load(tmp_path, db=":memory:")
    try:
        started = time.monotonic()
        with caplog.at_level(logging.WARNING):
            first = await bot.handle("c", "refill my prescription")
        elapsed = time.monotonic() - started
        fake.script(answer({"kind": "set_slot", "slot": "quantity", "value": 3}))
        second = await bot.handle("c", "three")
    finally:
        await bot.aclose()
    assert first.texts == ["How many?"]  # the rules read it once the budget was spent
    assert elapsed < 0.3 + 1.0
    assert any("the turn budget of 0.3 s" in w for w in _warnings(caplog))
    assert second.texts == ["3 packs."]  # the model, answering in time, reads the next one


async def test_a_model_that_never_answers_costs_the_turn_its_budget_then_the_rules_answer(
    fake: FakeOpenAI, make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    llm, rules = await make(timeout=10, retries=2, turn_budget=0.3)
    fake.script(Reply(content='{"commands": [{"kind": "help"}]}', hold=True))
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        assert await llm.understand("hi", context()) == FALLBACK
    elapsed = time.monotonic() - started
    assert elapsed < 0.3 + 1.0  # an upper bound: the budget, not the 10 s timeout x 3
    assert rules.calls == ["hi"]
    (warning,) = _warnings(caplog)
    assert "the turn budget of 0.3 s" in warning


@pytest.mark.parametrize("response_format", ["llama_cpp", "ollama"])
async def test_at_the_budget_the_backend_hangs_up_so_the_server_can_stop_generating(
    fake: FakeOpenAI, make: Make, response_format: str
) -> None:
    base_url = fake.base_url.removesuffix("/v1") if response_format == "ollama" else fake.base_url
    llm, rules = await make(
        response_format=response_format, base_url=base_url, timeout=10, turn_budget=0.3
    )
    fake.script(Reply(content='{"commands": [{"kind": "help"}]}', stall=True))
    assert await llm.understand("hi", context()) == FALLBACK
    assert rules.calls == ["hi"]
    # The server sees the client leave (llama-cpp-python then stops generating, where a
    # request that is not streamed runs to max_tokens with the next message behind it).
    assert await asyncio.to_thread(fake.hung_up.wait, 10)


async def test_retries_stop_when_the_budget_would_run_out(
    fake: FakeOpenAI, make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    llm, rules = await make(retries=10, retry_backoff=0.5, turn_budget=2.0, clock=clock)
    fake.script(Reply(status=503, body=b'{"error": {"type": "overloaded"}}'))
    with caplog.at_level(logging.WARNING):
        assert await llm.understand("hi", context()) == FALLBACK
    # attempt at 0 s, wait 0.5; attempt at 0.5 s, wait 1; attempt at 1.5 s: the next
    # wait (2 s) would end past the budget, so no fourth attempt
    assert clock.sleeps == [0.5, 1.0]
    assert len(fake.requests) == 3
    assert rules.calls == ["hi"]
    (warning,) = _warnings(caplog)
    assert "HTTP 503 (overloaded); the turn budget of 2 s is spent (after 3 attempts)" in warning


async def test_an_attempt_gets_only_what_is_left_of_the_budget(
    fake: FakeOpenAI, make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    llm, rules = await make(timeout=5, retries=3, retry_backoff=1.7, turn_budget=2.0, clock=clock)
    # the first attempt fails at once; the second is held: it may take 0.3 s (2 - 1.7)
    fake.script(Reply(status=502, body=b"{}"), Reply(content="{}", hold=True))
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        assert await llm.understand("hi", context()) == FALLBACK
    assert time.monotonic() - started < 0.3 + 1.0
    assert rules.calls == ["hi"]
    assert len(fake.requests) == 2
    assert "no answer within the turn budget of 2 s" in _warnings(caplog)[0]


@pytest.mark.parametrize(
    "reply",
    [
        Reply(content="The user wants help, I believe."),
        Reply(content='{"commands": [{"kind": "start_flow", "flow": "order_pizza", "slots": []}]}'),
        Reply(status=500, body=b"{}"),
    ],
    ids=["prose", "wrong-json", "500"],
)
async def test_a_bad_model_never_holds_the_turn(fake: FakeOpenAI, make: Make, reply: Reply) -> None:
    clock = FakeClock()
    llm, rules = await make(retries=2, retry_backoff=1.0, turn_budget=8.0, clock=clock)
    fake.script(reply)
    assert await llm.understand("hi", context()) == FALLBACK
    assert rules.calls == ["hi"]
    assert sum(clock.sleeps) < 8.0


# -- answers to commands ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ctx", "commands", "expected"),
    [
        (
            "I need more advil, 2 packs",
            context(),
            [
                {
                    "kind": "start_flow",
                    "flow": "refill",
                    "slots": [
                        {"slot": "medication", "value": "ibuprofen"},
                        {"slot": "quantity", "value": 2},
                    ],
                }
            ],
            [StartFlow("refill", {"medication": "ibuprofen", "quantity": 2})],
        ),
        (
            "what's my balance",
            context(),
            [{"kind": "start_flow", "flow": "check_balance", "slots": []}],
            [StartFlow("check_balance")],
        ),
        (
            "2 packs please",
            COLLECTING,
            [{"kind": "set_slot", "slot": "quantity", "value": 2}],
            [SetSlot("quantity", 2)],
        ),
        (
            "actually make it 5",
            COLLECTING,
            [{"kind": "correct_slot", "slot": "quantity", "value": 5}],
            [CorrectSlot("quantity", 5)],
        ),
        ("never mind", COLLECTING, [{"kind": "cancel_flow"}], [CancelFlow()]),
        ("yes, go ahead", CONFIRMING, [{"kind": "affirm"}], [Affirm()]),
        ("not now", CONFIRMING, [{"kind": "deny"}], [Deny()]),
        (
            "the second one",
            CONFIRMING,
            [{"kind": "choose", "option": "schedule"}],
            [Choose("schedule")],
        ),
        (
            "money",
            context(),
            [{"kind": "clarify", "candidates": ["transfer", "check_balance"]}],
            [Clarify(("transfer", "check_balance"))],
        ),
        ("what can you do", context(), [{"kind": "help"}], [Help()]),
        (
            "what's the weather",
            context(),
            [{"kind": "out_of_scope"}],
            [OutOfScope("what's the weather")],
        ),
        (
            "send 20.5 to Bob",
            context(),
            [
                {"kind": "start_flow", "flow": "transfer", "slots": []},
                {"kind": "set_slot", "slot": "amount", "value": 20.5},
                {"kind": "set_slot", "slot": "recipient", "value": "Bob"},
            ],
            [StartFlow("transfer"), SetSlot("amount", 20.5), SetSlot("recipient", "Bob")],
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
async def test_each_command_type_is_mapped(
    make: Make,
    fake: FakeOpenAI,
    caplog: pytest.LogCaptureFixture,
    text: str,
    ctx: ConversationContext,
    commands: list[dict[str, Any]],
    expected: list[Command],
) -> None:
    llm, rules = await make()
    fake.script(answer(*commands))
    with caplog.at_level(logging.WARNING, logger="soni.nlu.llm"):
        assert await llm.understand(text, ctx) == expected
    assert rules.calls == []
    assert _warnings(caplog) == []


@pytest.mark.parametrize(
    ("content", "ctx", "expected"),
    [
        # a mapping of slots, the natural answer without structured outputs
        (
            '{"commands": [{"kind": "start_flow", "flow": "refill", '
            '"slots": {"medication": "ibuprofen"}}]}',
            context(),
            [StartFlow("refill", {"medication": "ibuprofen"})],
        ),
        ('[{"kind": "deny"}]', CONFIRMING, [Deny()]),  # a bare list
        ('{"kind": "affirm", "reason": "said yes"}', CONFIRMING, [Affirm()]),  # one command
        ('Sure! {"commands": [{"kind": "help"}]}', context(), [Help()]),  # chatter around it
        (
            '{"commands": [{"kind": "choose", "option": "Send it now"}]}',
            CONFIRMING,
            [Choose("send_now")],
        ),  # the label, not the name
    ],
)
async def test_plain_json_answers_are_accepted(
    make: Make,
    fake: FakeOpenAI,
    content: str,
    ctx: ConversationContext,
    expected: list[Command],
) -> None:
    llm, rules = await make()
    fake.script(Reply(content=content))
    assert await llm.understand("hm", ctx) == expected
    assert rules.calls == []


# -- falling back ---------------------------------------------------------------------


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "soni.nlu.llm" and r.levelno == logging.WARNING
    ]


@pytest.mark.parametrize(
    ("reply", "ctx", "why"),
    [
        (Reply(content="I think the user wants a refill"), context(), "not JSON"),
        (Reply(content='{"commands": []}'), context(), "does not match the schema"),
        (Reply(content='{"answer": "refill"}'), context(), "does not match the schema"),
        (
            answer({"kind": "set_slot", "slot": "quantity"}),
            COLLECTING,
            "commands.0.set_slot.value: Field required",
        ),
        (
            answer({"kind": "set_slot", "slot": "quantity", "value": [1, 2]}),
            COLLECTING,
            "does not match the schema",
        ),
        (answer({"kind": "launch_rocket"}), context(), "does not match the schema"),
        (
            answer({"kind": "start_flow", "flow": "order_pizza", "slots": []}),
            context(),
            "unknown flow 'order_pizza'",
        ),
        (
            answer(
                {
                    "kind": "start_flow",
                    "flow": "refill",
                    "slots": [{"slot": "colour", "value": "red"}],
                }
            ),
            context(),
            "unknown slot 'colour'",
        ),
        (
            answer({"kind": "set_slot", "slot": "colour", "value": "red"}),
            COLLECTING,
            "unknown slot 'colour'",
        ),
        (
            answer({"kind": "correct_slot", "slot": "colour", "value": "red"}),
            COLLECTING,
            "unknown slot 'colour'",
        ),
        (
            answer({"kind": "choose", "option": "send_later"}),
            CONFIRMING,
            "option 'send_later' is not offered",
        ),
        (answer({"kind": "choose", "option": "send_now"}), context(), "no options are offered"),
        (
            answer({"kind": "clarify", "candidates": ["refill", "order_pizza"]}),
            context(),
            "unknown flow 'order_pizza'",
        ),
        (Reply(content=None, refusal="I can't help with that"), context(), "refused"),
        (
            Reply(content='{"commands": [{"kind": "he', finish_reason="length"),
            context(),
            "cut short",
        ),
        (Reply(content="   "), context(), "the answer is empty"),
        (Reply(body=b"<html>oops</html>"), context(), "not a chat completion"),
        (Reply(body=b'{"choices": []}'), context(), "not a chat completion"),
    ],
)
async def test_an_unusable_answer_falls_back_and_says_why(
    make: Make,
    fake: FakeOpenAI,
    caplog: pytest.LogCaptureFixture,
    reply: Reply,
    ctx: ConversationContext,
    why: str,
) -> None:
    llm, rules = await make(retries=2)
    fake.script(reply)
    with caplog.at_level(logging.DEBUG):
        assert await llm.understand("refill please", ctx) == FALLBACK
    assert rules.calls == ["refill please"]
    assert len(fake.requests) == 1  # a bad answer is not asked again
    (warning,) = _warnings(caplog)
    assert why in warning
    assert MODEL in warning
    assert API_KEY not in caplog.text


async def test_a_server_error_is_retried(
    make: Make, fake: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    llm, rules = await make(retries=2)
    fake.script(
        Reply(status=500, body=b"{}"), Reply(status=429, body=b"{}"), answer({"kind": "help"})
    )
    with caplog.at_level(logging.INFO, logger="soni.nlu.llm"):
        assert await llm.understand("what can you do", context()) == [Help()]
    assert len(fake.requests) == 3
    assert rules.calls == []
    assert _warnings(caplog) == []
    assert sum("retrying" in r.getMessage() for r in caplog.records) == 2


async def test_retries_run_out_then_it_falls_back(
    make: Make, fake: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    llm, rules = await make(retries=1)
    fake.script(Reply(status=503, body=b'{"error": {"message": "busy", "type": "overloaded"}}'))
    with caplog.at_level(logging.DEBUG):
        assert await llm.understand("hi", context()) == FALLBACK
    assert len(fake.requests) == 2
    assert rules.calls == ["hi"]
    (warning,) = _warnings(caplog)
    assert "HTTP 503 (overloaded)" in warning
    assert "after 2 attempts" in warning


async def test_a_slow_server_times_out_and_falls_back(
    make: Make, fake: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    llm, rules = await make(timeout=0.2, retries=1)
    fake.script(Reply(content='{"commands": [{"kind": "help"}]}', hold=True))
    started = time.monotonic()
    with caplog.at_level(logging.DEBUG):
        assert await llm.understand("hi", context()) == FALLBACK
    elapsed = time.monotonic() - started
    assert len(fake.requests) == 2  # timeouts are retried
    assert elapsed < 1.5  # the server would never answer
    assert rules.calls == ["hi"]
    (warning,) = _warnings(caplog)
    assert "no answer within 0.2 s (after 2 attempts)" in warning


async def test_a_rejected_key_falls_back_at_once_and_is_never_logged(
    make: Make, fake: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    llm, rules = await make(retries=2)
    # Real servers quote part of a rejected key; this one quotes all of it.
    error = {
        "error": {
            "message": f"Incorrect API key provided: {API_KEY}",
            "type": "invalid_request_error",
            "code": "invalid_api_key",
        }
    }
    fake.script(Reply(status=401, body=json.dumps(error).encode()))
    with caplog.at_level(logging.DEBUG):
        assert await llm.understand("hi", context()) == FALLBACK
    assert len(fake.requests) == 1  # 401 is not retried
    assert rules.calls == ["hi"]
    (warning,) = _warnings(caplog)
    assert "HTTP 401 (invalid_api_key) (check the API key)" in warning
    assert API_KEY not in caplog.text
    assert API_KEY not in repr(llm.settings)


@pytest.mark.parametrize(
    ("status", "hint"),
    [
        (400, "HTTP 400"),
        (404, "check base_url and model"),
        (422, "HTTP 422"),
    ],
)
async def test_other_client_errors_are_not_retried(
    make: Make, fake: FakeOpenAI, caplog: pytest.LogCaptureFixture, status: int, hint: str
) -> None:
    llm, rules = await make(retries=2)
    fake.script(Reply(status=status, body=b'{"error": {"message": "no", "code": null}}'))
    with caplog.at_level(logging.WARNING):
        assert await llm.understand("hi", context()) == FALLBACK
    assert len(fake.requests) == 1
    assert rules.calls == ["hi"]
    (warning,) = _warnings(caplog)
    assert f"HTTP {status}" in warning
    assert hint in warning


async def test_an_unreachable_server_falls_back(
    make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago, now closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    llm, rules = await make(base_url=f"http://127.0.0.1:{port}/v1", retries=1)
    with caplog.at_level(logging.DEBUG):
        assert await llm.understand("hi", context()) == FALLBACK
    assert rules.calls == ["hi"]
    (warning,) = _warnings(caplog)
    assert f"cannot reach http://127.0.0.1:{port}/v1/chat/completions" in warning
    assert "after 2 attempts" in warning


async def test_a_failing_fallback_still_does_not_raise(
    make: Make, fake: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    llm, _ = await make(rules=StubRules(fails=True))
    fake.script(Reply(content="not json"))
    with caplog.at_level(logging.WARNING):
        assert await llm.understand("hi", context()) == [OutOfScope("hi")]
    assert any("the rules broke" in w for w in _warnings(caplog))


@pytest.mark.parametrize("text", ["", "   ", "x" * (MAX_MESSAGE_CHARS + 1)], ids=len)
async def test_empty_or_oversized_text_never_reaches_the_model(
    make: Make, fake: FakeOpenAI, text: str
) -> None:
    llm, rules = await make()
    assert await llm.understand(text, context()) == FALLBACK
    assert fake.requests == []
    assert rules.calls == [text]


# -- the client ------------------------------------------------------------------------


async def test_a_given_client_is_used_and_left_open(fake: FakeOpenAI, make: Make) -> None:
    async with httpx.AsyncClient(headers={"X-Test": "given"}) as client:
        llm, _ = await make(client=client)
        assert await llm.understand("help", context()) == [Help()]
        await llm.aclose()
        assert not client.is_closed
    assert fake.requests[0].headers["x-test"] == "given"


async def test_its_own_client_is_closed(fake: FakeOpenAI) -> None:
    settings = LLMSettings(model=MODEL, base_url=fake.base_url, timeout=1.0)
    async with LLMUnderstanding(settings, fallback=StubRules()) as llm:
        assert isinstance(llm, Understanding)
        assert await llm.understand("help", context()) == [Help()]
    assert llm._client.is_closed


# -- settings --------------------------------------------------------------------------


def test_settings_from_the_bot_settings() -> None:
    nlu = NluSettings.model_validate(
        {
            "engine": "llm",
            "model": "gpt-4o-mini",
            "base_url": "http://localhost:11434/v1/",
            "api_key": "sk-in-settings",
            "timeout": 5,
            "retries": "3",
            "retry_backoff": 0.1,
            "temperature": 0.2,
            "response_format": "json_object",
            "turn_budget": "4.5",
            "max_tokens": 256,
            "affirm": ["yep"],  # the rules' setting: not ours, ignored
        }
    )
    settings = LLMSettings.from_settings(nlu.model_dump(), environ={"SONI_LLM_MODEL": "other"})
    assert settings == LLMSettings(
        model="gpt-4o-mini",
        base_url="http://localhost:11434/v1",
        api_key="sk-in-settings",
        timeout=5.0,
        retries=3,
        retry_backoff=0.1,
        temperature=0.2,
        response_format="json_object",
        turn_budget=4.5,
        max_tokens=256,
    )
    assert settings.endpoint == "http://localhost:11434/v1/chat/completions"
    assert "sk-in-settings" not in repr(settings)


def test_settings_defaults_and_the_environment() -> None:
    environ = {
        "SONI_LLM_MODEL": "env-model",
        "SONI_LLM_BASE_URL": "https://llm.example/v1",
        "SONI_LLM_API_KEY": "sk-soni",
        "OPENAI_API_KEY": "sk-openai",
    }
    settings = LLMSettings.from_settings({"engine": "llm"}, environ=environ)
    assert (settings.model, settings.base_url, settings.api_key) == (
        "env-model",
        "https://llm.example/v1",
        "sk-soni",
    )
    assert (settings.timeout, settings.retries, settings.temperature) == (10.0, 2, 0.0)
    assert settings.response_format == "auto"
    assert (settings.turn_budget, settings.max_tokens) == (8.0, 400)

    only_openai = {"OPENAI_API_KEY": "sk-openai"}
    settings = LLMSettings.from_settings({"model": "m"}, environ=only_openai)
    assert settings.base_url == "https://api.openai.com/v1"
    assert settings.api_key == "sk-openai"
    assert LLMSettings.from_settings({"model": "m"}, environ={}).api_key is None


def test_settings_win_over_the_environment_and_name_the_key_variable() -> None:
    environ = {"SONI_LLM_MODEL": "env-model", "MY_KEY": "sk-mine", "OPENAI_API_KEY": "sk-openai"}
    settings = LLMSettings.from_settings(
        {"model": "set-model", "api_key_env": "MY_KEY", "timeout": None}, environ=environ
    )
    assert (settings.model, settings.api_key, settings.timeout) == ("set-model", "sk-mine", 10.0)
    unset = LLMSettings.from_settings({"model": "m", "api_key_env": "NOPE"}, environ=environ)
    assert unset.api_key is None  # only the named variable is read


@pytest.mark.parametrize(
    ("nlu", "key", "message"),
    [
        ({}, "model", "is required"),
        ({"model": "  "}, "model", "non-empty"),
        ({"model": 4}, "model", "must be a string"),
        ({"timeout": "abc"}, "timeout", "must be a number, got 'abc'"),
        ({"timeout": 0}, "timeout", "more than 0"),
        ({"timeout": True}, "timeout", "must be a number"),
        ({"timeout": float("nan")}, "timeout", "must be a number"),
        ({"timeout": float("inf")}, "timeout", "at most 600"),
        ({"retries": 1.5}, "retries", "whole number"),
        ({"retries": -1}, "retries", "at least 0"),
        ({"retries": "two"}, "retries", "whole number"),
        ({"temperature": 3}, "temperature", "at most 2"),
        ({"retry_backoff": -1}, "retry_backoff", "at least 0"),
        ({"base_url": "ftp://host/v1"}, "base_url", "http:// or https://"),
        ({"base_url": "not a url"}, "base_url", "http:// or https://"),
        ({"base_url": "https://user:secret@host/v1"}, "base_url", "must not contain credentials"),
        ({"base_url": "https://host/v1?x=1"}, "base_url", "query"),
        ({"api_key": 123}, "api_key", "must be a string"),
        ({"api_key_env": "BAD-NAME"}, "api_key_env", "environment variable"),
        (
            {"response_format": "xml"},
            "response_format",
            "auto, json_schema, llama_cpp, ollama, vllm, guided_json, json_object, none",
        ),
        ({"turn_budget": 0}, "turn_budget", "more than 0"),
        ({"turn_budget": "soon"}, "turn_budget", "must be a number"),
        ({"max_tokens": -1}, "max_tokens", "at least 0"),
        ({"max_tokens": 2.5}, "max_tokens", "whole number"),
    ],
)
def test_bad_settings_are_named(nlu: dict[str, Any], key: str, message: str) -> None:
    values = {"model": "m", **nlu} if key != "model" else nlu
    with pytest.raises(NluSettingsError) as caught:
        LLMSettings.from_settings(values, environ={})
    assert caught.value.key == key
    assert str(caught.value).startswith(f"settings.nlu.{key}: ")
    assert message in str(caught.value)
    assert "secret" not in str(caught.value)


def test_the_ollama_endpoint_is_its_native_chat() -> None:
    settings = LLMSettings(
        model="m", base_url="http://localhost:11434/v1", response_format="ollama"
    )
    assert settings.endpoint == "http://localhost:11434/api/chat"
    settings = LLMSettings(model="m", base_url="http://localhost:11434", response_format="ollama")
    assert settings.endpoint == "http://localhost:11434/api/chat"
    settings = LLMSettings(model="m", base_url="http://localhost:11434/v1")
    assert settings.endpoint == "http://localhost:11434/v1/chat/completions"


def test_the_settings_error_pickles() -> None:
    error = NluSettingsError("timeout", "must be a number")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.key, str(copy)) == ("timeout", str(error))


def test_the_backend_is_exported() -> None:
    assert {"LLMSettings", "LLMUnderstanding"} <= set(soni.nlu.__all__)
    assert soni.nlu.LLMUnderstanding is LLMUnderstanding
    with pytest.raises(AttributeError):
        _ = soni.nlu.NoSuchThing  # type: ignore[attr-defined]


def test_the_prompt_says_how_to_write_times_and_dates_with_times() -> None:
    slots = {
        **SLOT_TYPES,
        "pickup_time": SlotInfo("pickup_time", "time"),
        "visit": SlotInfo("visit", "datetime"),
    }
    flows = (*FLOWS, FlowInfo("plan", "Plan a visit", ("plan a visit",), ("visit",)))
    ctx = context(expected_slot=slots["pickup_time"], slot_types=slots, flows=flows)

    prompt = system_prompt(ctx)

    assert "asked for the slot pickup_time (time, as HH:MM)" in prompt
    assert "Slots: visit (datetime, as YYYY-MM-DDTHH:MM)" in prompt
    assert "times as HH:MM (24-hour clock), dates with times as YYYY-MM-DDTHH:MM" in prompt
