"""A run whose outcome a crash lost is told as unknown — never as a failure — and never repeated.

The crashes are real: a child process talks to the bot until a handler kills it
(SIGKILL) right after its side effect, before the outcome is recorded. The test then
opens the same database, as a restarted server would, and talks on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from soni import ActionContext, ActionRegistry
from soni.actions import ActionSpec
from soni.confirmations import Status
from soni.engine import Bot, TurnResult

from .._handlers import registered_by

BOT = Path(__file__).resolve().parent / "bots" / "interrupted"
CHILD = Path(__file__).resolve().parent / "_crashing_process.py"
UNKNOWN = "I can't tell whether"
FAILURE = "Sorry, I couldn't"


@pytest.fixture(scope="module")
def interrupted_handlers() -> Mapping[str, ActionSpec]:
    return registered_by([BOT / "actions.py"])


class Crashes:
    """Runs conversations in a child process that a handler kills, and reopens the database."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.db = tmp_path / "state.db"
        self.effects = tmp_path / "effects.txt"
        self._monkeypatch = monkeypatch
        monkeypatch.setenv("SONI_TEST_EFFECTS", str(self.effects))
        self.bots: list[Bot] = []

    def until_killed(self, conversation: str, *messages: str, **env: str) -> list[dict[str, Any]]:
        """Send ``messages`` in a child process; it must die by SIGKILL. What it printed."""
        child = subprocess.run(
            [sys.executable, str(CHILD), str(BOT), str(self.db), conversation, *messages],
            env={**_environment(), "SONI_TEST_EFFECTS": str(self.effects), **env},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert child.returncode == -signal.SIGKILL, child.stderr
        return [json.loads(line) for line in child.stdout.splitlines()]

    def effects_of(self, action: str) -> list[str]:
        if not self.effects.exists():
            return []
        lines = self.effects.read_text(encoding="utf-8").splitlines()
        return [line.split()[1] for line in lines if line.split()[0] == action]

    async def restart(self, registry: ActionRegistry | None = None) -> Bot:
        bot = await Bot.load(BOT, db=str(self.db), registry=registry)
        self.bots.append(bot)
        return bot


def _environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("SONI_TEST_")}


@pytest.fixture
async def crashes(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    interrupted_handlers: Mapping[str, ActionSpec],
) -> Any:
    ActionRegistry._replace_global(interrupted_handlers)
    found = Crashes(tmp_path, monkeypatch)
    yield found
    for bot in found.bots:
        await bot.aclose()


async def only_confirmation(bot: Bot, conversation: str) -> Any:
    records = await bot.engine.confirmations.list(conversation_id=conversation)
    assert len(records) == 1
    return records[0]


# -- approved actions ---------------------------------------------------------------


@pytest.mark.slow  # a child process killed mid-run
async def test_a_run_killed_after_its_effect_is_interrupted_and_told_as_unknown(
    crashes: Crashes,
) -> None:
    seen = crashes.until_killed("c1", "/order", "yes", SONI_TEST_CRASH="place_order")
    assert seen[0]["texts"] == ["Place the order?"]
    assert len(crashes.effects_of("place_order")) == 1

    bot = await crashes.restart()
    # Found at start-up: the process that claimed the run is gone.
    record = await only_confirmation(bot, "c1")
    assert record.status is Status.INTERRUPTED
    history = await bot.engine.confirmations.history(record.id)
    assert [(e.from_status, e.to_status) for e in history][-2:] == [
        (Status.APPROVED, Status.EXECUTING),
        (Status.EXECUTING, Status.INTERRUPTED),
    ]

    again = await bot.handle("c1", "yes", user_id="u1")

    assert len(again.texts) == 1
    assert again.texts[0].startswith("I was interrupted while trying to place order")
    assert UNKNOWN in again.texts[0]
    assert FAILURE not in again.texts[0]
    assert len(crashes.effects_of("place_order")) == 1  # not run again
    assert (await only_confirmation(bot, "c1")).status is Status.INTERRUPTED
    # The conversation goes on.
    assert (await bot.handle("c1", "/order", user_id="u1")).texts == ["Place the order?"]


@pytest.mark.slow  # a child process killed mid-run
async def test_approving_again_by_token_after_the_crash_tells_the_same(crashes: Crashes) -> None:
    seen = crashes.until_killed("c2", "/order", "!approve", SONI_TEST_CRASH="place_order")
    token = seen[0]["tokens"][0]

    bot = await crashes.restart()
    result = await bot.decide(token, "approve", actor="u1", channel="http")

    assert [UNKNOWN in text for text in result.texts] == [True]
    assert len(crashes.effects_of("place_order")) == 1


@pytest.mark.slow  # a child process killed mid-run
async def test_a_flow_routes_an_unknown_outcome_with_on_unknown(crashes: Crashes) -> None:
    crashes.until_killed("c3", "/order_routed", "yes", SONI_TEST_CRASH="place_order")

    bot = await crashes.restart()
    result = await bot.handle("c3", "yes", user_id="u1")

    assert result.texts == ["Please look at your orders page before ordering again."]


@pytest.mark.slow  # a child process killed mid-run
async def test_a_reconcile_check_that_finds_the_call_records_it_as_executed(
    crashes: Crashes,
) -> None:
    crashes.until_killed("c4", "/order_checked", "yes", SONI_TEST_CRASH="place_checked")
    [key] = crashes.effects_of("place_checked")

    bot = await crashes.restart()
    result = await bot.handle("c4", "yes", user_id="u1")

    assert result.texts == [f"Ordered: O-{key[-6:]}."]
    record = await only_confirmation(bot, "c4")
    assert record.status is Status.EXECUTED
    assert record.result == {"order_id": f"O-{key[-6:]}"}
    last = (await bot.engine.confirmations.history(record.id))[-1]
    assert (last.from_status, last.to_status, last.actor.channel) == (
        Status.INTERRUPTED,
        Status.EXECUTED,
        "reconcile",
    )
    assert crashes.effects_of("place_checked") == [key]


@pytest.mark.slow  # a child process killed mid-run
async def test_a_reconcile_check_that_finds_no_call_runs_it_once(crashes: Crashes) -> None:
    crashes.until_killed("c5", "/order_checked", "yes", SONI_TEST_CRASH_BEFORE="place_checked")
    assert crashes.effects_of("place_checked") == []

    bot = await crashes.restart()
    result = await bot.handle("c5", "yes", user_id="u1")

    [key] = crashes.effects_of("place_checked")
    assert result.texts == [f"Ordered: O-{key[-6:]}."]
    assert (await only_confirmation(bot, "c5")).status is Status.EXECUTED


@pytest.mark.slow  # a child process killed mid-run
async def test_a_reconcile_check_that_cannot_tell_leaves_the_outcome_unknown(
    crashes: Crashes, monkeypatch: pytest.MonkeyPatch
) -> None:
    crashes.until_killed("c6", "/order_checked", "yes", SONI_TEST_CRASH="place_checked")
    monkeypatch.setenv("SONI_TEST_RECONCILE", "unsure")

    bot = await crashes.restart()
    result = await bot.handle("c6", "yes", user_id="u1")

    assert [UNKNOWN in text for text in result.texts] == [True]
    assert (await only_confirmation(bot, "c6")).status is Status.INTERRUPTED
    assert len(crashes.effects_of("place_checked")) == 1


@pytest.mark.slow  # a child process killed mid-run
async def test_an_idempotent_action_is_run_again_with_the_same_key(crashes: Crashes) -> None:
    crashes.until_killed("c7", "/order_again", "yes", SONI_TEST_CRASH="place_again")
    [key] = crashes.effects_of("place_again")

    bot = await crashes.restart()
    result = await bot.handle("c7", "yes", user_id="u1")

    assert result.texts == [f"Ordered: O-{key[-6:]}."]
    # The same idempotency key, so the provider can tell it is the same call.
    assert crashes.effects_of("place_again") == [key, key]
    record = await only_confirmation(bot, "c7")
    assert record.status is Status.EXECUTED
    history = [
        (e.from_status, e.to_status) for e in await bot.engine.confirmations.history(record.id)
    ]
    assert history[-3:] == [
        (Status.EXECUTING, Status.INTERRUPTED),
        (Status.INTERRUPTED, Status.EXECUTING),
        (Status.EXECUTING, Status.EXECUTED),
    ]


# -- unguarded actions (the journal) -----------------------------------------------


@pytest.mark.slow  # a child process killed mid-run
async def test_a_first_turn_killed_in_an_unguarded_action_is_told_as_unknown_once(
    crashes: Crashes,
) -> None:
    crashes.until_killed("c8", "/lookup", SONI_TEST_CRASH="count_stock")
    assert len(crashes.effects_of("count_stock")) == 1

    bot = await crashes.restart()
    retried = await bot.handle("c8", "/lookup", user_id="u1")

    assert [UNKNOWN in text for text in retried.texts] == [True]
    assert FAILURE not in retried.texts[0]
    assert len(crashes.effects_of("count_stock")) == 1
    # That turn is over; asking again is a new call, which runs.
    assert (await bot.handle("c8", "/lookup", user_id="u1")).texts == ["Stock: 7."]
    assert len(crashes.effects_of("count_stock")) == 2


@pytest.mark.slow  # a child process killed mid-run
async def test_an_idempotent_unguarded_action_killed_mid_run_is_run_again(
    crashes: Crashes,
) -> None:
    crashes.until_killed("c9", "/lookup_safe", SONI_TEST_CRASH="read_stock")

    bot = await crashes.restart()
    retried = await bot.handle("c9", "/lookup_safe", user_id="u1")

    assert retried.texts == ["Stock: 7."]
    first, second = crashes.effects_of("read_stock")
    assert first == second


# -- within one process ---------------------------------------------------------------


def blocking(started: asyncio.Event, release: asyncio.Event) -> Callable[..., Awaitable[Any]]:
    async def place_order(ctx: ActionContext) -> dict[str, str]:
        started.set()
        await release.wait()
        return {"order_id": "O-late"}

    return place_order


async def cancelled_mid_run(bot: Bot, conversation: str, text: str, running: Any) -> None:
    """Send ``text`` and cancel its turn once ``running()`` says the handler runs."""
    turn = asyncio.create_task(bot.handle(conversation, text, user_id="u1"))
    await running()
    turn.cancel()  # its client went away, say
    with contextlib.suppress(asyncio.CancelledError):
        await turn


async def test_an_action_whose_turn_is_cancelled_goes_on_and_the_next_message_gets_it(
    crashes: Crashes,
) -> None:
    started, release = asyncio.Event(), asyncio.Event()
    registry = ActionRegistry()
    registry.register_local("place_order", blocking(started, release))
    bot = await crashes.restart(registry)
    await bot.handle("c10", "/order", user_id="u1")

    await cancelled_mid_run(bot, "c10", "yes", started.wait)

    # The action was not stopped: it still counts as running, never as interrupted.
    assert (await bot.engine.confirmations.recover()) == []
    assert (await only_confirmation(bot, "c10")).status is Status.EXECUTING
    # The next message waits for it, and the flow goes on with its result.
    again = asyncio.create_task(bot.handle("c10", "yes", user_id="u1"))
    release.set()
    assert (await again).texts == ["Ordered: O-late."]
    assert (await only_confirmation(bot, "c10")).status is Status.EXECUTED


async def test_a_sync_handler_outliving_its_turn_is_never_run_twice(crashes: Crashes) -> None:
    """A thread cannot be stopped: the run stays in flight until it ends, then is recorded."""
    entered, release = threading.Event(), threading.Event()
    keys: list[str] = []

    def place_checked(ctx: ActionContext) -> dict[str, str]:
        keys.append(ctx.idempotency_key)
        entered.set()
        release.wait(timeout=60)
        return {"order_id": "O-thread"}

    def find_checked(ctx: ActionContext) -> None:
        return None  # the provider has not seen it yet: it would be run again if allowed

    registry = ActionRegistry()
    registry.register_local("place_checked", place_checked, reconcile=find_checked)
    bot = await crashes.restart(registry)
    await bot.handle("c13", "/order_checked", user_id="u1")
    await cancelled_mid_run(bot, "c13", "yes", lambda: asyncio.to_thread(entered.wait, 60))

    assert await bot.engine.confirmations.recover() == []
    release.set()
    assert await bot.wait_for_actions(timeout=60)
    record = await only_confirmation(bot, "c13")
    assert (record.status, record.result) == (Status.EXECUTED, {"order_id": "O-thread"})
    assert (await bot.handle("c13", "yes", user_id="u1")).texts == ["Ordered: O-thread."]
    assert len(keys) == 1


async def test_closing_a_bot_lets_its_running_actions_record_their_outcome(
    crashes: Crashes,
) -> None:
    started, release = asyncio.Event(), asyncio.Event()
    registry = ActionRegistry()
    registry.register_local("place_order", blocking(started, release))
    bot = await crashes.restart(registry)
    await bot.handle("c14", "/order", user_id="u1")
    await cancelled_mid_run(bot, "c14", "yes", started.wait)

    closing = asyncio.create_task(bot.aclose())
    release.set()
    await closing
    crashes.bots.remove(bot)

    reopened = await crashes.restart()
    assert (await only_confirmation(reopened, "c14")).status is Status.EXECUTED


async def test_a_run_still_going_in_another_bot_is_not_declared_interrupted(
    crashes: Crashes,
) -> None:
    started, release = asyncio.Event(), asyncio.Event()
    registry = ActionRegistry()
    registry.register_local("place_order", blocking(started, release))
    first = await crashes.restart(registry)
    second = await crashes.restart(registry)
    await first.handle("c11", "/order", user_id="u1")

    running = asyncio.create_task(first.handle("c11", "yes", user_id="u1"))
    await started.wait()
    meanwhile = await second.handle("c11", "yes", user_id="u1")

    assert meanwhile.texts == [
        "I can't tell yet whether I managed to place order: it is still running."
    ]
    assert (await only_confirmation(second, "c11")).status is Status.EXECUTING
    release.set()
    done: TurnResult = await running
    assert done.texts == ["Ordered: O-late."]
    assert (await only_confirmation(second, "c11")).status is Status.EXECUTED


def blocking_lookup(
    started: asyncio.Event, release: asyncio.Event, calls: list[str]
) -> Callable[..., Awaitable[Any]]:
    async def count_stock(ctx: ActionContext) -> dict[str, int]:
        calls.append(ctx.idempotency_key)
        started.set()
        await release.wait()
        return {"stock": 7}

    return count_stock


async def test_an_unguarded_run_whose_turn_is_cancelled_is_not_run_again_by_the_next_message(
    crashes: Crashes,
) -> None:
    started, release, calls = asyncio.Event(), asyncio.Event(), []
    registry = ActionRegistry()
    registry.register_local("count_stock", blocking_lookup(started, release, calls))
    bot = await crashes.restart(registry)

    await cancelled_mid_run(bot, "c12", "/lookup", started.wait)
    # LangGraph kept the cut-off turn, standing at the action step: the next message,
    # whatever it says, meets the same run (still going), not a new one.
    after = asyncio.create_task(bot.handle("c12", "hello", user_id="u1"))
    release.set()

    assert (await after).texts[-1] == "Stock: 7."
    assert len(calls) == 1
    # Asking again is a new call, which runs.
    assert (await bot.handle("c12", "/lookup", user_id="u1")).texts == ["Stock: 7."]
    assert len(calls) == 2
