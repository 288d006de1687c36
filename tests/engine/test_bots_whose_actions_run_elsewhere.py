"""``Bot.load(local_actions=False, remote_actions=True)``: a bot folder served while its
actions run in action workers — its actions.py not imported, actions without a handler
allowed and listed, and a call of one before any worker offers it a failure its flow's
``on_error`` handles."""

from __future__ import annotations

from pathlib import Path

import pytest

from soni.actions import ActionRegistry
from soni.dsl.errors import ConfigErrors
from soni.engine import Bot

BOT = """
version: "1.0"
flows:
  report:
    description: "a report"
    steps:
      - {step: work, type: action, call: make_report, on_error: failed}
      - {step: done, type: say, message: "ready", next: end}
      - {step: failed, type: say, message: "no report"}
"""

ACTIONS = """
from soni import ActionRegistry

raise RuntimeError("a worker's module: never imported by the server")
"""


@pytest.fixture
def bot(tmp_path: Path) -> Path:
    (tmp_path / "bot.yaml").write_text(BOT)
    (tmp_path / "actions.py").write_text(ACTIONS)
    return tmp_path


async def test_a_bot_whose_actions_run_elsewhere_loads_and_says_what_waits(bot: Path) -> None:
    with pytest.raises(ConfigErrors, match="unknown action 'make_report'"):
        await Bot.load(bot, db=":memory:", local_actions=False)  # not allowed to be missing

    loaded = await Bot.load(
        bot, db=":memory:", local_actions=False, remote_actions=True, registry=ActionRegistry()
    )
    try:
        assert loaded.unserved_actions() == ["make_report"]
        reply = await loaded.handle("c1", "/report")
        assert reply.texts == ["no report"]
        loaded.actions.register_local("make_report", lambda: None)
        assert loaded.unserved_actions() == []
        assert (await loaded.handle("c2", "/report")).texts == ["ready"]
    finally:
        await loaded.aclose()


async def test_no_handler_module_with_local_actions_off(bot: Path) -> None:
    with pytest.raises(ValueError, match="pass no actions"):
        await Bot.load(bot, db=":memory:", local_actions=False, actions=str(bot / "actions.py"))
