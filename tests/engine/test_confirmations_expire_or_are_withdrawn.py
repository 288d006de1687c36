"""A confirmation the conversation has moved past does not stay open.

A bot sweeps expired confirmations while it runs; one that expired while its flow was
put aside is told as expired, swept or not, and nothing runs; and a step that fails
withdraws the confirmations of the flows it ends.
"""

from __future__ import annotations

from typing import Any

import pytest

from soni.confirmations import Status

from .conftest import BotFactory
from .test_approvals_run_with_the_approved_values import asked_to_send_40
from .test_banking import sent_in
from .test_steps import FakeClock


async def test_a_bot_sweeps_expired_confirmations_while_it_runs(make_bot: BotFactory) -> None:
    bot = await make_bot()

    assert bot._sweeper.running
    await bot.aclose()
    assert not bot._sweeper.running


@pytest.mark.parametrize("swept", [False, True])
async def test_a_confirmation_that_expired_during_a_digression_is_expired_either_way(
    make_bot: BotFactory, swept: bool
) -> None:
    clock = FakeClock()
    bot = await make_bot()
    bot.engine.confirmations.clock = clock
    conversation = f"expired-{swept}"
    await asked_to_send_40(bot, conversation)
    await bot.handle(conversation, "/check_balance")
    clock.advance(400)
    if swept:
        await bot.engine.confirmations.cleanup_expired()

    result = await bot.handle(conversation, "checking")

    assert "The request to execute transfer expired, so I did not do it." in result.texts
    assert sent_in(conversation) == []


async def test_a_step_that_fails_withdraws_the_confirmations_of_the_flows_it_ends(
    make_bot: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await make_bot()
    token = await asked_to_send_40(bot, "fail-1")

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the disk is on fire")

    # Reading the next message fails unexpectedly (a bug, not bad input).
    monkeypatch.setattr("soni.engine.graph.run_understand", broken)
    failed = await bot.handle("fail-1", "/set iban=DE00")

    assert failed.texts[-1].startswith("Sorry, something went wrong on my side")
    record = await bot.engine.confirmations.get(token)
    assert record.status is Status.CANCELLED
