"""The server's side of action workers, on a real server, with a worker played by the
test over a raw WebSocket (docs/workers.md): what it announces becomes a remote entry,
calls go to it once, its answers, failures and disconnects become the action's outcome,
and a worker's mistakes never stop the server."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from soni.actions.errors import ActionNotFound
from soni.server import ServerSettings

from .conftest import HTTP_LAYER, Serve, Served

pytestmark = HTTP_LAYER

BOT = """
version: "1.0"
slots:
  amount: {type: float, prompt: "How much?"}
  reference: {type: text}
actions:
  remote_pay:
    description: "pays, in a worker"
    inputs: [amount]
    outputs: [reference]
    confirm: "Pay {amount}?"
  remote_report:
    description: "a report, in a worker"
flows:
  payment:
    description: "make a payment"
    steps:
      - {step: ask, type: collect, slot: amount}
      - {step: send, type: action, call: remote_pay, on_error: failed}
      - {step: done, type: say, message: "paid {amount}: {reference}", next: end}
      - {step: failed, type: say, message: "the payment did not go through"}
  report:
    description: "make a report"
    steps:
      - {step: work, type: action, call: remote_report, on_error: failed}
      - {step: done, type: say, message: "report ready", next: end}
      - {step: failed, type: say, message: "no report"}
"""

PAY = {
    "name": "remote_pay",
    "mode": "params",
    "params": ["amount"],
    "required": ["amount"],
    "takes_ctx": True,
}
REPORT = {"name": "remote_report", "mode": "none", "takes_ctx": True}


class FakeWorker:
    """A worker played by the test: announces, then sees each ``run_action``."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.commands: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
        self.frames: defaultdict[str | None, asyncio.Queue[dict[str, Any]]] = defaultdict(
            asyncio.Queue
        )
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.socket:
                frame = json.loads(raw)
                payload = frame["payload"]
                if payload.get("type") == "instruction" and payload.get("name") == "run_action":
                    self.commands.put_nowait((frame["session_id"], payload["args"]))
                else:
                    self.frames[frame["session_id"]].put_nowait(payload)

    async def send(self, session_id: str, payload: dict[str, Any]) -> None:
        frame = {"session_id": session_id, "local_timestamp": None, "payload": payload}
        await self.socket.send(json.dumps(frame))

    async def call(self, session_id: str, name: str, **args: Any) -> dict[str, Any]:
        await self.send(session_id, {"type": "instruction", "name": name, "args": args})
        return await self.next(session_id)

    async def next(self, session_id: str | None) -> dict[str, Any]:
        return await asyncio.wait_for(self.frames[session_id].get(), 10)

    async def announce(self, worker: str, *actions: dict[str, Any]) -> dict[str, Any]:
        return await self.call(f"announce-{worker}", "announce", worker=worker, actions=actions)

    async def command(self) -> tuple[str, dict[str, Any]]:
        return await asyncio.wait_for(self.commands.get(), 10)

    async def answer(self, session_id: str, result: Any) -> None:
        await self.send(session_id, {"type": "response", "ok": True, "result": result})

    async def refuse(self, session_id: str, slug: str, detail: str, *, started: bool) -> None:
        error = {
            "type": f"urn:soni:problem:{slug}",
            "title": slug,
            "status": 500,
            "detail": detail,
            "started": started,
        }
        await self.send(session_id, {"type": "response", "ok": False, "error": error})

    async def close(self) -> None:
        await self.socket.close()
        await self._reader


@contextlib.asynccontextmanager
async def worker(server: Served, key: str | None = None) -> AsyncIterator[FakeWorker]:
    ws_url = "ws" + server.url.removeprefix("http") + "/ws"
    headers = {"Authorization": f"Bearer {key}"} if key else None
    async with connect(ws_url, additional_headers=headers, open_timeout=10) as socket:
        fake = FakeWorker(socket)
        try:
            yield fake
        finally:
            await fake.close()


@pytest.fixture
def bot(tmp_path: Path) -> Path:
    folder = tmp_path / "bot"
    folder.mkdir()
    (folder / "bot.yaml").write_text(BOT)
    return folder


@pytest.fixture
def served(serve: Serve, bot: Path) -> Served:
    return serve(bot, remote_actions=True)


async def say(client: httpx.AsyncClient, conversation: str, text: str) -> dict[str, Any]:
    response = await client.post(f"/conversations/{conversation}/messages", json={"text": text})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def texts(body: dict[str, Any]) -> list[str]:
    return [reply["text"] for reply in body["replies"]]


async def test_an_announced_action_is_a_remote_entry_and_runs_in_the_worker(
    served: Served,
) -> None:
    async with worker(served) as payments, served.async_client() as client:
        answer = await payments.announce("payments-1", PAY, REPORT)
        assert answer == {
            "type": "response",
            "ok": True,
            "result": {"worker": "payments-1", "actions": ["remote_pay", "remote_report"]},
        }
        listed = (await client.get("/actions")).json()
        assert listed["remote"] == {
            "remote_pay": ["payments-1"],
            "remote_report": ["payments-1"],
        }

        await say(client, "c1", "make a payment")
        pending = (await say(client, "c1", "40"))["pending"][0]
        approving = asyncio.create_task(client.post(f"/confirmations/{pending['token']}/approve"))
        session_id, args = await payments.command()
        assert args["action"] == "remote_pay"
        assert args["slots"] == {"amount": 40.0}  # what the handler takes, nothing more
        assert args["reconcile"] is False
        assert args["context"]["conversation_id"] == "c1"
        assert args["context"]["idempotency_key"]
        assert args["context"]["flow"] == "payment" and args["context"]["step"] == "send"
        assert args["deadline"] > 0
        await payments.answer(session_id, {"reference": "TX-7"})
        decided = (await approving).json()
        assert texts(decided)[-1] in ("paid 40: TX-7", "paid 40.0: TX-7")
        assert decided["confirmation"]["status"] == "executed"
        assert payments.commands.empty()  # sent once


async def test_a_worker_failure_is_the_actions_failure_and_on_error_applies(
    served: Served,
) -> None:
    async with worker(served) as reports, served.async_client() as client:
        await reports.announce("reports-1", REPORT)
        turn = asyncio.create_task(say(client, "c1", "make a report"))
        session_id, _ = await reports.command()
        await reports.refuse(session_id, "action-failed", "KeyError: 'ledger'", started=True)
        assert texts(await turn) == ["no report"]


async def test_a_worker_lost_mid_action_fails_its_command_at_once(served: Served) -> None:
    async with served.async_client() as client:
        async with worker(served) as reports:
            await reports.announce("reports-1", REPORT)
            turn = asyncio.create_task(say(client, "c1", "make a report"))
            await reports.command()
        # The worker's connection is gone: the turn ends now, not at the deadline.
        body = await asyncio.wait_for(turn, 10)
        assert texts(body) == ["no report"]
        assert (await client.get("/actions")).json()["remote"] == {}


async def first_command(
    *workers: FakeWorker,
) -> tuple[FakeWorker, str, dict[str, Any]]:
    """The first ``run_action`` any of ``workers`` receives, and which one got it."""
    waiting = {asyncio.ensure_future(fake.command()): fake for fake in workers}
    done, pending = await asyncio.wait(waiting, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    assert done, "no worker received a command"
    task = next(iter(done))
    session_id, args = task.result()
    return waiting[task], session_id, args


async def test_not_started_is_retried_on_another_worker_and_started_never_is(
    served: Served,
) -> None:
    async with (
        worker(served) as first,
        worker(served) as second,
        served.async_client() as client,
    ):
        await first.announce("first", REPORT)
        await second.announce("second", REPORT)

        turn = asyncio.create_task(say(client, "c1", "make a report"))
        refusing, session_id, args = await first_command(first, second)
        await refusing.refuse(session_id, "worker-stopping", "stopping", started=False)
        other = second if refusing is first else first
        retry_id, retry_args = await other.command()
        assert retry_id != session_id
        assert retry_args["context"]["idempotency_key"] == args["context"]["idempotency_key"]
        await other.answer(retry_id, {})
        assert texts(await turn) == ["report ready"]

        # Started, then failed: never sent again, to anyone.
        turn = asyncio.create_task(say(client, "c2", "make a report"))
        failing, session_id, _ = await first_command(first, second)
        await failing.refuse(session_id, "action-failed", "boom", started=True)
        assert texts(await turn) == ["no report"]
        assert first.commands.empty() and second.commands.empty()


async def test_calls_go_to_the_worker_with_the_fewest_in_flight(served: Served) -> None:
    async with (
        worker(served) as first,
        worker(served) as second,
        served.async_client() as client,
    ):
        await first.announce("first", REPORT)
        await second.announce("second", REPORT)
        one = asyncio.create_task(say(client, "c1", "make a report"))
        busy, busy_session, _ = await first_command(first, second)
        idle = second if busy is first else first
        for conversation in ("c2", "c3"):
            # Each time the busy worker still holds its command: the idle one gets it
            # (turn about would send the second of these to the busy one).
            turn = asyncio.create_task(say(client, conversation, "make a report"))
            session_id, _ = await idle.command()
            await idle.answer(session_id, {})
            assert texts(await turn) == ["report ready"]
        assert busy.commands.empty()
        await busy.answer(busy_session, {})
        assert texts(await one) == ["report ready"]


async def test_an_answer_followed_at_once_by_the_close_still_counts(served: Served) -> None:
    # A worker that stops gracefully answers its last command and closes straight away.
    async with served.async_client() as client:
        async with worker(served) as reports:
            await reports.announce("reports-1", REPORT)
            turn = asyncio.create_task(say(client, "c1", "make a report"))
            session_id, _ = await reports.command()
            await reports.answer(session_id, {})
            await reports.socket.close()
        assert texts(await asyncio.wait_for(turn, 10)) == ["report ready"]


async def test_an_answer_over_the_frame_limit_fails_its_command_at_once(
    serve: Serve, bot: Path
) -> None:
    served = serve(bot, settings=ServerSettings(max_body_bytes=4096), remote_actions=True)
    async with worker(served) as reports, served.async_client() as client:
        await reports.announce("reports-1", REPORT)
        turn = asyncio.create_task(say(client, "c1", "make a report"))
        session_id, _ = await reports.command()
        await reports.answer(session_id, {"rows": "x" * 5000})
        assert texts(await asyncio.wait_for(turn, 10)) == ["no report"]  # not at the deadline
        assert reports.frames[session_id].empty()  # an answer is never answered
        assert (await reports.announce("reports-1", REPORT))["ok"] is True  # still connected


async def test_one_name_is_one_action_across_workers(served: Served) -> None:
    async with worker(served) as first, worker(served) as second:
        assert (await first.announce("first", PAY))["ok"] is True
        differs = await second.announce("second", {**PAY, "idempotent": True})
        assert differs["error"]["status"] == 409
        assert "differs from what worker first offers" in differs["error"]["detail"]
        twice = await second.announce("second", REPORT, REPORT)
        assert twice["error"]["status"] == 422 and "listed twice" in twice["error"]["detail"]
        same = await second.announce("second", {**PAY, "description": "another text"})
        assert same["ok"] is True


async def test_an_action_nobody_serves_says_what_the_workers_offer(served: Served) -> None:
    registry = served.app.state.soni.bot.actions
    async with served.async_client() as client:
        assert texts(await say(client, "c1", "make a report")) == ["no report"]
        with pytest.raises(ActionNotFound, match="no action worker is connected"):
            registry.resolve("remote_report")
        async with worker(served) as payments:
            await payments.announce("payments-1", PAY)
            assert texts(await say(client, "c2", "make a report")) == ["no report"]
            with pytest.raises(ActionNotFound) as caught:
                registry.resolve("remote_report")
            assert "1 action worker(s) connected, offering remote_pay" in str(caught.value)
            assert registry.resolve("remote_pay").scope == "remote"


async def test_progress_reaches_subscribers_and_the_worker_may_ask_for_its_conversation(
    served: Served,
) -> None:
    ws_url = "ws" + served.url.removeprefix("http") + "/ws"
    async with (
        worker(served) as reports,
        served.async_client() as client,
        connect(ws_url) as watcher,
    ):
        await reports.announce("reports-1", REPORT)
        await say(client, "c1", "hello")  # the conversation exists
        subscribe = {"type": "instruction", "name": "subscribe", "args": {"conversation_id": "c1"}}
        await watcher.send(json.dumps({"session_id": "w", "payload": subscribe}))
        assert json.loads(await watcher.recv())["payload"]["ok"] is True

        turn = asyncio.create_task(say(client, "c1", "make a report"))
        session_id, _ = await reports.command()
        await reports.send(session_id, {"type": "event", "event": "progress", "data": {"done": 50}})
        asked = {"type": "instruction", "name": "conversation"}
        await reports.send(session_id, asked)
        view = await reports.next(session_id)
        assert view["ok"] is True
        assert view["result"]["conversation_id"] == "c1"
        assert view["result"]["replies"]  # the conversation as its owner sees it
        await reports.send(session_id, {"type": "instruction", "name": "delete_everything"})
        refused = await reports.next(session_id)
        assert refused["ok"] is False and refused["error"]["status"] == 400
        await reports.answer(session_id, {})
        assert texts(await turn) == ["report ready"]

        async def progress() -> dict[str, Any]:
            while True:
                payload = json.loads(await watcher.recv())["payload"]
                if payload.get("event") == "action_progress":
                    return payload

        event = await asyncio.wait_for(progress(), 10)
        assert event["data"] == {"action": "remote_report", "data": {"done": 50}}


async def test_a_workers_mistakes_are_answered_or_ignored_and_it_stays_connected(
    served: Served,
) -> None:
    async with worker(served) as sloppy, served.async_client() as client:
        bad_name = await sloppy.announce("sloppy", {"name": "9 lives"})
        assert bad_name["ok"] is False
        assert bad_name["error"]["status"] == 422
        assert "9 lives" in bad_name["error"]["detail"]
        not_a_list = await sloppy.call("a2", "announce", worker="sloppy", actions="all")
        assert not_a_list["ok"] is False and not_a_list["error"]["status"] == 422
        missing = await sloppy.announce("sloppy", {**PAY, "required": ["amount", "iban"]})
        assert missing["ok"] is False and "iban" in missing["error"]["detail"]

        await sloppy.socket.send("this is not JSON")
        assert (await sloppy.next(None))["error"]["status"] == 400

        assert (await sloppy.announce("sloppy", REPORT))["ok"] is True
        await sloppy.answer("cmd-never-sent", {"x": 1})  # a response for no command
        turn = asyncio.create_task(say(client, "c1", "make a report"))
        session_id, _ = await sloppy.command()
        await sloppy.answer(session_id, {})
        assert texts(await turn) == ["report ready"]
        assert sloppy.frames["cmd-never-sent"].empty()  # ignored, not answered


async def test_worker_keys_announce_and_chat_keys_do_not(serve: Serve, bot: Path) -> None:
    settings = ServerSettings(api_keys={"ak-alice": "alice"}, worker_keys={"wk-1": "payments"})
    served = serve(bot, settings=settings, remote_actions=True)
    async with worker(served, key="ak-alice") as chat:
        refused = await chat.announce("sneaky", REPORT)
        assert refused["error"]["status"] == 403
        assert "worker key" in refused["error"]["detail"]
    async with worker(served, key="wk-1") as payments:
        assert (await payments.announce("payments-1", REPORT))["ok"] is True
        chat_attempt = await payments.call("m", "message", conversation_id="c1", text="hi")
        assert chat_attempt["error"]["status"] == 403
        subscribe = await payments.call("s", "subscribe")
        assert subscribe["error"]["status"] == 403
    async with served.async_client("wk-1") as client:
        assert (await client.get("/conversations/c1")).status_code == 401
        assert (await client.get("/actions")).status_code == 401
    with pytest.raises(InvalidStatus):
        async with worker(served, key="wk-unknown"):
            pass


async def test_without_keys_only_a_direct_loopback_connection_announces(
    serve: Serve, bot: Path
) -> None:
    served = serve(bot, remote_actions=True)
    ws_url = "ws" + served.url.removeprefix("http") + "/ws"
    proxied = {"X-Forwarded-For": "203.0.113.7"}
    async with connect(ws_url, additional_headers=proxied) as socket:
        fake = FakeWorker(socket)
        refused = await fake.announce("sneaky", REPORT)
        assert refused["error"]["status"] == 403
        assert "SONI_WORKER_KEYS" in refused["error"]["detail"]
        await fake.close()
    # Worker keys configured: a connection without one does not announce, loopback or not.
    keyed = serve(
        bot, settings=ServerSettings(worker_keys={"wk-1": "payments"}), remote_actions=True
    )
    async with worker(keyed) as keyless:
        refused = await keyless.announce("sneaky", REPORT)
        assert refused["error"]["status"] == 403


def test_worker_keys_are_not_also_api_keys() -> None:
    with pytest.raises(ValueError, match="both an API key and a worker key"):
        ServerSettings(api_keys={"k": "alice"}, worker_keys={"k": "payments"})
    assert ServerSettings.from_env(
        {"SONI_WORKER_KEYS": "wk-1=payments,wk-2=stock"}
    ).worker_keys == {
        "wk-1": "payments",
        "wk-2": "stock",
    }
