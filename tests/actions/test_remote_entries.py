"""Remote entries of an ActionRegistry (actions workers announced), and what a handler
knows of its deadline: a handler of the process wins over a remote entry, an unknown
name says why, and ``time_left()`` counts down inside the handler only."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from soni.actions import ActionContext, ActionRegistry, ActionSpec, time_left
from soni.actions.errors import ActionFailed, ActionNotFound, ActionTimeout


def remote(name: str, handler: Any) -> ActionSpec:
    return ActionSpec(
        name=name,
        handler=handler,
        scope="remote",
        mode="none",
        params=(),
        required=(),
        ctx_param=None,
        is_async=True,
    )


async def test_a_remote_entry_runs_until_a_handler_of_the_process_takes_the_name() -> None:
    registry = ActionRegistry()

    async def far() -> dict[str, str]:
        return {"where": "worker"}

    registry.set_remote({"report": remote("report", far)})
    assert registry.list_remote() == ["report"]
    assert registry.list_actions() == {"global": [], "local": []}  # unchanged shape
    assert await registry.run("report") == {"where": "worker"}
    assert "remote=1" in repr(registry)

    registry.register_local("report", lambda: {"where": "here"})
    assert await registry.run("report") == {"where": "here"}
    registry.unregister_local("report")
    assert await registry.run("report") == {"where": "worker"}

    registry.set_remote({}, unknown=lambda name: f"no worker offers {name}")
    with pytest.raises(
        ActionNotFound, match=r"unknown action 'report' \(no worker offers report\)"
    ):
        registry.resolve("report")


def test_the_not_found_error_keeps_its_detail_across_processes() -> None:
    error = ActionNotFound("pay", ["play"], "2 action worker(s) connected")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.name, copy.suggestions, copy.detail, str(copy)) == (
        "pay",
        ("play",),
        "2 action worker(s) connected",
        str(error),
    )


async def test_a_remote_entrys_action_errors_are_its_own_and_a_local_handlers_are_wrapped() -> None:
    async def timed_out() -> None:
        raise ActionTimeout("report", 3)

    registry = ActionRegistry()
    registry.set_remote({"report": remote("report", timed_out)})
    with pytest.raises(ActionTimeout):
        await registry.run("report")

    registry.register_local("report", timed_out)
    with pytest.raises(ActionFailed) as caught:
        await registry.run("report")
    assert not isinstance(caught.value, ActionTimeout)  # a handler's own error, wrapped


async def test_time_left_counts_down_inside_the_handler_only() -> None:
    seen: dict[str, float | None] = {}
    registry = ActionRegistry()

    def sync(ctx: ActionContext) -> None:
        seen["sync"] = time_left()

    async def coroutine() -> None:
        seen["async"] = time_left()

    registry.register_local("sync", sync)
    registry.register_local("async", coroutine)
    await registry.run("sync", timeout=5)
    assert seen["sync"] is not None and 4 < seen["sync"] <= 5  # in the handler's thread
    await registry.run("async", timeout=5)
    assert seen["async"] is not None and 4 < seen["async"] <= 5
    await registry.run("sync")
    assert seen["sync"] is None  # no timeout, no deadline
    assert time_left() is None  # outside a handler
