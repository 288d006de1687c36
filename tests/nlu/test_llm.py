"""The LLM backend against a fake OpenAI-compatible server on 127.0.0.1.

The server is real (FastAPI under uvicorn, on a port the OS picks, in a thread of
its own) and so is the HTTP client; only the model is scripted. Nothing leaves
the machine.
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
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request, Response

import soni.nlu
from soni.dsl.models import NluSettings
from soni.errors import NluSettingsError
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

API_KEY = "sk-test-0123456789abcdef"
MODEL = "fake-model-1"

# -- the fake server ----------------------------------------------------------------


@dataclass
class Reply:
    """What the fake answers one request with."""

    content: str | None = None
    status: int = 200
    body: bytes | None = None
    delay: float = 0.0
    refusal: str | None = None
    finish_reason: str = "stop"


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

    def script(self, *replies: Reply) -> None:
        self.replies = deque(replies)

    def reset(self) -> None:
        self.requests = []
        self.replies = deque([answer({"kind": "help"})])

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/chat/completions")
        async def complete(request: Request) -> Response:
            self.requests.append(
                Recorded(request.url.path, dict(request.headers), await request.json())
            )
            reply = self.replies.popleft() if len(self.replies) > 1 else self.replies[0]
            if reply.delay:
                await asyncio.sleep(reply.delay)
            if reply.body is not None:
                return Response(reply.body, reply.status, media_type="application/json")
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
    server = uvicorn.Server(config)
    # A thread of its own: the server outlives each test's event loop, and uvicorn
    # leaves signal handlers alone outside the main thread.
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError("the fake OpenAI server did not start")
        time.sleep(0.01)
    fake.base_url = f"http://127.0.0.1:{port}/v1"
    try:
        yield fake
    finally:
        server.should_exit = True
        server.force_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def fake(fake_server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> FakeOpenAI:
    # httpx honours proxy variables by default; 127.0.0.1 must be reached directly.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("all_proxy", raising=False)
    fake_server.reset()
    return fake_server


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


Make = Callable[..., Awaitable[tuple[LLMUnderstanding, StubRules]]]


@pytest.fixture
async def make(fake: FakeOpenAI) -> AsyncIterator[Make]:
    made: list[LLMUnderstanding] = []

    async def build(
        *, rules: StubRules | None = None, client: httpx.AsyncClient | None = None, **options: Any
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
        llm = LLMUnderstanding(LLMSettings(**settings), fallback=rules, client=client)
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
    fake.script(Reply(content='{"commands": [{"kind": "help"}]}', delay=2.0))
    started = time.monotonic()
    with caplog.at_level(logging.DEBUG):
        assert await llm.understand("hi", context()) == FALLBACK
    elapsed = time.monotonic() - started
    assert len(fake.requests) == 2  # timeouts are retried
    assert elapsed < 1.5  # the server would take 4 s
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
        (400, "set response_format: json_object"),
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
    assert settings.response_format == "json_schema"

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
        ({"response_format": "xml"}, "response_format", "json_schema, json_object, none"),
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
