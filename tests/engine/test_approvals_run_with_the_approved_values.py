"""An approval runs its action once, with the values it was asked with.

A value changed in a digression after the question was asked withdraws it, so its
token approves nothing; an approval given before such a change runs what was
approved; and a link approval racing a "yes" in chat sends once.
"""

from __future__ import annotations

from typing import Any

import pytest

from soni.confirmations import Status
from soni.confirmations.errors import ConfirmationClosed
from soni.nlu import Affirm, StartFlow
from soni.nlu.rules import RulesUnderstanding

from .conftest import BotFactory
from .test_banking import IBAN, sent_in

START = ("/transfer_funds", "Bob", "40", IBAN)


async def asked_to_send_40(bot: Any, conversation: str) -> str:
    for text in START:
        result = await bot.handle(conversation, text)
    assert result.texts == [f"Send 40 EUR to Bob ({IBAN})?"]
    token: str = result.pending[0].token
    return token


async def test_an_approval_given_after_a_digression_changed_the_amount_sends_what_was_approved(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot()
    token = await asked_to_send_40(bot, "bound-1")

    # A digression started with another amount: the pending question is withdrawn…
    await bot.handle("bound-1", '/check_balance{"amount": 50000}')
    with pytest.raises(ConfirmationClosed):
        await bot.decide(token, "approve", actor="u1")
    # …and the transfer walks again from the amount: over the limit, it is refused.
    result = await bot.handle("bound-1", "checking")

    assert "Transfers above 10,000 EUR need a visit to your branch." in result.texts
    assert sent_in("bound-1") == []


async def test_an_approval_decided_out_of_band_runs_with_the_approved_values(
    make_bot: BotFactory,
) -> None:
    """Approved first, then a value changed before the flow resumed: 40 is sent, as approved."""

    class YesThenDigress:
        async def understand(self, text: str, context: Any) -> list[Any]:
            if text == "yes and balance":
                return [Affirm(), StartFlow("check_balance", {})]
            return await RulesUnderstanding().understand(text, context)

    bot = await make_bot(understanding=YesThenDigress())
    await asked_to_send_40(bot, "bound-4")
    await bot.handle("bound-4", "yes and balance")  # approved, then put aside
    record = (await bot.engine.confirmations.list(conversation_id="bound-4"))[0]
    assert record.status is Status.APPROVED
    await bot.handle("bound-4", "checking")  # the balance ends; the transfer resumes

    assert [t["amount"] for t in sent_in("bound-4")] == [40.0]


async def test_a_link_approval_racing_a_chat_yes_sends_once(make_bot: BotFactory) -> None:
    import asyncio

    bot = await make_bot()

    async def race(n: int) -> None:
        conversation = f"race-{n}"
        asked = None
        for text in ("/transfer_funds", f"user{n}", str(n + 1), IBAN):
            asked = await bot.handle(conversation, text)
        assert asked is not None and asked.pending[0].token is not None
        token = asked.pending[0].token
        results = await asyncio.gather(
            bot.decide(token, "approve", actor="u1", channel="http"),
            bot.handle(conversation, "yes"),
            return_exceptions=True,
        )
        assert not any(isinstance(r, BaseException) for r in results), results

    await asyncio.gather(*(race(n) for n in range(20)))

    for n in range(20):
        assert [t["amount"] for t in sent_in(f"race-{n}")] == [float(n + 1)]
