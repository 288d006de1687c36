"""Three ``soni serve`` workers on one PostgreSQL database, clients spread over them.

Each worker is a real process with its own port, pools, listener and caches; what
one does, the others must know from the database alone: a conversation goes on
wherever its next message lands, a confirmation asked on one worker is decided on
another, and subscribers and long polls on a third hear of it at once.

The three workers serve every test of this module (each test has conversations of
its own): starting them is most of the cost.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from tests._postgres import create_database, drop_database
from tests.reliability._executions import Executions
from tests.reliability._process import SoniServer, soni_env
from tests.reliability.conftest import LEDGER

from ._sse import Event, EventStream
from ._workers import WAIT, client, texts, workers

LONG_POLL = 30.0
"""The ``?wait=`` of the long polls: a poll woken by a decision returns long before."""


class Cluster:
    """The module's three workers, the database they share and the executions file."""

    def __init__(self, servers: list[SoniServer], db: str, executions: Executions) -> None:
        self.servers = servers
        self.db = db
        self.executions = executions


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    folder = tmp_path_factory.mktemp("cluster")
    executions = Executions(folder / "executions.jsonl")
    env = {"SONI_RELIABILITY_EXECUTIONS": str(executions.path)}
    db = create_database()
    try:
        with workers(LEDGER, db, 3, cwd=folder, env=env) as servers:
            yield Cluster(servers, db, executions)
            errors = [error for server in servers for error in server.errors]
            assert not errors, "the workers logged errors:\n" + "\n".join(errors)
    finally:
        drop_database(db)


_RECEIPT = re.compile(r"\b([RE])-[0-9a-f]{6}\b")

SCRIPT = [
    "/payment",
    "12",
    "yes",
    "/visit",
    "/payment",
    "30",
    "no",
    '/payment{"amount": 5}',
    "yes",
]
"""A conversation of the ledger bot: two payments approved in the chat, one refused,
an unguarded action in between."""


def _same_shape(replies: list[list[str]]) -> list[list[str]]:
    """The replies with receipts and entries (derived from idempotency keys) blanked."""
    return [[_RECEIPT.sub(r"\1-*", text) for text in turn] for turn in replies]


def _pid(server: SoniServer) -> int:
    assert server.process is not None
    return server.process.pid


def _is(kind: str, **details: object) -> Callable[[Event], bool]:
    """An event of type ``kind`` whose data has these values."""

    def wanted(event: Event) -> bool:
        return event.type == kind and all(event.details.get(k) == v for k, v in details.items())

    return wanted


async def test_a_conversation_alternating_workers_answers_as_one_server_would(
    cluster: Cluster, record_property: pytest.RecordProperty
) -> None:
    a, b, c = cluster.servers
    async with client(a) as on_a, client(b) as on_b, client(c) as on_c:
        alone, spread = [], []
        for number, text in enumerate(SCRIPT):
            answer = await on_a.post("/conversations/one-worker/messages", json={"text": text})
            alone.append(texts(answer))
            worker = (on_a, on_b, on_c)[number % 3]
            answer = await worker.post("/conversations/alternating/messages", json={"text": text})
            spread.append(texts(answer))
        state = (await on_b.get("/conversations/alternating")).json()

    assert _same_shape(spread) == _same_shape(alone)
    assert spread[2][0].startswith("Paid 12: receipt R-"), spread
    assert "Paid" not in " ".join(spread[6]), spread
    assert spread[8][0].startswith("Paid 5: receipt R-"), spread
    assert state["slots"]["amount"] == 5.0
    assert state["status"] == "ended"
    # The two approved payments and the note ran once each, in the worker that
    # served their turn: "yes" (turn 2) on C, "/visit" (turn 3) on A, "yes" (turn 8) on C.
    ran = [run for run in cluster.executions.read() if run.conversation == "alternating"]
    assert [run.action for run in ran] == ["pay", "note", "pay"]
    assert [run.pid for run in ran] == [_pid(c), _pid(a), _pid(c)]
    assert not cluster.executions.doubles()
    record_property(
        "figure",
        f"alternating workers: {len(SCRIPT)} turns over 3 workers, replies as on one worker,"
        f" {len(ran)} actions run once each",
    )


async def test_a_decision_on_another_worker_reaches_a_third_workers_stream_and_long_poll(
    cluster: Cluster, record_property: pytest.RecordProperty
) -> None:
    a, b, c = cluster.servers
    conversation = "decided-elsewhere"
    async with (
        client(a) as on_a,
        client(b) as on_b,
        client(c) as on_c,
        EventStream(c.url, conversation) as stream,
    ):
        path = f"/conversations/{conversation}/messages"
        assert texts(await on_a.post(path, json={"text": "/payment"})) == ["How much?"]
        asked = await on_a.post(path, json={"text": "7"})
        assert texts(asked) == ["Pay 7?"]
        (pending,) = asked.json()["pending"]
        confirmation_id, token = pending["id"], pending["token"]

        # The turn served by A, on C's stream.
        await stream.first(
            lambda e: (
                e.type == "turn"
                and e.details.get("status") == "awaiting_confirmation"
                and [r["text"] for r in e.details.get("replies", [])] == ["Pay 7?"]
            ),
            "A's turn asking 'Pay 7?'",
        )
        requested = await stream.first(_is("confirmation_requested"), "confirmation_requested")
        assert requested.details["confirmation_id"] == confirmation_id
        # Every worker shows the live token: each derives it from the shared secret.
        for worker in (on_a, on_b, on_c):
            shown = (await worker.get(f"/conversations/{conversation}")).json()
            assert [p["token"] for p in shown["pending"]] == [token], shown

        polled = asyncio.ensure_future(
            on_c.get(f"/confirmations/{token}", params={"wait": LONG_POLL})
        )
        started = time.monotonic()
        decided = await on_b.post(f"/confirmations/{token}/approve")
        follow_up = texts(decided)
        assert follow_up[0].startswith("Paid 7: receipt R-"), follow_up
        polled_answer = await polled
        waited = time.monotonic() - started

        assert polled_answer.status_code == 200, polled_answer.text
        assert polled_answer.json()["status"] in {"approved", "executing", "executed"}
        # Woken by B's decision, not by its own wait running out.
        assert waited < LONG_POLL / 2, f"the long poll on C answered after {waited:.1f} s"

        decision = await stream.first(
            _is("confirmation_decided", confirmation_id=confirmation_id), "confirmation_decided"
        )
        assert decision.details["status"] == "approved"
        assert decision.details["actor"]["channel"] == "http"
        executed = await stream.first(
            _is("action_executed", confirmation_id=confirmation_id), "action_executed"
        )
        assert executed.details["ok"] is True
        await stream.first(
            lambda e: (
                e.type == "turn" and [r["text"] for r in e.details.get("replies", [])] == follow_up
            ),
            "B's follow-up turn",
        )
        # A, where the conversation's last message was answered, shows B's follow-up.
        shown = (await on_a.get(f"/conversations/{conversation}")).json()
        assert [r["text"] for r in shown["replies"]] == follow_up
        assert shown["pending"] == []
        assert shown["status"] == "ended"

    (run,) = cluster.executions.of(confirmation_id)
    assert run.pid == _pid(b)  # it ran on B, once
    record_property(
        "figure",
        f"decided on another worker: long poll on a third woke in {waited * 1000:.0f} ms"
        f" (wait {LONG_POLL:.0f} s), its stream saw the turn, decision and follow-up",
    )


def _soni(*args: str) -> subprocess.CompletedProcess[str]:
    """``soni ARGS`` in a process of its own, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "soni", *args],
        capture_output=True, text=True, timeout=WAIT * 2, env=soni_env(), check=False,
    )  # fmt: skip


async def test_an_approval_on_the_command_line_wakes_a_workers_long_poll_and_stream(
    cluster: Cluster, record_property: pytest.RecordProperty
) -> None:
    a, b, c = cluster.servers
    conversation = "approved-by-cli"
    async with (
        client(b) as on_b,
        client(c) as on_c,
        EventStream(a.url, conversation) as stream,
    ):
        path = f"/conversations/{conversation}/messages"
        asked = await on_b.post(path, json={"text": '/payment{"amount": 3}'})
        assert texts(asked) == ["Pay 3?"]
        (pending,) = asked.json()["pending"]
        confirmation_id, token = pending["id"], pending["token"]
        await stream.first(_is("confirmation_requested", confirmation_id=confirmation_id))

        polled = asyncio.ensure_future(
            on_c.get(f"/confirmations/{token}", params={"wait": LONG_POLL})
        )
        started = time.monotonic()
        done = await asyncio.to_thread(
            _soni, "confirmations", "approve", confirmation_id, "--db", cluster.db
        )
        assert done.returncode == 0, done.stderr
        polled_answer = await polled
        waited = time.monotonic() - started

        assert polled_answer.status_code == 200, polled_answer.text
        assert polled_answer.json()["status"] == "approved"
        assert waited < LONG_POLL / 2, f"the long poll answered after {waited:.1f} s"
        decision = await stream.first(
            _is("confirmation_decided", confirmation_id=confirmation_id), "confirmation_decided"
        )
        assert decision.details["status"] == "approved"
        assert decision.details["actor"]["channel"] == "cli"

        # The conversation reads the decision at its next turn, on any worker: the
        # action runs then, once.
        assert cluster.executions.count(confirmation_id) == 0
        answer = await on_c.post(path, json={"text": "hello"})
        assert any(text.startswith("Paid 3") for text in texts(answer)), answer.text
    assert cluster.executions.count(confirmation_id) == 1
    record_property(
        "figure",
        f"decided on the command line: a worker's long poll woke in {waited * 1000:.0f} ms"
        " (the command's start-up included), its stream saw the decision",
    )
