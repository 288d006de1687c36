"""``bot.events``: one stream of turns, resets, confirmation changes and action runs."""

from __future__ import annotations

from soni.confirmations import Status
from soni.engine import (
    ActionRan,
    BotEvent,
    ConfirmationChanged,
    ConversationReset,
    TurnCompleted,
)
from soni.nlu.protocol import MAX_MESSAGE_CHARS

from .conftest import BotFactory, replies
from .test_banking import IBAN, bank


def kinds(events: list[BotEvent]) -> list[str]:
    """Each event as a short word, to compare orders."""
    shown = []
    for event in events:
        if isinstance(event, TurnCompleted):
            shown.append(f"turn:{event.status}")
        elif isinstance(event, ConfirmationChanged):
            shown.append(f"confirmation:{event.confirmation.to_status.value}")
        elif isinstance(event, ActionRan):
            shown.append(f"ran:{event.action}:{event.outcome}")
        else:
            shown.append("reset")
    return shown


async def test_a_run_no_confirmation_guards_is_told_before_its_turn_ends(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot()
    heard: list[BotEvent] = []
    bot.events.subscribe(heard.append)

    await replies(bot, "ev-1", "/check_balance", "savings")

    assert kinds(heard) == ["turn:awaiting_input", "ran:get_balance:done", "turn:ended"]
    ran = heard[1]
    assert isinstance(ran, ActionRan)
    assert (ran.conversation_id, ran.confirmation_id, ran.remote) == ("ev-1", None, False)


async def test_a_failed_run_carries_its_error(make_bot: BotFactory) -> None:
    bot = await make_bot()
    heard: list[BotEvent] = []
    bot.events.subscribe(heard.append)
    await replies(bot, "ev-2", "/check_balance")
    bank().BALANCES.pop("savings", None)
    try:
        await bot.handle("ev-2", "savings")
    finally:
        bank().BALANCES["savings"] = 8000.0

    (ran,) = [e for e in heard if isinstance(e, ActionRan)]
    assert ran.outcome == "failed"
    assert ran.error is not None and "savings" in ran.error


async def test_a_guarded_run_is_told_through_its_confirmation(make_bot: BotFactory) -> None:
    bot = await make_bot()
    heard: list[BotEvent] = []
    bot.events.subscribe(heard.append)
    asked = await bot.handle("ev-3", "I want to send money", user_id="u1")
    for text in ("Bob", "50", IBAN):
        asked = await bot.handle("ev-3", text, user_id="u1")
    (pending,) = asked.pending
    assert pending.token is not None
    await bot.decide(pending.token, "approve", actor="u1", channel="api")

    assert kinds(heard)[3:] == [
        "confirmation:pending",
        "turn:awaiting_confirmation",
        "confirmation:approved",
        "confirmation:executing",
        "confirmation:executed",
        "ran:execute_transfer:done",
        "turn:ended",
    ]
    ran = next(e for e in heard if isinstance(e, ActionRan))
    assert ran.confirmation_id == pending.confirmation_id
    changed = [e for e in heard if isinstance(e, ConfirmationChanged)]
    assert all(not e.remote and e.conversation_id == "ev-3" for e in changed)
    assert changed[-1].confirmation.to_status is Status.EXECUTED


async def test_a_reset_and_a_refused_message_are_told(make_bot: BotFactory) -> None:
    bot = await make_bot()
    heard: list[BotEvent] = []
    stop = bot.events.subscribe(heard.append)
    await bot.handle("ev-4", "x" * (MAX_MESSAGE_CHARS + 1))
    await bot.reset("ev-4")
    stop()
    await bot.handle("ev-4", "hello")

    assert kinds(heard) == ["turn:active", "reset"]
    refused, reset = heard
    assert isinstance(refused, TurnCompleted) and "too long" in refused.replies[0].text
    assert isinstance(reset, ConversationReset) and reset.conversation_id == "ev-4"


async def test_a_failing_handler_does_not_stop_the_others_or_the_turn(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot()
    heard: list[BotEvent] = []

    def broken(event: BotEvent) -> None:
        raise RuntimeError("a subscriber's bug")

    async def later(event: BotEvent) -> None:
        heard.append(event)

    bot.events.subscribe(broken)
    bot.events.subscribe(later)
    result = await bot.handle("ev-5", "/check_balance")

    assert result.status == "awaiting_input"
    assert kinds(heard) == ["turn:awaiting_input"]
