"""What the runner puts around a bot: the recorder of its runs, stubs, the clock."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from soni import Bot
from soni.actions import ActionContext, ActionRegistry, ActionSpec
from soni.actions.errors import ActionArgumentError
from soni.testing.observing import ActionRun, RunRecorder, TestClock, make_stub

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def transfer(amount: float, iban: str, ctx: ActionContext) -> dict[str, str]:
    return {"transaction_id": "real"}


async def test_the_recorder_notes_each_run_of_the_bot_and_its_outcome(
    handlers: Mapping[str, ActionSpec],
) -> None:
    registry = ActionRegistry()  # the examples' handlers, these two replaced
    registry.register_local("get_balance", lambda account: {"balance": 1.0})
    registry.register_local("execute_transfer", lambda amount, beneficiary, iban: {})
    bot = await Bot.load(EXAMPLES / "banking", db=":memory:", registry=registry)
    try:
        recorder = RunRecorder(bot)
        for text in ("/check_balance", "savings"):
            await bot.handle("r1", text)
        registry.register_local("get_balance", _broken)
        for text in ("/check_balance", "checking"):
            await bot.handle("r1", text)
        # A guarded run is told through its confirmation, by the same stream.
        for text in ("I want to send money", "Bob", "50", "DE89370400440532013000"):
            asked = await bot.handle("r1", text)
        await bot.handle("r1", "yes")
        recorder.close()
        await bot.handle("r1", "/check_balance")
        await bot.handle("r1", "savings")
    finally:
        await bot.aclose()

    first, second, third = recorder.runs
    assert first == ActionRun("get_balance")
    assert second.name == "get_balance" and not second.ok
    assert str(second).startswith("get_balance (failed: ")
    assert third == ActionRun("execute_transfer")
    assert asked.status == "awaiting_confirmation"


def _broken(account: str) -> None:
    raise ValueError("down")


async def test_a_stub_takes_the_real_handlers_parameters() -> None:
    stub = make_stub("execute_transfer", {"transaction_id": "TX-1"}, transfer)
    assert inspect.signature(stub) == inspect.signature(transfer)
    registry = ActionRegistry()
    spec = registry.register_local("execute_transfer", stub)
    assert (spec.mode, spec.params, spec.ctx_param) == ("params", ("amount", "iban"), "ctx")
    first = await registry.run("execute_transfer", {"amount": 5, "iban": "X"})
    first["transaction_id"] = "changed by the flow"
    assert await registry.run("execute_transfer", {"amount": 5, "iban": "X"}) == {
        "transaction_id": "TX-1"
    }
    with pytest.raises(ActionArgumentError, match="iban"):
        await registry.run("execute_transfer", {"amount": 5})


async def test_a_stub_without_a_real_handler_takes_the_slots() -> None:
    registry = ActionRegistry()
    spec = registry.register_local("ghost", make_stub("ghost", None, None))
    assert spec.mode == "slots"
    assert await registry.run("ghost", {"a": 1}) == {}


def test_the_clock_only_moves_forward() -> None:
    clock = TestClock()
    assert abs(clock() - datetime.now(UTC)) < timedelta(seconds=1)
    later = datetime.now(UTC) + timedelta(minutes=10)
    clock.move_past(later)
    assert clock() > later
    clock.move_past(datetime.now(UTC))  # already past: no change
    assert clock() > later
