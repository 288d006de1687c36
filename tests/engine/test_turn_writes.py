"""What a turn writes to the confirmation store, and that it does not read back its own writes.

A "yes" typed in the chat for a guarded action is recorded with the claim to run
it, in one durable write; a "no", or a yes for a ``confirm`` step, is a plain
decision. Either way the audit history tells the whole story.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from soni.confirmations import ConfirmationRegistry, SqliteConfirmationStore, Status
from soni.engine import Bot

from .conftest import BotFactory
from .test_banking import IBAN, sent_in

START = '/transfer_funds{"beneficiary": "Bob", "amount": 50}'


class CountingStore:
    """Counts the calls a bot makes to its confirmation store."""

    def __init__(self, bot: Bot) -> None:
        self.calls: Counter[str] = Counter()
        store = bot.engine.confirmations.store
        for name in ("get", "find_open_by_key", "find_by_token_hash", "insert", "transition"):
            setattr(store, name, self._counted(name, getattr(store, name)))

    def _counted(self, name: str, method: Any) -> Any:
        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return await method(*args, **kwargs)

        return counted

    def take(self) -> dict[str, int]:
        calls = dict(self.calls)
        self.calls.clear()
        return calls


async def test_a_yes_in_chat_is_one_write_with_the_claim_and_one_with_the_result(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot()
    store = CountingStore(bot)
    await bot.handle("w1", START, user_id="u1")
    store.take()

    asked = await bot.handle("w1", IBAN, user_id="u1")
    # Registering: one insert; the pending view is built from the record in hand.
    assert store.take() == {"insert": 1}
    done = await bot.handle("w1", "yes", user_id="u1")

    assert done.texts[0].startswith("Done: 50 EUR sent to Bob")
    assert len(sent_in("w1")) == 1
    # No read: the record as registered is at hand; one write for approve +
    # begin, one for the result.
    assert store.take() == {"transition": 2}
    record = await bot.engine.confirmations.get_by_id(asked.pending[0].confirmation_id)
    assert record is not None and record.status is Status.EXECUTED
    history = await bot.engine.confirmations.history(record.id)
    assert [(h.from_status, h.to_status) for h in history] == [
        (None, Status.PENDING),
        (Status.PENDING, Status.APPROVED),
        (Status.APPROVED, Status.EXECUTING),
        (Status.EXECUTING, Status.EXECUTED),
    ]
    assert history[1].actor.user_id == "u1" and history[1].actor.channel == "chat"


async def test_a_no_in_chat_is_a_plain_decision_and_nothing_runs(make_bot: BotFactory) -> None:
    bot = await make_bot()
    await bot.handle("w2", START, user_id="u1")
    asked = await bot.handle("w2", IBAN, user_id="u1")

    result = await bot.handle("w2", "no", user_id="u1")

    assert result.texts == ["Nothing was sent."]
    assert sent_in("w2") == []
    history = await bot.engine.confirmations.history(asked.pending[0].confirmation_id)
    assert [h.to_status for h in history] == [Status.PENDING, Status.SKIPPED]


async def test_a_choice_in_chat_is_recorded_with_its_claim(make_bot: BotFactory) -> None:
    bot = await make_bot("file_assistant")
    await bot.handle("w3", "I want to tidy up a file", user_id="u1")
    offered = await bot.handle("w3", "report.pdf", user_id="u1")

    result = await bot.handle("w3", "/choose archive_file", user_id="u1")

    assert result.texts == ["Done: report.pdf archived."]
    history = await bot.engine.confirmations.history(offered.pending[0].confirmation_id)
    assert [h.to_status for h in history] == [
        Status.PENDING,
        Status.APPROVED,
        Status.EXECUTING,
        Status.EXECUTED,
    ]


async def test_an_approval_that_expired_before_the_yes_runs_nothing(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot()
    await bot.handle("w4", START, user_id="u1")
    asked = await bot.handle("w4", IBAN, user_id="u1")
    confirmation_id = asked.pending[0].confirmation_id
    # Time runs out between the question and the answer.
    registry = bot.engine.confirmations
    real_clock = registry.clock
    registry.clock = lambda: real_clock() + (asked.pending[0].expires_at - real_clock()) * 2
    try:
        result = await bot.handle("w4", "yes", user_id="u1")
    finally:
        registry.clock = real_clock

    assert result.texts[0] == "The request to execute transfer expired, so I did not do it."
    assert sent_in("w4") == []
    record = await registry.get_by_id(confirmation_id)
    assert record is not None and record.status is Status.EXPIRED
    # The conversation goes on.
    again = await bot.handle("w4", START, user_id="u1")
    assert again.texts == ["What is their IBAN?"]


@pytest.mark.sqlite_only  # another process is a registry on the SQLite file
async def test_a_yes_after_a_decision_in_another_process_goes_by_the_stored_one(
    make_bot: BotFactory, tmp_path: Path
) -> None:
    db = tmp_path / "shared.db"
    bot = await make_bot(db=db)
    await bot.handle("w5", START, user_id="u1")
    asked = await bot.handle("w5", IBAN, user_id="u1")
    token = asked.pending[0].token
    assert token is not None
    # Another process (its own registry on the same file) records a skip.
    elsewhere = ConfirmationRegistry(SqliteConfirmationStore(db))
    try:
        await elsewhere.decide(token, "skip", actor="ops")
    finally:
        await elsewhere.aclose()

    result = await bot.handle("w5", "yes", user_id="u1")

    assert result.texts == ["Nothing was sent."]
    assert sent_in("w5") == []
    record = await bot.engine.confirmations.get_by_id(asked.pending[0].confirmation_id)
    assert record is not None and record.status is Status.SKIPPED


async def test_the_graph_runs_only_with_a_turn_to_hand_its_nodes(make_bot: BotFactory) -> None:
    # What a turn knows besides the state (the records it wrote, a decision typed
    # for the step about to run) is handed to every node; a run without it is a
    # bug in whatever runs the graph, not a turn that silently forgets.
    bot = await make_bot()
    start = {"message": {"text": "hello"}, "replies": [], "steps": 0, "conversation_id": "w6"}

    with pytest.raises(TypeError, match="runs with a Turn as its context"):
        await bot.graph.ainvoke(start, {"configurable": {"thread_id": "w6"}})

    assert (await bot.handle("w6", "hello")).texts  # the conversation itself is fine
