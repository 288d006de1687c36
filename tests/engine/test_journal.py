"""Actions without a confirmation also run at most once when a turn is retried after a crash."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from soni.engine.journal import (
    JournalEntry,
    MemoryActionJournal,
    SqliteActionJournal,
    run_key,
)

from .test_recovery import lose_the_next_checkpoint
from .test_steps import LoadBot, bot_handlers, calls_in, load

__all__ = ("bot_handlers", "load")  # fixtures used by name below


async def test_a_lookup_that_ran_before_a_lost_checkpoint_is_not_run_again(
    load: LoadBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await load("actions")
    assert (await bot.handle("j-1", "/quote")).texts == ["Which item?"]

    lose_the_next_checkpoint(bot, monkeypatch)
    crashed = await bot.handle("j-1", "pen")
    assert crashed.texts == ["Sorry, something went wrong on my side. Please try again."]
    assert calls_in("j-1") == ["steps_quote"]

    retried = await bot.handle("j-1", "pen")

    assert retried.texts == ["pen costs 12.5."]
    assert calls_in("j-1") == ["steps_quote"]


async def test_a_different_answer_after_the_crash_is_a_new_call(
    load: LoadBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await load("actions")
    await bot.handle("j-2", "/quote")
    lose_the_next_checkpoint(bot, monkeypatch)
    await bot.handle("j-2", "pen")

    result = await bot.handle("j-2", "ink")

    assert result.texts == ["ink costs 12.5."]
    assert calls_in("j-2") == ["steps_quote", "steps_quote"]


async def test_the_same_step_in_a_later_turn_runs_again(load: LoadBot) -> None:
    bot = await load("actions")
    for _ in range(2):
        await bot.handle("j-3", "/quote")
        assert (await bot.handle("j-3", "pen")).texts == ["pen costs 12.5."]

    assert calls_in("j-3") == ["steps_quote", "steps_quote"]


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
async def test_a_claim_is_granted_once_and_then_hands_back_the_outcome(
    kind: str, tmp_path: Path
) -> None:
    journal = (
        MemoryActionJournal() if kind == "memory" else SqliteActionJournal(str(tmp_path / "j.db"))
    )
    try:
        key = run_key("c:f1:look_up:3:2", {"item": "pen"})
        claims = await asyncio.gather(*(journal.claim(key, "r1") for _ in range(20)))
        assert claims.count(None) == 1
        assert {c for c in claims if c is not None} == {JournalEntry("running", runner="r1")}

        await journal.finish(key, result={"price": 12.5})
        assert await journal.claim(key, "r1") == JournalEntry("done", {"price": 12.5})

        failed = run_key("c:f1:look_up:4:2", {"item": "pen"})
        assert await journal.claim(failed, "r1") is None
        await journal.finish(failed, error="ActionFailed: boom")
        failure = JournalEntry("failed", error="ActionFailed: boom")
        assert await journal.claim(failed, "r1") == failure
    finally:
        await journal.close()


async def test_the_sqlite_journal_survives_a_restart(tmp_path: Path) -> None:
    path = str(tmp_path / "j.db")
    key = run_key("c:f1:look_up:3:2", {"item": "pen"})
    first = SqliteActionJournal(path)
    assert await first.claim(key, "r1") is None
    await first.finish(key, result={"price": 12.5})
    await first.close()

    second = SqliteActionJournal(path)
    try:
        assert await second.claim(key, "r2") == JournalEntry("done", {"price": 12.5})
    finally:
        await second.close()


def test_the_key_depends_on_the_arguments_not_their_order() -> None:
    assert run_key("k", {"a": 1, "b": 2}) == run_key("k", {"b": 2, "a": 1})
    assert run_key("k", {"a": 1}) != run_key("k", {"a": 2})
    assert run_key("k", {"a": 1}) != run_key("k2", {"a": 1})
