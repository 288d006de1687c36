"""A Worker against a real WebSocket server playing the server side of docs/workers.md:
what it announces, how it runs and answers run_action, its recent keys, reconnecting,
stopping and a refused key."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest

from soni.actions import ActionContext, ActionRegistry
from soni.worker import Announced, AnnounceRefused, Worker, WorkerUnauthorized

from ._server import FakeServer


class LogSeen(logging.Handler):
    """Sets ``seen`` once a record containing ``text`` is logged (from any thread)."""

    def __init__(self, text: str) -> None:
        super().__init__(logging.DEBUG)
        self.text = text
        self.seen = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.seen.set()


class Calls:
    """What the handlers saw, and gates the tests open."""

    def __init__(self) -> None:
        self.count: dict[str, int] = {}
        self.contexts: list[ActionContext] = []
        self.gate = asyncio.Event()
        self.entered = asyncio.Event()
        self.slow_entered = asyncio.Event()
        self.thread_gate = threading.Event()
        self.thread_entered = threading.Event()

    def note(self, name: str) -> None:
        self.count[name] = self.count.get(name, 0) + 1


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
def registry(calls: Calls) -> ActionRegistry:
    registry = ActionRegistry()

    def add(a: int, b: int = 1) -> dict[str, int]:
        """Add two numbers."""
        calls.note("add")
        return {"sum": a + b}

    async def greet(name: str, ctx: ActionContext) -> dict[str, str]:
        calls.contexts.append(ctx)
        assert ctx.session is not None
        await ctx.session.send({"type": "event", "event": "progress", "data": {"step": 1}})
        return {"greeting": f"Hello {name}"}

    async def ask(ctx: ActionContext) -> dict[str, Any]:
        assert ctx.session is not None
        await ctx.session.send({"type": "instruction", "name": "conversation"})
        answer = await ctx.session.recv()
        return {"asked": answer["result"]}

    def explode() -> None:
        raise LookupError("no account 'x'")

    async def slow() -> None:
        calls.slow_entered.set()
        await asyncio.Event().wait()

    def weird() -> dict[str, Any]:
        return {"when": object()}

    async def transfer(ctx: ActionContext) -> dict[str, str]:
        calls.note("transfer")
        calls.entered.set()
        await calls.gate.wait()
        return {"transaction_id": f"TX-{calls.count['transfer']}"}

    def blocking() -> dict[str, bool]:
        calls.thread_entered.set()
        assert calls.thread_gate.wait(10)
        return {"unblocked": True}

    def found(ctx: ActionContext) -> dict[str, str] | None:
        return {"transaction_id": "TX-1"} if ctx.idempotency_key == "k-done" else None

    registry.register_local("add", add)
    registry.register_local("greet", greet, description="Greets someone")
    registry.register_local("ask", ask)
    registry.register_local("explode", explode)
    registry.register_local("slow", slow)
    registry.register_local("weird", weird)
    registry.register_local("transfer", transfer, reconcile=found)
    registry.register_local("blocking", blocking)
    ActionRegistry.register_global("pay", lambda amount: {"paid": amount}, idempotent=True)
    return registry


@pytest.fixture
async def worker(server: FakeServer, registry: ActionRegistry) -> AsyncIterator[Worker]:
    async with Worker(
        server.url, registry=registry, name="payments", backoff=(0.01, 0.05), stop_timeout=5
    ) as running:
        yield running


# -- announce ---------------------------------------------------------------------------


async def test_it_announces_every_action_with_how_to_call_it(
    server: FakeServer, worker: Worker
) -> None:
    announce = await server.announced()

    assert announce["worker"] == worker.worker_id
    assert worker.worker_id.startswith("payments-")
    assert announce["concurrency"] == 16
    actions = {action["name"]: action for action in announce["actions"]}
    assert sorted(actions) == [
        "add", "ask", "blocking", "explode", "greet", "pay", "slow", "transfer", "weird",
    ]  # fmt: skip
    assert actions["add"] == {
        "name": "add",
        "mode": "params",
        "params": ["a", "b"],
        "required": ["a"],
        "takes_ctx": False,
        "idempotent": False,
        "reconcile": False,
        "description": "Add two numbers.",
    }
    assert actions["greet"]["takes_ctx"] is True
    assert actions["greet"]["description"] == "Greets someone"
    assert actions["transfer"]["reconcile"] is True and actions["transfer"]["mode"] == "none"
    assert actions["pay"]["idempotent"] is True  # a global action is served too
    assert worker.connected


async def test_a_refused_announce_stops_the_worker_with_the_servers_reason(
    server: FakeServer, registry: ActionRegistry
) -> None:
    server.refuse_announce = {
        "type": "urn:soni:problem:invalid-request",
        "title": "Invalid request",
        "status": 422,
        "detail": "actions[0].name: 'bad name' is not an action name",
    }

    with pytest.raises(AnnounceRefused, match=r"\(422\): actions\[0\]\.name: 'bad name'"):
        await Worker(server.url, registry=registry, backoff=(0.01, 0.05)).run()
    assert server.announces.qsize() == 1  # not retried


# -- run_action -------------------------------------------------------------------------


async def test_a_sync_handler_runs_and_its_result_is_answered(
    server: FakeServer, worker: Worker
) -> None:
    answer = await server.run("add", {"a": 2, "b": 3})

    assert answer == {"type": "response", "ok": True, "result": {"sum": 5}, "replayed": False}


async def test_an_async_handler_sends_progress_in_its_session_before_its_answer(
    server: FakeServer, worker: Worker, calls: Calls
) -> None:
    session = await server.command("greet", {"name": "Bob"}, key="k-greet")

    progress = await server.next_payload(session)
    answer = await server.next_payload(session)

    assert progress == {"type": "event", "event": "progress", "data": {"step": 1}}
    assert answer["result"] == {"greeting": "Hello Bob"}
    ctx = calls.contexts[0]
    assert (ctx.conversation_id, ctx.user_id, ctx.flow) == ("c1", "alice", "f")
    assert ctx.idempotency_key == "k-greet"
    assert ctx.session is not None and ctx.session.session_id == session


async def test_a_handler_asks_the_server_and_receives_its_answer_in_the_session(
    server: FakeServer, worker: Worker
) -> None:
    answer = await server.run("ask")

    assert answer["ok"] is True
    assert answer["result"] == {"asked": {"conversation_id": "c1", "status": "awaiting_input"}}


async def test_a_handler_that_raises_is_answered_action_failed_with_its_message(
    server: FakeServer, worker: Worker
) -> None:
    answer = await server.run("explode")

    assert answer["ok"] is False
    assert answer["error"] == {
        "type": "urn:soni:problem:action-failed",
        "title": "Action failed",
        "status": 500,
        "detail": "LookupError: no account 'x'",
        "started": True,
    }


async def test_a_handler_past_its_deadline_is_answered_action_timeout(
    server: FakeServer, worker: Worker
) -> None:
    answer = await server.run("slow", deadline=0.05)

    error = answer["error"]
    assert error["type"] == "urn:soni:problem:action-timeout"
    assert error["started"] is True
    assert "deadline of 0.05 s passed before it finished" in error["detail"]


async def test_a_result_that_is_not_json_is_answered_invalid_result(
    server: FakeServer, worker: Worker
) -> None:
    answer = await server.run("weird")

    assert answer["error"]["type"] == "urn:soni:problem:invalid-result"
    assert "the result of 'weird' is not JSON" in answer["error"]["detail"]


async def test_an_unknown_action_is_answered_not_started_with_suggestions(
    server: FakeServer, worker: Worker
) -> None:
    answer = await server.run("ad")

    error = answer["error"]
    assert error["type"] == "urn:soni:problem:action-not-found"
    assert error["started"] is False
    assert "unknown action 'ad'" in error["detail"] and "'add'" in error["detail"]


async def test_a_missing_slot_is_answered_action_arguments(
    server: FakeServer, worker: Worker, calls: Calls
) -> None:
    answer = await server.run("add", {"b": 2})

    assert answer["error"]["type"] == "urn:soni:problem:action-arguments"
    assert answer["error"]["missing"] == ["a"]
    assert answer["error"]["started"] is False
    assert "add" not in calls.count


async def test_malformed_run_action_arguments_are_refused_without_running(
    server: FakeServer, worker: Worker, calls: Calls
) -> None:
    args = {"action": "add", "slots": {"a": 1}, "deadline": -3}
    await server.send("bad-1", {"type": "instruction", "name": "run_action", "args": args})

    answer = await server.answer("bad-1")

    assert answer["error"]["status"] == 422
    assert "'deadline': Input should be greater than 0" in answer["error"]["detail"]
    assert "add" not in calls.count


async def test_reconcile_asks_the_check_instead_of_the_handler(
    server: FakeServer, worker: Worker, calls: Calls
) -> None:
    happened = await server.run("transfer", key="k-done", reconcile=True)
    not_happened = await server.run("transfer", key="k-other", reconcile=True)

    assert happened["result"] == {"transaction_id": "TX-1"}
    assert not_happened["ok"] is True and not_happened["result"] is None
    assert "transfer" not in calls.count


async def test_a_blocking_sync_handler_does_not_block_the_worker(
    server: FakeServer, worker: Worker, calls: Calls
) -> None:
    blocked = await server.command("blocking")
    await asyncio.to_thread(calls.thread_entered.wait, 5)

    assert (await server.run("add", {"a": 1}))["result"] == {"sum": 2}
    assert worker.in_flight == 1

    calls.thread_gate.set()
    assert (await server.answer(blocked))["result"] == {"unblocked": True}


# -- recent keys ------------------------------------------------------------------------


async def test_the_same_key_twice_in_a_row_runs_once_and_the_second_is_replayed(
    server: FakeServer, worker: Worker, calls: Calls
) -> None:
    calls.gate.set()

    first = await server.run("transfer", key="k-1")
    second = await server.run("transfer", key="k-1")
    other = await server.run("transfer", key="k-2")

    assert first == {
        "type": "response",
        "ok": True,
        "result": {"transaction_id": "TX-1"},
        "replayed": False,
    }
    assert second == {**first, "replayed": True}
    assert other["result"] == {"transaction_id": "TX-2"}
    assert calls.count["transfer"] == 2


async def test_the_same_key_twice_at_once_runs_once_and_both_get_its_result(
    server: FakeServer, worker: Worker, calls: Calls
) -> None:
    first = await server.command("transfer", key="k-1")
    second = await server.command("transfer", key="k-1")
    await asyncio.wait_for(calls.entered.wait(), 5)
    assert worker.in_flight == 2

    calls.gate.set()
    answers = [await server.answer(first), await server.answer(second)]

    assert calls.count["transfer"] == 1
    assert [a["result"] for a in answers] == [{"transaction_id": "TX-1"}] * 2
    assert sorted(a["replayed"] for a in answers) == [False, True]


async def test_a_failure_is_replayed_too_never_run_again(
    server: FakeServer, worker: Worker
) -> None:
    first = await server.run("explode", key="k-x")
    second = await server.run("explode", key="k-x")

    assert first["error"] == second["error"]
    assert "replayed" not in first and second["replayed"] is True


# -- reconnecting -----------------------------------------------------------------------


async def test_it_reconnects_and_announces_again_after_the_server_closes_the_connection(
    server: FakeServer, registry: ActionRegistry
) -> None:
    seen: list[Announced] = []
    async with Worker(
        server.url, registry=registry, backoff=(0.01, 0.05), on_announce=seen.append
    ) as worker:
        first = await server.announced()
        assert server.connection is not None
        await server.connection.close(1011, "server restarting")

        second = await server.announced()

        assert first["worker"] == second["worker"] == worker.worker_id
        assert (await server.run("add", {"a": 1}))["result"] == {"sum": 2}
    assert [a.connection for a in seen] == [1, 2]
    assert [a.reconnected for a in seen] == [False, True]
    assert "add" in seen[0].actions


async def test_it_keeps_trying_while_the_server_is_down_and_connects_when_it_is_back(
    server: FakeServer, registry: ActionRegistry
) -> None:
    refused = LogSeen("cannot connect to")
    logging.getLogger("soni.worker").addHandler(refused)
    announced: asyncio.Queue[Announced] = asyncio.Queue()
    try:
        async with Worker(
            server.url, registry=registry, backoff=(0.01, 0.02), on_announce=announced.put_nowait
        ) as worker:
            await server.stop()  # listening stops: connecting is refused for a while
            assert await asyncio.to_thread(refused.seen.wait, 5)
            handshakes = server.handshakes

            await server.start()  # on the same port
            first = await asyncio.wait_for(announced.get(), 5)
            again = await asyncio.wait_for(announced.get(), 5)

            assert first.connection == 1
            assert again.connection == 2
            assert worker.connected
            assert server.handshakes == handshakes + 1
    finally:
        logging.getLogger("soni.worker").removeHandler(refused)


async def test_a_key_remembered_across_a_reconnection_is_still_replayed(
    server: FakeServer, worker: Worker, calls: Calls
) -> None:
    calls.gate.set()
    first = await server.run("transfer", key="k-1")
    assert server.connection is not None
    await server.connection.close()
    await server.announced()  # the first announce
    await server.announced()  # the one after reconnecting

    again = await server.run("transfer", key="k-1")

    assert again == {**first, "replayed": True}
    assert calls.count["transfer"] == 1


# -- stopping ---------------------------------------------------------------------------


async def test_stop_lets_a_running_command_finish_and_refuses_new_ones(
    server: FakeServer, registry: ActionRegistry, calls: Calls
) -> None:
    worker = Worker(server.url, registry=registry, backoff=(0.01, 0.05), stop_timeout=5)
    await worker.__aenter__()
    running = await server.command("transfer", key="k-1")
    await asyncio.wait_for(calls.entered.wait(), 5)

    stopping = asyncio.create_task(worker.aclose())
    refused = await server.run("add", {"a": 1})
    calls.gate.set()
    finished = await server.answer(running)
    await asyncio.wait_for(stopping, 5)

    assert refused["error"]["type"] == "urn:soni:problem:worker-stopping"
    assert refused["error"]["started"] is False
    assert finished["result"] == {"transaction_id": "TX-1"}
    assert not worker.connected and worker.in_flight == 0
    assert "add" not in calls.count


async def test_a_stopping_worker_answers_a_key_it_ran_from_its_record_not_started(
    server: FakeServer, registry: ActionRegistry, calls: Calls
) -> None:
    # "Not started" lets the server send a command elsewhere: never for a key already run.
    worker = Worker(server.url, registry=registry, backoff=(0.01, 0.05), stop_timeout=5)
    await worker.__aenter__()
    first = await server.run("add", {"a": 1, "b": 2}, key="k-ran")
    running = await server.command("transfer", key="k-holding")
    await asyncio.wait_for(calls.entered.wait(), 5)

    stopping = asyncio.create_task(worker.aclose())
    again = await server.run("add", {"a": 1, "b": 2}, key="k-ran")
    new = await server.run("add", {"a": 1, "b": 2}, key="k-new")
    calls.gate.set()
    await server.answer(running)
    await asyncio.wait_for(stopping, 5)

    assert again["ok"] is True and again["replayed"] is True
    assert again["result"] == first["result"]
    assert new["error"]["type"] == "urn:soni:problem:worker-stopping"
    assert calls.count["add"] == 1


async def test_stop_cancels_what_still_runs_at_its_timeout(
    server: FakeServer, registry: ActionRegistry, calls: Calls, caplog: pytest.LogCaptureFixture
) -> None:
    worker = Worker(server.url, registry=registry, backoff=(0.01, 0.05), stop_timeout=0.05)
    await worker.__aenter__()
    await server.command("slow", deadline=None)
    await asyncio.wait_for(calls.slow_entered.wait(), 5)
    assert worker.in_flight == 1

    await asyncio.wait_for(worker.aclose(), 5)

    assert worker.in_flight == 0
    assert "1 command(s) still running at the stop timeout: cancelled" in caplog.text


# -- a refused key ----------------------------------------------------------------------


async def test_a_key_refused_at_the_handshake_raises_and_is_not_retried(
    server: FakeServer, registry: ActionRegistry
) -> None:
    from http import HTTPStatus

    server.refuse_with = HTTPStatus.UNAUTHORIZED
    worker = Worker(server.url, registry=registry, api_key="wk-wrong", backoff=(0.01, 0.05))

    with pytest.raises(WorkerUnauthorized, match=r"refused the worker \(HTTP 401\)") as caught:
        await asyncio.wait_for(worker.run(), 5)

    assert caught.value.status == 401
    assert server.handshakes == 1
    assert server.authorization == ["Bearer wk-wrong"]


async def test_a_forbidden_key_raises_from_async_with(
    server: FakeServer, registry: ActionRegistry
) -> None:
    from http import HTTPStatus

    server.refuse_with = HTTPStatus.FORBIDDEN

    with pytest.raises(WorkerUnauthorized) as caught:
        async with Worker(server.url, registry=registry, api_key="chat-key"):
            pass
    assert caught.value.status == 403


async def test_a_worker_runs_once(server: FakeServer, registry: ActionRegistry) -> None:
    worker = Worker(server.url, registry=registry)
    async with worker:
        pass

    with pytest.raises(Exception, match="already ran"):
        await worker.run()
