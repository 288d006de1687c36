"""A second review's findings: approvals bound to their values, runs after a reset, templates."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from soni import ActionRegistry
from soni.confirmations import Status
from soni.errors import ConfirmationClosed
from soni.nlu import Affirm, StartFlow
from soni.nlu.rules import RulesUnderstanding

from .conftest import BotFactory
from .test_banking import IBAN, sent_in
from .test_recovery import lose_the_next_checkpoint
from .test_steps import FakeClock

START = ("/transfer_funds", "Bob", "40", IBAN)


def write_bot(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / name
    folder.mkdir(exist_ok=True)
    (folder / "bot.yaml").write_text(textwrap.dedent(text))
    return folder


async def asked_to_send_40(bot: Any, conversation: str) -> str:
    for text in START:
        result = await bot.handle(conversation, text)
    assert result.texts == [f"Send 40 EUR to Bob ({IBAN})?"]
    token: str = result.pending[0].token
    return token


# -- an approval is bound to the values it was asked with --------------------------------


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


# -- unguarded runs ---------------------------------------------------------------------


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


# -- set: expression or template --------------------------------------------------------


async def test_a_set_text_with_a_dash_between_texts_is_a_template(
    make_bot: BotFactory, tmp_path: Path
) -> None:
    folder = write_bot(
        tmp_path,
        "tpl",
        """
        slots:
          first: {type: string, prompt: "first?"}
          last: {type: string, prompt: "last?"}
          year: {type: integer, prompt: "year?"}
          month: {type: integer, prompt: "month?"}
        flows:
          names:
            steps:
              - {step: a, type: collect, slot: first}
              - {step: b, type: collect, slot: last}
              - {step: s, type: set, slots: {full: "{{first}}-{{last}}"}}
              - {step: t, type: say, message: "full={full}"}
          numbers:
            steps:
              - {step: a, type: collect, slot: year}
              - {step: b, type: collect, slot: month}
              - {step: s, type: set, slots: {gap: "{year}-{month}"}}
              - {step: t, type: say, message: "gap={gap}"}
        """,
    )
    bot = await make_bot(str(folder))
    texts = [(await bot.handle("tp", t)).texts for t in ("/names", "Ann", "Lee")]
    numbers = [(await bot.handle("tp", t)).texts for t in ("/numbers", "2024", "5")]

    assert texts[-1] == ["full=Ann-Lee"]
    assert numbers[-1] == ["gap=2019"]  # numbers on both sides: arithmetic


# -- expiry while put aside -------------------------------------------------------------


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


# -- a failure does not leave a confirmation behind -----------------------------------


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
