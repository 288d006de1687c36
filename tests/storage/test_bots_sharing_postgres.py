"""Bots sharing one PostgreSQL database: what one does, the others see at once.

Two ``Bot`` objects on one database stand for two workers (each has its own pools,
runner, listener and caches); the multi-process suite (tests/scale) does the same
with real ``soni serve`` processes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import pytest

from soni.actions import ActionSpec
from soni.engine import (
    ActionRan,
    Bot,
    BotEvent,
    ConfirmationChanged,
    ConversationReset,
    TurnCompleted,
)
from soni.server.metrics import Metrics

from ..engine.conftest import EXAMPLES
from ..engine.test_banking import IBAN, sent_in

Workers = Callable[[int], Awaitable[list[Bot]]]
SECRET = "the deployment's secret, shared by every worker"


@pytest.fixture
async def workers(
    handlers: Mapping[str, ActionSpec], postgres_database: str
) -> AsyncIterator[Workers]:
    bots: list[Bot] = []

    async def start(count: int) -> list[Bot]:
        started = [
            await Bot.load(EXAMPLES / "banking", db=postgres_database, secret=SECRET)
            for _ in range(count)
        ]
        bots.extend(started)
        return started

    yield start
    for bot in bots:
        await bot.aclose()


class Heard:
    """A bot's events, and a way to wait for the one a test expects."""

    def __init__(self, bot: Bot) -> None:
        self.events: list[Any] = []
        self._changed = asyncio.Event()
        bot.events.subscribe(self._add)

    def _add(self, event: BotEvent) -> None:
        self.events.append(event)
        self._changed.set()

    async def first(self, wanted: Callable[[Any], bool]) -> Any:
        async with asyncio.timeout(30):
            while True:
                for event in self.events:
                    if wanted(event):
                        return event
                self._changed.clear()
                await self._changed.wait()


async def test_a_conversation_alternating_workers_turn_by_turn_goes_on(workers: Workers) -> None:
    a, b = await workers(2)
    texts = ["I want to send money", "Bob", "50", IBAN, "yes"]
    answers = []
    for number, text in enumerate(texts):
        worker = (a, b)[number % 2]
        answers.append((await worker.handle("alt-1", text, user_id="u1")).texts)
    assert answers[:4] == [
        ["Who should receive the money?"],
        ["How much do you want to send?"],
        ["What is their IBAN?"],
        [f"Send 50 EUR to Bob ({IBAN})?"],
    ]
    assert answers[4][0].startswith("Done: 50 EUR sent to Bob.")
    assert [t["amount"] for t in sent_in("alt-1")] == [50.0]


async def test_another_workers_turn_reaches_this_workers_subscribers(workers: Workers) -> None:
    a, b = await workers(2)
    heard = Heard(a)
    await b.handle("seen-1", "I want to send money", user_id="u1")
    event = await heard.first(lambda e: isinstance(e, TurnCompleted) and e.remote)
    assert event.conversation_id == "seen-1"
    assert event.user_id == "u1"
    assert [r.text for r in event.replies] == ["Who should receive the money?"]
    assert event.status == "awaiting_input"


async def test_a_decision_on_another_worker_runs_once_and_wakes_waiters_here(
    workers: Workers,
) -> None:
    a, b = await workers(2)
    heard = Heard(a)
    for text in ["I want to send money", "Ann", "41"]:
        await a.handle("dec-1", text, user_id="u1")
    asked = await a.handle("dec-1", IBAN, user_id="u1")
    (pending,) = asked.pending
    assert pending.token is not None
    waiting = asyncio.create_task(a.confirmations.wait(pending.token, timeout=30))

    result = await b.decide(pending.token, "approve", actor="u1", channel="http")

    assert result.texts[0].startswith("Done: 41 EUR sent to Ann.")
    closed = await waiting  # woken by b's decision, not by its timeout
    assert closed.status.value in {"approved", "executing", "executed"}
    assert len(sent_in("dec-1")) == 1
    # Worker a's subscribers heard the decision and the follow-up turn.
    approved = await heard.first(
        lambda e: (
            isinstance(e, ConfirmationChanged) and e.confirmation.to_status.value == "approved"
        )
    )
    assert approved.remote and approved.conversation_id == "dec-1"
    ran = await heard.first(lambda e: isinstance(e, ActionRan))
    assert (ran.action, ran.outcome, ran.remote) == ("execute_transfer", "done", True)
    assert ran.confirmation_id == pending.confirmation_id
    await heard.first(lambda e: isinstance(e, TurnCompleted) and e.remote)
    # Worker a answers the chat's next message from where b left the conversation.
    assert (await a.handle("dec-1", "hello", user_id="u1")).status in {"ended", "active"}
    assert len(sent_in("dec-1")) == 1


async def test_a_reset_on_another_worker_is_heard_and_starts_afresh(workers: Workers) -> None:
    a, b = await workers(2)
    heard = Heard(a)
    await a.handle("rst-1", "I want to send money", user_id="u1")
    await b.reset("rst-1")
    await heard.first(lambda e: isinstance(e, ConversationReset) and e.remote)
    assert await a.state("rst-1") == {}
    assert (await a.handle("rst-1", "Bob", user_id="u1")).active_flow != "transfer_funds"


async def test_messages_to_one_conversation_on_two_workers_never_interleave(
    workers: Workers, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = await workers(2)
    await a.handle("many-1", "I want to send money", user_id="u1")
    # Retention keeps only the latest checkpoint, so the history is read as it is
    # written: the checkpoint each saved one was made from.
    parents: list[str | None] = []
    for bot in (a, b):
        put = bot.storage.checkpointer.aput

        async def recording(config: Any, *args: Any, put: Any = put) -> Any:
            parents.append(config["configurable"].get("checkpoint_id"))
            return await put(config, *args)

        monkeypatch.setattr(bot.storage.checkpointer, "aput", recording)
    # Ten concurrent messages split over the two workers. Were two turns to run at
    # once, both would start from the same checkpoint and one would overwrite the
    # other: the history would fork.
    results = await asyncio.gather(
        *(((a, b)[n % 2]).handle("many-1", "/check_balance", user_id="u1") for n in range(10))
    )
    assert all(r.replies for r in results)
    assert len(parents) == len(set(parents)), "two turns started from the same checkpoint"
    assert len(parents) >= 10


async def test_every_worker_shows_a_pending_confirmations_token(
    workers: Workers, postgres_database: str
) -> None:
    a, b = await workers(2)
    for text in ["I want to send money", "Ann", "41"]:
        await a.handle("tok-1", text, user_id="u1")
    (pending,) = (await a.handle("tok-1", IBAN, user_id="u1")).pending
    (seen,) = await b.pending("tok-1")
    assert seen.token == pending.token is not None
    # A worker without the secret cannot show it (and never shows a wrong one).
    other_secret = "another secret, of another deployment"
    stranger = await Bot.load(EXAMPLES / "banking", db=postgres_database, secret=other_secret)
    try:
        (unseen,) = await stranger.pending("tok-1")
        assert unseen.token is None
    finally:
        await stranger.aclose()


async def test_an_action_run_on_another_worker_is_heard_with_its_outcome(
    workers: Workers,
) -> None:
    a, b = await workers(2)
    heard = Heard(a)
    here: list[BotEvent] = []
    b.events.subscribe(here.append)
    await b.handle("run-1", "/check_balance", user_id="u1")
    await b.handle("run-1", "savings", user_id="u1")

    ran = await heard.first(lambda e: isinstance(e, ActionRan))
    assert (ran.conversation_id, ran.action, ran.outcome) == ("run-1", "get_balance", "done")
    assert ran.remote and ran.confirmation_id is None
    # The worker that ran it told its own subscribers first, as its own.
    (mine,) = [e for e in here if isinstance(e, ActionRan)]
    assert (mine.action, mine.outcome, mine.remote) == ("get_balance", "done", False)


async def test_a_workers_metrics_count_its_own_work_and_the_databases_pending(
    workers: Workers,
) -> None:
    a, b = await workers(2)
    heard = Heard(a)
    metrics = Metrics()
    stop = await metrics.attach(a)
    try:
        for text in ["I want to send money", "Cy", "42"]:
            await b.handle("met-1", text, user_id="u1")
        asked = await b.handle("met-1", IBAN, user_id="u1")
        await heard.first(lambda e: isinstance(e, ConfirmationChanged) and e.remote)
        assert "soni_pending_confirmations 1.0" in metrics.render().decode()

        (pending,) = asked.pending
        assert pending.token is not None
        await b.decide(pending.token, "approve", actor="u1", channel="http")
        await heard.first(lambda e: isinstance(e, ActionRan) and e.remote)
        text = metrics.render().decode()
    finally:
        stop()
    # The gauge is the database's: worker b's decision closed it here too. The
    # counters are worker a's own: b counts its decision, a does not count it again.
    assert "soni_pending_confirmations 0.0" in text
    assert 'soni_decisions_total{outcome="approved"}' not in text
