"""Action workers end to end: a ``soni serve`` process and two ``soni worker``
processes on 127.0.0.1, the bot served without its handlers (``--no-local-actions``).

The handlers (tests/worker/bots/remote/actions.py) record every run in a file before
anything else, so what ran — where, how often — is read from disk, not from what
either end says. A worker SIGKILLed in the middle of an approved action fails the
confirmation, and soni never runs that action again, on the other worker or anywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.reliability._executions import Execution, Executions
from tests.reliability._process import SoniServer, soni_env
from tests.server.conftest import sse_events

from ._processes import WAIT, Signals, WorkerProcess

pytestmark = pytest.mark.server  # soni serve and soni worker, processes of their own

ROOT = Path(__file__).resolve().parents[2]
BOT = Path(__file__).resolve().parent / "bots" / "remote"
BANKING = ROOT / "examples" / "banking"


@dataclass
class Deployment:
    server: SoniServer
    workers: list[WorkerProcess]
    executions: Executions

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.server.url, timeout=WAIT, trust_env=False)

    def runs(self, action: str) -> list[Execution]:
        return [run for run in self.executions.read() if run.action == action]

    def worker(self, pid: int) -> WorkerProcess:
        return next(worker for worker in self.workers if worker.pid == pid)


@contextlib.contextmanager
def deployment(
    bot: Path, tmp_path: Path, *, workers: int, handlers: Path, env: dict[str, str]
) -> Iterator[Deployment]:
    """``soni serve BOT --no-local-actions`` and ``workers`` ``soni worker HANDLERS``
    connected to it; every process killed when the block ends, however it ends."""
    executions = tmp_path / "executions.jsonl"
    env = soni_env(SONI_E2E_EXECUTIONS=str(executions), **env)
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(
            SoniServer(
                bot, tmp_path / "state.db", env, cwd=tmp_path, options=["--no-local-actions"]
            )
        )
        server.start()
        ws_url = "ws" + server.url.removeprefix("http") + "/ws"
        started = [
            stack.enter_context(
                WorkerProcess(handlers, ws_url, name=f"w{n}", env=env, cwd=tmp_path)
            )
            for n in range(1, workers + 1)
        ]
        with ThreadPoolExecutor(workers) as pool:
            for done in [pool.submit(worker.start) for worker in started]:
                done.result()  # raises why a worker did not connect, with its output
        yield Deployment(server, started, Executions(executions))
        assert not server.errors, "\n".join(server.errors)


@pytest.fixture
async def signals() -> AsyncIterator[Signals]:
    listening = await Signals().start()
    try:
        yield listening
    finally:
        await listening.close()


@pytest.fixture
def two_workers(tmp_path: Path, signals: Signals) -> Iterator[Deployment]:
    env = {"SONI_E2E_SIGNALS": signals.address}
    with deployment(BOT, tmp_path, workers=2, handlers=BOT / "actions.py", env=env) as started:
        yield started


async def say(client: httpx.AsyncClient, conversation: str, text: str) -> dict[str, Any]:
    response = await client.post(f"/conversations/{conversation}/messages", json={"text": text})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def texts(body: dict[str, Any]) -> list[str]:
    return [reply["text"] for reply in body["replies"]]


async def ask_to_pay(client: httpx.AsyncClient, conversation: str, flow: str) -> str:
    """Start ``flow`` up to its confirmation; the confirmation's token."""
    body = await say(client, conversation, f'/{flow}{{"amount": 40}}')
    assert body["status"] == "awaiting_confirmation", body
    token: str = body["pending"][0]["token"]
    return token


async def test_an_approved_action_runs_once_in_a_worker_and_the_reply_carries_its_result(
    two_workers: Deployment,
) -> None:
    async with two_workers.client() as client:
        remote = (await client.get("/actions")).json()["remote"]
        assert sorted(remote["pay"]) == sorted(worker.worker_id for worker in two_workers.workers)
        token = await ask_to_pay(client, "c-pay", "payment")
        assert two_workers.runs("pay") == []  # nothing runs before the approval

        decided = await client.post(f"/confirmations/{token}/approve")

        assert decided.status_code == 200, decided.text
        body = decided.json()
        [run] = two_workers.runs("pay")
        assert run.pid in {worker.pid for worker in two_workers.workers}  # not the server
        assert run.conversation == "c-pay"
        reference = f"TX-{run.key[-8:]}-{run.pid}"
        assert body["confirmation"]["status"] == "executed"
        assert body["confirmation"]["result"] == {"reference": reference}
        assert texts(body)[-1] in (f"Paid 40: {reference}.", f"Paid 40.0: {reference}.")
        # The same approval again is answered with the decision taken, not run again.
        again = await client.post(f"/confirmations/{token}/approve")
        assert again.status_code == 200, again.text
        assert again.json()["confirmation"]["status"] == "executed"
        assert (await client.get(f"/confirmations/{token}")).json()["status"] == "executed"
    assert len(two_workers.runs("pay")) == 1  # once, approved twice


async def test_a_sync_and_an_async_handler_run_remotely_and_progress_reaches_sse(
    two_workers: Deployment,
) -> None:
    pids = {worker.pid for worker in two_workers.workers}
    async with two_workers.client() as client:
        sync = await say(client, "c-sync", "/sync_check")
        [sync_run] = two_workers.runs("sync_where")
        assert sync_run.pid in pids
        # A sync handler runs on a thread of the worker, not on its loop.
        assert texts(sync)[-1].startswith(f"sync: pid {sync_run.pid}, thread ")
        assert "MainThread" not in texts(sync)[-1]

        await say(client, "c-async", "hello")  # the conversation exists
        params = {"conversation_id": "c-async"}
        async with client.stream("GET", "/events", params=params) as stream:
            assert stream.status_code == 200
            events = sse_events(stream)
            assert (await anext(events))[0] == "subscribed"  # from now on nothing is missed
            turn = asyncio.create_task(say(client, "c-async", "/async_check"))
            progress: list[dict[str, Any]] = []
            async with asyncio.timeout(WAIT):
                async for event, data in events:
                    if event == "action_progress":
                        progress.append(data["data"])
                    if len(progress) == 2:
                        break
            answered = await turn
        [async_run] = two_workers.runs("async_where")
        assert async_run.pid in pids
        assert texts(answered)[-1] == f"async: pid {async_run.pid}, thread MainThread"
        assert progress == [
            {"action": "async_where", "data": {"done": 50}},
            {"action": "async_where", "data": {"done": 100}},
        ]


async def test_a_worker_killed_mid_action_fails_it_and_soni_never_runs_it_again(
    two_workers: Deployment, signals: Signals
) -> None:
    async with two_workers.client() as client:
        token = await ask_to_pay(client, "c-held", "slow_payment")
        approving = asyncio.create_task(client.post(f"/confirmations/{token}/approve"))
        held = await signals.next()  # the handler started, and waits
        victim = two_workers.worker(held.pid)
        survivor = next(worker for worker in two_workers.workers if worker is not victim)
        assert not approving.done()

        victim.kill()

        decided = await asyncio.wait_for(approving, WAIT)  # at once, not at the deadline
        assert decided.status_code == 200, decided.text
        body = decided.json()
        assert body["confirmation"]["status"] == "failed"
        assert "disconnected" in body["confirmation"]["error"]
        assert texts(body)[-1] == "The held payment failed."
        assert (await client.get(f"/confirmations/{token}")).json()["status"] == "failed"
        again = await client.post(f"/confirmations/{token}/approve")
        assert again.json()["confirmation"]["status"] == "failed", again.text

        # The survivor takes every call from now on: a payment, a sync and an async
        # handler, and another held payment it finishes.
        token = await ask_to_pay(client, "c-next", "payment")
        paid = (await client.post(f"/confirmations/{token}/approve")).json()
        assert paid["confirmation"]["status"] == "executed"
        await say(client, "c-sync", "/sync_check")
        await say(client, "c-async", "/async_check")
        token = await ask_to_pay(client, "c-held-2", "slow_payment")
        approving = asyncio.create_task(client.post(f"/confirmations/{token}/approve"))
        second = await signals.next()
        assert second.pid == survivor.pid
        await second.release()
        finished = (await asyncio.wait_for(approving, WAIT)).json()
        assert finished["confirmation"]["status"] == "executed"

    # What ran, from the handlers' own records: the killed run once, on the victim,
    # never again; everything after it on the survivor.
    held_runs = [run for run in two_workers.runs("hold") if run.key == held.key]
    assert [run.pid for run in held_runs] == [victim.pid]
    assert two_workers.executions.doubles() == {}
    later = [run for run in two_workers.executions.read() if run.key != held.key]
    assert [run.action for run in later] == ["pay", "sync_where", "async_where", "hold"]
    assert {run.pid for run in later} == {survivor.pid}
    assert signals.waiting == 0  # no handler started that nobody saw


async def test_the_banking_example_transfers_with_its_actions_in_a_worker(
    tmp_path: Path,
) -> None:
    with deployment(
        BANKING, tmp_path, workers=1, handlers=BANKING / "actions.py", env={}
    ) as banking:
        async with banking.client() as client:
            listed = (await client.get("/actions")).json()
            assert set(listed["remote"]) == {"execute_transfer", "get_balance"}
            assert listed["local"] == listed["global"] == []  # none run in the server
            await say(client, "c-bank", "send 50 euros to Bob")
            asked = await say(client, "c-bank", "DE89370400440532013000")
            assert asked["status"] == "awaiting_confirmation", asked
            token = asked["pending"][0]["token"]
            decided = (await client.post(f"/confirmations/{token}/approve")).json()
            assert decided["confirmation"]["status"] == "executed"
            transaction = decided["confirmation"]["result"]["transaction_id"]
            assert transaction.startswith("TX-")
            assert texts(decided)[-1] == (f"Done: 50 EUR sent to Bob. Reference {transaction}.")
            balance = await say(client, "c-balance", "what is my savings balance")
            assert texts(balance)[-1] == "Your savings balance is 8000 EUR."
