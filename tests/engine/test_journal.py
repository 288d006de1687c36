"""Actions without a confirmation also run at most once when a turn is retried after a crash."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from soni import ActionRegistry
from soni.storage.journal import (
    JournalEntry,
    MemoryActionJournal,
    SqliteActionJournal,
    run_key,
)

from .conftest import BotFactory
from .test_recovery import lose_the_next_checkpoint
from .test_steps import LoadBot, bot_handlers, calls_in, load, write_bot

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


# -- runs in later turns, and after a reset ------------------------------------------


def counting_registry(calls: list[str]) -> ActionRegistry:
    registry = ActionRegistry()

    def get_balance(account: str) -> dict[str, float]:
        calls.append(account)
        return {"balance": 100.0 + len(calls)}

    registry.register_local("get_balance", get_balance)
    return registry


async def test_after_a_reset_the_same_steps_run_again(make_bot: BotFactory) -> None:
    calls: list[str] = []
    bot = await make_bot(registry=counting_registry(calls))
    for text in ("/check_balance", "checking"):
        await bot.handle("reset-1", text)
    await bot.reset("reset-1")

    await bot.handle("reset-1", "/check_balance")
    again = await bot.handle("reset-1", "checking")

    assert calls == ["checking", "checking"]
    assert again.texts == ["Your checking balance is 102 EUR."]


async def test_a_handler_taking_the_slots_dict_is_a_new_call_when_the_values_differ(
    make_bot: BotFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    registry = ActionRegistry()

    def quote(slots: dict[str, Any]) -> dict[str, str]:
        seen.append(slots["item"])
        return {"price": f"price of {slots['item']}"}

    registry.register_local("quote", quote)
    folder = write_bot(
        tmp_path,
        "quote",
        """
        slots:
          item: {type: string, prompt: "Which item?"}
          price: {type: string}
        flows:
          q:
            steps:
              - {step: ask, type: collect, slot: item}
              - {step: look, type: action, call: quote, map_outputs: {price: price}}
              - {step: tell, type: say, message: "{price}"}
        """,
    )
    bot = await make_bot(str(folder), registry=registry)
    await bot.handle("sd", "/q")
    lose_the_next_checkpoint(bot, monkeypatch)
    await bot.handle("sd", "pen")  # ran, but the turn was lost

    result = await bot.handle("sd", "ink")

    assert result.texts == ["price of ink"]
    assert seen == ["pen", "ink"]
