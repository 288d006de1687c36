"""Whole conversations with the banking example: flows, confirmations, restarts, ordering."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import ModuleType

import pytest

from soni import load_actions
from soni.confirmations import ConfirmationRegistry, SqliteConfirmationStore, Status

from .conftest import EXAMPLES, BotFactory, replies

IBAN = "DE89370400440532013000"


def bank() -> ModuleType:
    return load_actions(EXAMPLES / "banking" / "actions.py")[0]


def sent_in(conversation: str) -> list[dict[str, object]]:
    return [t for t in bank().SENT if t["conversation"] == conversation]


async def test_a_transfer_collects_confirms_and_runs_once(make_bot: BotFactory) -> None:
    bot = await make_bot()
    answers = await replies(bot, "t1", "I want to send money", "Bob", "50", IBAN)
    assert answers == [
        ["Who should receive the money?"],
        ["How much do you want to send?"],
        ["What is their IBAN?"],
        [f"Send 50 EUR to Bob ({IBAN})?"],
    ]
    result = await bot.handle("t1", "yes", user_id="u1")

    assert result.status == "ended"
    assert result.texts[0].startswith("Done: 50 EUR sent to Bob. Reference TX-")
    assert [t["amount"] for t in sent_in("t1")] == [50.0]


async def test_an_invalid_value_is_rejected_and_asked_again(make_bot: BotFactory) -> None:
    bot = await make_bot()
    await replies(bot, "t2", "/transfer_funds", "Bob")
    result = await bot.handle("t2", "-5")

    assert result.texts == ["Please enter an amount above zero.", "How much do you want to send?"]
    assert result.status == "awaiting_input"
    assert "amount" not in result.slots
    assert (await bot.handle("t2", "abc")).texts[0] == "Please enter an amount above zero."
    assert (await bot.handle("t2", "12.5")).texts == ["What is their IBAN?"]


async def test_a_digression_runs_and_the_paused_flow_asks_again(make_bot: BotFactory) -> None:
    bot = await make_bot()
    await replies(bot, "t3", "/transfer_funds", "Alice")
    assert (await bot.handle("t3", "/check_balance")).texts == [
        "Which account: checking or savings?"
    ]
    result = await bot.handle("t3", "savings")

    assert result.texts == ["Your savings balance is 8000 EUR.", "How much do you want to send?"]
    assert result.slots["beneficiary"] == "Alice"


async def test_deny_never_runs_the_action(make_bot: BotFactory) -> None:
    bot = await make_bot()
    await replies(bot, "t4", "/transfer_funds", "Bob", "50", IBAN)
    result = await bot.handle("t4", "no")

    assert result.texts == ["Nothing was sent."]  # on_skip says it: no second ack
    assert result.status == "ended"
    assert sent_in("t4") == []


async def test_a_correction_supersedes_the_pending_confirmation(make_bot: BotFactory) -> None:
    bot = await make_bot()
    *_, asked = [await bot.handle("t5", t) for t in ("/transfer_funds", "Bob", "20", IBAN)]
    old = asked.pending[0]

    corrected = await bot.handle("t5", "/set amount=30")

    new = corrected.pending[0]
    assert new.prompt == f"Send 30 EUR to Bob ({IBAN})?"
    assert new.token != old.token
    assert old.token is not None
    record = await bot.engine.confirmations.get(old.token)
    assert record.status is Status.SUPERSEDED
    with pytest.raises(Exception, match="replaced by a newer confirmation"):
        await bot.decide(old.token, "approve")
    done = await bot.decide(new.token or "", "approve", actor="u1")
    assert [t["amount"] for t in sent_in("t5")] == [30.0]
    assert done.status == "ended"


async def test_an_out_of_band_approval_resumes_the_conversation(make_bot: BotFactory) -> None:
    bot = await make_bot()
    *_, asked = [await bot.handle("t6", t) for t in ("/transfer_funds", "Bob", "70", IBAN)]
    token = asked.pending[0].token
    assert token is not None

    result = await bot.decide(token, "approve", actor="u1", channel="http")
    again = await bot.engine.confirmations.get(token)

    assert result.texts[0].startswith("Done: 70 EUR sent to Bob.")
    assert again.status is Status.EXECUTED
    assert again.decided_by is not None and again.decided_by.channel == "http"
    assert len(sent_in("t6")) == 1


async def test_a_new_bot_on_the_same_file_continues_a_paused_conversation(
    make_bot: BotFactory, tmp_path: Path
) -> None:
    db = tmp_path / "shared.db"
    first = await make_bot(db=db)
    await replies(first, "t7", "/transfer_funds", "Carol")
    await first.aclose()

    second = await make_bot(db=db)
    result = await second.handle("t7", "15")

    assert result.texts == ["What is their IBAN?"]
    assert result.slots["beneficiary"] == "Carol"


async def test_a_confirmation_survives_a_restart_with_its_token(
    make_bot: BotFactory, tmp_path: Path
) -> None:
    db = tmp_path / "shared.db"
    first = await make_bot(db=db)
    *_, asked = [await first.handle("t8", t) for t in ("/transfer_funds", "Dan", "5", IBAN)]
    await first.aclose()

    second = await make_bot(db=db)
    result = await second.handle("t8", "hmm?")

    assert result.status == "awaiting_confirmation"
    # The same question, the same token: derived under the secret kept beside the
    # database, it still opens the confirmation the user was given.
    assert result.pending[0].token == asked.pending[0].token is not None
    assert result.pending[0].confirmation_id == asked.pending[0].confirmation_id
    done = await second.handle("t8", "yes")
    assert done.texts[0].startswith("Done: 5 EUR sent to Dan.")
    assert len(sent_in("t8")) == 1


async def test_cancel_pops_the_flow_and_withdraws_its_confirmation(make_bot: BotFactory) -> None:
    bot = await make_bot()
    *_, asked = [await bot.handle("t9", t) for t in ("/transfer_funds", "Eve", "9", IBAN)]
    result = await bot.handle("t9", "never mind")

    assert result.texts == ["OK, I've cancelled transfer money."]
    assert result.status == "ended"
    record = await bot.engine.confirmations.get_by_id(asked.pending[0].confirmation_id)
    assert record is not None and record.status is Status.CANCELLED
    assert sent_in("t9") == []


async def test_a_failing_action_ends_the_flow_and_the_conversation_goes_on(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot()
    await replies(bot, "t10", "/check_balance")
    # A value the choice slot accepts but the pretend bank does not know.
    bank().BALANCES.pop("savings", None)
    try:
        result = await bot.handle("t10", "savings")
    finally:
        bank().BALANCES["savings"] = 8000.0

    assert result.texts[0] == "Sorry, I couldn't get balance."
    assert result.status == "ended"
    assert (await bot.handle("t10", "/check_balance")).status == "awaiting_input"


async def test_malformed_structured_messages_get_an_answer(make_bot: BotFactory) -> None:
    bot = await make_bot()
    result = await bot.handle("t11", '/transfer_funds{"amount": ')

    assert "not a JSON object" in result.texts[0]
    assert (await bot.handle("t11", "/no_such_flow")).texts == [
        "I don't know how to do 'no_such_flow'."
    ]


def ten_turns(n: int) -> list[str]:
    """Ten turns of one conversation: a balance, then a transfer with a rejected amount
    and a digression, confirmed. Structured messages: the turns, not understanding,
    are under test."""
    return [
        "/check_balance",
        "/set account=checking",
        "/transfer_funds",
        f"/set beneficiary=user{n}",
        "/set amount=-1",
        f"/set amount={n + 1}",
        "/check_balance",
        "/set account=savings",
        f"/set iban={IBAN}",
        "/affirm",
    ]


@pytest.mark.slow  # fifty conversations
async def test_fifty_conversations_at_once(make_bot: BotFactory) -> None:
    bot = await make_bot()

    async def one(n: int) -> list[str]:
        conversation = f"many-{n}"
        answers = []
        for text in ten_turns(n):
            result = await bot.handle(conversation, text)
            answers.append(result.texts[0])
        return answers

    conversations = await asyncio.gather(*(one(n) for n in range(50)))

    for n, answers in enumerate(conversations):
        assert len(answers) == 10
        assert answers[1] == "Your checking balance is 1520.5 EUR."
        assert answers[4] == "Please enter an amount above zero."
        assert answers[-1].startswith(f"Done: {n + 1} EUR sent to user{n}.")
        assert [t["amount"] for t in sent_in(f"many-{n}")] == [float(n + 1)]


async def test_concurrent_turns_of_one_conversation_run_in_arrival_order(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot()
    tasks = []
    for text in ten_turns(9):
        tasks.append(asyncio.create_task(bot.handle("ordered", text)))
        await asyncio.sleep(0)  # arrival order = creation order
    results = await asyncio.gather(*tasks)

    assert [r.texts for r in results[:-1]] == [
        ["Which account: checking or savings?"],
        ["Your checking balance is 1520.5 EUR."],
        ["Who should receive the money?"],
        ["How much do you want to send?"],
        ["Please enter an amount above zero.", "How much do you want to send?"],
        ["What is their IBAN?"],
        ["Which account: checking or savings?"],
        ["Your savings balance is 8000 EUR.", "What is their IBAN?"],
        [f"Send 10 EUR to user9 ({IBAN})?"],
    ]
    assert results[-1].texts[0].startswith("Done: 10 EUR sent to user9.")
    assert [t["amount"] for t in sent_in("ordered")] == [10.0]


@pytest.mark.sqlite_only  # another process is a registry on the SQLite file
@pytest.mark.parametrize(
    ("decision", "outcome"),
    [("approve", "Done: 7 EUR sent to Fay."), ("skip", "Nothing was sent.")],
)
async def test_a_message_after_a_decision_made_elsewhere_gets_the_outcome_without_an_apology(
    make_bot: BotFactory, tmp_path: Path, decision: str, outcome: str
) -> None:
    # Decided by another process (soni confirmations approve, say): this process's
    # next turn is told what became of it, whatever the user wrote.
    conversation = f"t20-{decision}"
    db = tmp_path / "elsewhere.db"
    first = await make_bot(db=db)
    *_, asked = [await first.handle(conversation, t) for t in ("/transfer_funds", "Fay", "7", IBAN)]
    await first.aclose()
    elsewhere = ConfirmationRegistry(SqliteConfirmationStore(str(db)))
    record = await elsewhere.get_by_id(asked.pending[0].confirmation_id)
    assert record is not None
    await elsewhere.decide(record, decision, actor="ops", channel="cli")
    await elsewhere.aclose()

    second = await make_bot(db=db)
    result = await second.handle(conversation, "thanks")

    assert "Sorry, I didn't understand that." not in result.texts
    assert result.texts[0].startswith(outcome)
    assert len(sent_in(conversation)) == (1 if decision == "approve" else 0)


async def test_a_message_not_understood_while_a_confirmation_waits_still_says_so(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot()
    for text in ("/transfer_funds", "Gus", "8", IBAN):
        await bot.handle("t21", text)
    result = await bot.handle("t21", "purple monkey dishwasher")

    assert result.texts[0] == "Sorry, I didn't understand that."
    assert result.status == "awaiting_confirmation"


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
