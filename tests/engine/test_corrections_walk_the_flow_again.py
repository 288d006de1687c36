"""A correction walks the flow again from the corrected value.

A correction its slot refuses is answered while a confirmation waits; one past a
branch's limit takes that branch, and nothing is sent: in the active flow, while its
confirmation waits (which is withdrawn), or set in a digression for the paused flow.
"""

from __future__ import annotations

from .conftest import BotFactory
from .test_approvals_run_with_the_approved_values import asked_to_send_40
from .test_banking import IBAN, sent_in


async def test_an_invalid_correction_while_a_confirmation_waits_is_answered(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot()
    for text in ("/transfer_funds", "Ann", "50", IBAN):
        await bot.handle("bad-fix", text)

    result = await bot.handle("bad-fix", "/set amount=-5")

    assert result.texts == ["Please enter an amount above zero.", f"Send 50 EUR to Ann ({IBAN})?"]


async def test_a_correction_while_confirming_walks_the_flow_again(make_bot: BotFactory) -> None:
    bot = await make_bot()
    asked = None
    for text in ("/transfer_funds", "Ann", "50", IBAN):
        asked = await bot.handle("rewalk", text)
    assert asked is not None and asked.pending

    corrected = await bot.handle("rewalk", "/set amount=20000")

    # The branch that refuses large transfers runs again; nothing is sent.
    assert corrected.texts == ["Transfers above 10,000 EUR need a visit to your branch."]
    assert corrected.status == "ended"
    old = await bot.engine.confirmations.get_by_id(asked.pending[0].confirmation_id)
    assert old is not None and old.status.value == "superseded"
    assert sent_in("rewalk") == []


async def test_a_set_in_a_digression_re_walks_the_paused_flow_past_its_limit_branch(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot()
    await asked_to_send_40(bot, "bound-2")
    await bot.handle("bound-2", "/check_balance")
    await bot.handle("bound-2", "/set amount=50000")

    result = await bot.handle("bound-2", "checking")

    assert result.texts[-1] == "Transfers above 10,000 EUR need a visit to your branch."
    assert sent_in("bound-2") == []


async def test_a_correction_in_the_active_flow_re_walks_its_branch(make_bot: BotFactory) -> None:
    bot = await make_bot()
    for text in ("/transfer_funds", "Bob", "40"):
        await bot.handle("bound-3", text)

    # Asked for the IBAN, the user corrects the amount above the limit.
    result = await bot.handle("bound-3", "/set amount=50000")

    assert result.texts == ["Transfers above 10,000 EUR need a visit to your branch."]
    assert sent_in("bound-3") == []
