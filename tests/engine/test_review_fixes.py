"""Conversations that went wrong before the engine review, and must not again."""

from __future__ import annotations

from pathlib import Path

from soni import ActionRegistry, Bot
from soni.nlu import ConversationContext, FlowInfo, SetSlot, SlotInfo
from soni.nlu.basic import KeywordUnderstanding

from .conftest import BotFactory
from .test_banking import IBAN, sent_in
from .test_hotel_booking import held_in


async def test_starting_a_flow_already_running_keeps_the_first_run(make_bot: BotFactory) -> None:
    bot = await make_bot()
    for text in ("/transfer_funds", "Ann", "50", "DE1"):
        await bot.handle("twice", text)

    again = await bot.handle("twice", "/transfer_funds")
    done = await bot.handle("twice", "yes")

    assert again.texts == [
        "We are already in the middle of transfer money.",
        "Send 50 EUR to Ann (DE1)?",
    ]
    assert done.texts[0].startswith("Done: 50 EUR sent to Ann.")
    assert [(t["to"], t["amount"]) for t in sent_in("twice")] == [("Ann", 50.0)]


async def test_an_invalid_correction_while_a_confirmation_waits_is_answered(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot()
    for text in ("/transfer_funds", "Ann", "50", IBAN):
        await bot.handle("bad-fix", text)

    result = await bot.handle("bad-fix", "/set amount=-5")

    assert result.texts == ["Please enter an amount above zero.", f"Send 50 EUR to Ann ({IBAN})?"]


async def test_each_run_of_a_looped_action_gets_its_own_idempotency_key(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot("hotel_booking")
    texts = ("I'd like to book a room", "2025-07-01", "04/07/2025", "6", "Ana", "a@b.co", "3")
    for text in texts:
        await bot.handle("loop-keys", text)

    keys = [entry["key"] for entry in held_in("loop-keys")]
    assert len(keys) == 3
    assert len(set(keys)) == 3


async def test_an_unserialisable_action_output_does_not_break_the_conversation(
    handlers: object, tmp_path: Path
) -> None:
    folder = tmp_path / "odd"
    folder.mkdir()
    (folder / "bot.yaml").write_text(
        "flows:\n"
        "  odd:\n"
        "    steps:\n"
        "      - {step: get, type: action, call: review_odd_output, map_outputs: {obj: thing}}\n"
        "      - {step: tell, type: say, message: 'got it'}\n"
        "slots:\n"
        "  thing: {type: any}\n"
    )

    class Opaque:
        def __str__(self) -> str:
            return "opaque"

    registry = ActionRegistry()
    registry.register_local("review_odd_output", lambda: {"obj": Opaque()})
    bot = await Bot.load(folder, db=str(tmp_path / "odd.db"), registry=registry)
    try:
        first = await bot.handle("odd-1", "/odd")
        second = await bot.handle("odd-1", "/odd")
    finally:
        await bot.aclose()

    assert first.texts == ["got it"]
    assert first.slots["thing"] == "opaque"
    assert second.texts == ["got it"]


async def test_an_answer_containing_a_trigger_word_fills_the_asked_slot() -> None:
    context = ConversationContext(
        expected_slot=SlotInfo("beneficiary", "string"),
        flows=(FlowInfo("check_balance", intents=("balance",)),),
    )

    commands = await KeywordUnderstanding().understand("Balance Partners Ltd", context)

    assert commands == [SetSlot("beneficiary", "Balance Partners Ltd")]


async def test_a_bot_sweeps_expired_confirmations_while_it_runs(make_bot: BotFactory) -> None:
    bot = await make_bot()

    assert bot._sweeper.running
    await bot.aclose()
    assert not bot._sweeper.running


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
