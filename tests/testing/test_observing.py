"""What the runner puts around a bot: the recording registry, stubs, the clock."""

from __future__ import annotations

import inspect
from datetime import timedelta

import pytest

from soni.actions import ActionContext
from soni.confirmations._support import utcnow
from soni.errors import ActionArgumentError, ActionFailed
from soni.testing.observing import ActionRun, RecordingRegistry, TestClock, make_stub


def transfer(amount: float, iban: str, ctx: ActionContext) -> dict[str, str]:
    return {"transaction_id": "real"}


async def test_the_registry_records_each_run_and_its_outcome() -> None:
    registry = RecordingRegistry()

    def broken() -> None:
        raise ValueError("down")

    registry.register_local("ok", lambda: {"a": 1})
    registry.register_local("broken", broken)
    assert await registry.run("ok") == {"a": 1}
    with pytest.raises(ActionFailed):
        await registry.run("broken")
    assert registry.runs[0] == ActionRun("ok")
    assert registry.runs[1].name == "broken" and not registry.runs[1].ok
    assert str(registry.runs[1]).startswith("broken (failed: ")


async def test_a_stub_takes_the_real_handlers_parameters() -> None:
    stub = make_stub("execute_transfer", {"transaction_id": "TX-1"}, transfer)
    assert inspect.signature(stub) == inspect.signature(transfer)
    registry = RecordingRegistry()
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
    registry = RecordingRegistry()
    spec = registry.register_local("ghost", make_stub("ghost", None, None))
    assert spec.mode == "slots"
    assert await registry.run("ghost", {"a": 1}) == {}


def test_the_clock_only_moves_forward() -> None:
    clock = TestClock()
    assert abs(clock() - utcnow()) < timedelta(seconds=1)
    later = utcnow() + timedelta(minutes=10)
    clock.move_past(later)
    assert clock() > later
    clock.move_past(utcnow())  # already past: no change
    assert clock() > later
