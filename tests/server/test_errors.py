"""Every error is a problem+json answer with the right status; bad input is never a 500."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from soni import ActionRegistry
from soni.server import ServerSettings
from soni.server.service import Conversations

from .conftest import HTTP_LAYER, LiveServer, Serve, write_test_bot

pytestmark = pytest.mark.in_process  # plain requests and answers: no socket needed

PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int, slug: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["type"] == f"urn:soni:problem:{slug}"
    assert body["title"] and body["detail"]


def test_unknown_conversations_and_tokens_answer_404(server: LiveServer) -> None:
    with server.client() as client:
        assert_problem(client.get("/conversations/nope"), 404, "conversation-not-found")
        assert_problem(client.delete("/conversations/nope"), 404, "conversation-not-found")
        assert_problem(
            client.get("/conversations/nope/confirmations"), 404, "conversation-not-found"
        )
        for token in ("x" * 32, "short", "%20", "a" * 600):
            assert_problem(client.get(f"/confirmations/{token}"), 404, "confirmation-not-found")
            assert_problem(
                client.post(f"/confirmations/{token}/approve"), 404, "confirmation-not-found"
            )
        assert_problem(client.get("/no/such/route"), 404, "not-found")
        assert_problem(client.put("/conversations/x"), 405, "method-not-allowed")


@HTTP_LAYER
def test_bodies_over_the_limit_answer_413(serve: Serve) -> None:
    server = serve(settings=ServerSettings(max_body_bytes=1000))
    with server.client() as client:
        declared = client.post("/conversations/big/messages", json={"text": "x" * 2000})
        assert_problem(declared, 413, "body-too-large")
        assert declared.json()["limit"] == 1000

        def chunks() -> Iterator[bytes]:
            # No Content-Length: the bytes actually read are counted.
            yield b'{"text": "'
            for _ in range(20):
                yield b"x" * 100
            yield b'"}'

        chunked = client.post(
            "/conversations/big/messages",
            content=chunks(),
            headers={"Content-Type": "application/json"},
        )
        assert_problem(chunked, 413, "body-too-large")
        decisions = client.post("/decisions", content=chunks())
        assert_problem(decisions, 413, "body-too-large")
        fine = client.post("/conversations/big/messages", json={"text": "balance"})
        assert fine.status_code == 200
        assert client.get("/conversations/big").status_code == 200


@HTTP_LAYER
def test_malformed_and_invalid_bodies_answer_422(server: LiveServer) -> None:
    with server.client() as client:
        url = "/conversations/c/messages"
        malformed = client.post(
            url, content=b'{"text": ', headers={"Content-Type": "application/json"}
        )
        assert_problem(malformed, 422, "invalid-request")
        assert malformed.json()["errors"][0]["type"] == "json_invalid"
        not_utf8 = client.post(
            url, content=b"\xff\xfe", headers={"Content-Type": "application/json"}
        )
        assert_problem(not_utf8, 422, "invalid-request")
        for body in ({}, {"text": 3}, {"text": "hi", "typo": 1}, {"text": None}, [1], "text"):
            assert_problem(client.post(url, json=body), 422, "invalid-request")
        assert_problem(client.post(url, content=b"text=hi"), 422, "invalid-request")
        assert_problem(
            client.get("/confirmations/x", params={"wait": "-1"}), 422, "invalid-request"
        )
        assert_problem(
            client.get("/confirmations/x", params={"wait": "soon"}), 422, "invalid-request"
        )
        assert_problem(
            client.get("/events", params={"conversation_id": ""}), 422, "invalid-request"
        )
        assert_problem(
            client.post(f"/conversations/{'c' * 300}/messages", json={"text": "hi"}),
            422,
            "invalid-request",
        )
        # Odd but valid input is a normal turn, never a 500.
        for text in ("", "\u0000", "/set amount=", "{" * 40, "💸" * 50, "x" * 20_000):
            answer = client.post(url, json={"text": text})
            assert answer.status_code == 200, text


UNREADABLE_BODIES = {
    # Raw bytes that are not UTF-8, inside otherwise valid JSON.
    b'{"text": "\xff\xfe", "option": "\xff", "message": "\xff"}': "not UTF-8 text",
    b"[" * 10_000 + b"]" * 10_000: "nested too deeply",
    b'{"text": ' + b"7" * 5_000 + b"}": "an integer longer than",
}


@HTTP_LAYER
def test_a_json_body_no_parser_can_read_is_a_422_on_every_json_route(server: LiveServer) -> None:
    with server.client() as client:
        document = client.get("/openapi.json").json()
        json_routes = [
            path.replace("{conversation_id}", "c").replace("{token}", "t" * 32)
            for path, item in document["paths"].items()
            for operation in item.values()
            if "application/json" in operation.get("requestBody", {}).get("content", {})
        ]
        assert sorted(json_routes) == [
            "/confirmations/tttttttttttttttttttttttttttttttt/choose",
            "/conversations/c/messages",
            "/decisions",
        ]
        for url in json_routes:
            for body, reason in UNREADABLE_BODIES.items():
                answer = client.post(
                    url, content=body, headers={"Content-Type": "application/json"}
                )
                # Not FastAPI's 400 "There was an error parsing the body".
                assert_problem(answer, 422, "invalid-request")
                assert reason in answer.json()["detail"], (url, answer.text)
        # Nothing was lost: the conversation takes its next message.
        assert client.post("/conversations/c/messages", json={"text": "hi"}).status_code == 200


@HTTP_LAYER
def test_a_405_lists_every_method_the_path_takes(server: LiveServer) -> None:
    with server.client() as client:
        # GET and DELETE /conversations/{id} are two routes; Starlette named the first only.
        for method in ("OPTIONS", "PUT", "PATCH", "POST"):
            answer = client.request(method, "/conversations/x")
            assert_problem(answer, 405, "method-not-allowed")
            assert answer.headers["allow"] == "DELETE, GET"
        assert client.options("/conversations/x/messages").headers["allow"] == "POST"
        assert client.delete("/confirmations/t").headers["allow"] == "GET"


class Gate:
    """The ``wait_a_bit`` action of the slow bot: it runs until the test opens the gate.

    The server runs on a thread of its own, so the gate is made of threading events;
    it counts the runs inside it, and the messages that reached the server.
    """

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.entered = threading.Event()
        self.changed = threading.Condition()
        self.inside = 0
        self.most_inside = 0
        self.messages = 0

    async def wait_a_bit(self) -> dict[str, str]:
        with self.changed:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
            self.changed.notify_all()
        self.entered.set()
        try:
            await asyncio.to_thread(self.opened.wait, TIMEOUT)
        finally:
            with self.changed:
                self.inside -= 1
                self.changed.notify_all()
        return {}

    async def until(self, condition: Callable[[], bool]) -> None:
        """Wait (off the test's event loop) for ``condition()``, under ``changed``."""

        def wait() -> None:
            with self.changed:
                assert self.changed.wait_for(condition, TIMEOUT), "the server never got there"

        await asyncio.to_thread(wait)


TIMEOUT = 10.0
"""Every wait on the server is bounded by this."""


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    gate = Gate()
    message = Conversations.message

    async def counted(self: Conversations, *args: Any, **kwargs: Any) -> Any:
        with gate.changed:
            gate.messages += 1
            gate.changed.notify_all()
        return await message(self, *args, **kwargs)

    monkeypatch.setattr(Conversations, "message", counted)
    yield gate
    gate.opened.set()  # a test that failed with the gate shut leaves nothing waiting


@pytest.fixture
def slow_bot(serve: Serve, tmp_path: Path, gate: Gate) -> Callable[..., LiveServer]:
    def blow_up() -> dict[str, str]:
        raise RuntimeError("kaboom")

    ActionRegistry.register("wait_a_bit")(gate.wait_a_bit)
    ActionRegistry.register("blow_up")(blow_up)
    ActionRegistry.register("pay")(lambda amount: {})
    folder = write_test_bot(tmp_path / "slow-bot")

    def start(settings: ServerSettings | None = None) -> LiveServer:
        return serve(bot=folder, settings=settings)

    return start


async def test_a_busy_conversation_answers_409_with_the_reject_policy(
    slow_bot: Callable[..., LiveServer], gate: Gate
) -> None:
    server = slow_bot(ServerSettings(busy_policy="reject"))
    async with server.async_client() as client:
        url = "/conversations/busy/messages"
        first = asyncio.create_task(client.post(url, json={"text": "/slow"}))
        await asyncio.to_thread(gate.entered.wait, TIMEOUT)  # its turn runs
        refused = await client.post(url, json={"text": "/slow"})
        assert_problem(refused, 409, "conversation-busy")
        other = await client.post("/conversations/idle/messages", json={"text": "/boom"})
        assert other.status_code == 200
        gate.opened.set()
        assert (await first).json()["replies"] == [{"text": "slow done", "kind": "text"}]
        after = await client.post(url, json={"text": "/boom"})
        assert after.status_code == 200


async def test_the_queue_policy_runs_concurrent_messages_one_after_another(
    slow_bot: Callable[..., LiveServer], gate: Gate
) -> None:
    server = slow_bot()
    async with server.async_client() as client:
        url = "/conversations/queued/messages"
        sent = [asyncio.create_task(client.post(url, json={"text": "/slow"})) for _ in range(3)]
        # All three reached the server while the first turn runs: they wait their turn.
        await gate.until(lambda: gate.messages == 3 and gate.inside == 1)
        gate.opened.set()
        answers = await asyncio.gather(*sent)
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert all(a.json()["replies"] == [{"text": "slow done", "kind": "text"}] for a in answers)
    assert gate.most_inside == 1


def test_metrics_count_turns_decisions_pending_and_failures(
    slow_bot: Callable[..., LiveServer],
) -> None:
    server = slow_bot()
    with server.client() as client:
        client.post("/conversations/m1/messages", json={"text": "/payment"})
        asked = client.post("/conversations/m1/messages", json={"text": "12"}).json()
        client.post("/conversations/m2/messages", json={"text": "/payment"})
        client.post("/conversations/m2/messages", json={"text": "13"})
        middle = client.get("/metrics")
        assert middle.headers["content-type"].startswith("text/plain")
        assert "soni_pending_confirmations 2.0" in middle.text
        client.post(f"/confirmations/{asked['pending'][0]['token']}/approve")
        failed = client.post("/conversations/m3/messages", json={"text": "/boom"})
        assert failed.json()["replies"] == [{"text": "Sorry, I couldn't blow up.", "kind": "text"}]
        text = client.get("/metrics").text
    assert 'soni_turns_total{kind="message"} 5.0' in text
    assert 'soni_turns_total{kind="decision"} 1.0' in text
    assert 'soni_turn_seconds_count{kind="message"} 5.0' in text
    assert 'soni_turn_seconds_bucket{kind="message",le="+Inf"} 5.0' in text
    assert "soni_pending_confirmations 1.0" in text
    assert 'soni_decisions_total{outcome="approved"} 1.0' in text
    assert "soni_action_failures_total 1.0" in text


@HTTP_LAYER
def test_metrics_count_errors_by_status(server: LiveServer) -> None:
    with server.client() as client:
        client.get("/conversations/nope")
        client.get("/conversations/nope")
        client.post("/conversations/c/messages", json={})
        text = client.get("/metrics").text
    assert 'soni_errors_total{status="404"} 2.0' in text
    assert 'soni_errors_total{status="422"} 1.0' in text


@HTTP_LAYER
def test_a_real_bug_is_a_500_problem_and_the_server_keeps_serving(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(Conversations, "conversation", broken)
    with server.client() as client:
        client.post("/conversations/c/messages", json={"text": "balance"})
        failed = client.get("/conversations/c")
        assert_problem(failed, 500, "internal-error")
        assert "a bug" not in failed.text  # internals stay in the log
        assert any(r.exc_info and "a bug" in str(r.exc_info[1]) for r in caplog.records)
        assert client.post("/conversations/c/messages", json={"text": "savings"}).status_code == 200


@HTTP_LAYER
def test_deeply_nested_json_to_decisions_is_a_422(server: LiveServer) -> None:
    with server.client() as client:
        response = client.post(
            "/decisions", content=b"[" * 60_000, headers={"Content-Type": "application/json"}
        )

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
