"""The pharmacy example: a refill with choice synonyms, a limit, a guarded order, a lookup."""

from __future__ import annotations

import datetime
from types import ModuleType

import pytest

from soni import load_actions
from soni.confirmations import Status

from .conftest import EXAMPLES, BotFactory, replies

QUANTITY = "How many packs?"
MEDICATION = "Which medication do you need?"
PICKUP = "Where do you want it: at the pharmacy, home delivery or the airport kiosk?"
DATE = "For which day?"
DAY = "2031-03-14"


def pharmacy() -> ModuleType:
    return load_actions(EXAMPLES / "pharmacy" / "actions.py")[0]


def placed_in(conversation: str) -> list[dict[str, object]]:
    return [p for p in pharmacy().PLACED if p["conversation"] == conversation]


async def test_a_refill_collects_confirms_and_orders_once(make_bot: BotFactory) -> None:
    bot = await make_bot("pharmacy")
    answers = await replies(
        bot,
        "ph-1",
        '/refill{"medication": "ibuprofen"}',
        "/set quantity=2",
        "/set pickup=airport",
        f"/set pickup_date={DAY}",
    )
    assert answers == [
        [QUANTITY],
        [PICKUP],
        [DATE],
        [f"Order 2 packs of ibuprofen for airport kiosk on {DAY}?"],
    ]

    result = await bot.handle("ph-1", "/affirm", user_id="u1")

    assert result.status == "ended"
    (order,) = placed_in("ph-1")
    assert result.texts == [
        f"Ordered! 2 packs of ibuprofen, airport kiosk, {DAY}. "
        f"Your order number is {order['reference']}."
    ]
    assert order["quantity"] == 2
    assert order["pickup"] == "airport kiosk"
    assert order["pickup_date"] == datetime.date(2031, 3, 14)


async def test_brand_names_and_pickup_synonyms_become_the_canonical_choice(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot("pharmacy")
    await replies(bot, "ph-2", '/refill{"medication": "Nurofen", "quantity": 1}')
    result = await bot.handle("ph-2", '/set pickup="the airport one"')

    assert result.slots["medication"] == "ibuprofen"
    assert result.slots["pickup"] == "airport kiosk"
    assert result.texts == [DATE]
    result = await bot.handle("ph-2", '/set pickup="to my home"')
    assert result.slots["pickup"] == "home delivery"


async def test_everything_given_at_once_goes_straight_to_the_confirmation(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot("pharmacy")
    slots = (
        f'{{"medication": "tylenol", "quantity": 3, "pickup": "pharmacy", "pickup_date": "{DAY}"}}'
    )
    result = await bot.handle("ph-3", f"/refill{slots}")

    assert result.status == "awaiting_confirmation"
    assert result.texts == [f"Order 3 packs of paracetamol for pharmacy on {DAY}?"]
    assert result.pending[0].options == ("place_refill",)


async def test_an_unknown_medication_and_a_bad_quantity_are_asked_again(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot("pharmacy")
    await replies(bot, "ph-4", "/refill")
    result = await bot.handle("ph-4", "/set medication=aspirin")

    assert result.texts[-1] == MEDICATION
    assert "medication" not in result.slots
    await bot.handle("ph-4", "/set medication=zyrtec")
    refused = await bot.handle("ph-4", "/set quantity=0")
    assert refused.texts == ["Please give a whole number of packs, at least one.", QUANTITY]
    assert (await bot.handle("ph-4", "/set quantity=1.5")).texts[-1] == QUANTITY
    assert (await bot.handle("ph-4", "/set quantity=1")).texts == [PICKUP]


async def test_more_than_six_packs_ends_with_a_call_to_the_pharmacist(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot("pharmacy")
    await replies(bot, "ph-5", '/refill{"medication": "cetirizine"}')
    result = await bot.handle("ph-5", "/set quantity=12")

    assert result.texts == [
        "More than 6 packs at once needs a word with the pharmacist; please call us."
    ]
    assert result.status == "ended"
    assert placed_in("ph-5") == []


@pytest.mark.parametrize("answer", ["/deny", "no"])
async def test_declining_orders_nothing(make_bot: BotFactory, answer: str) -> None:
    conversation = f"ph-deny-{answer}"
    bot = await make_bot("pharmacy")
    *_, asked = [
        await bot.handle(conversation, text)
        for text in (
            '/refill{"medication": "paracetamol", "quantity": 2}',
            "/set pickup=pharmacy",
            f"/set pickup_date={DAY}",
        )
    ]
    result = await bot.handle(conversation, answer)

    assert result.texts == ["OK, nothing was ordered."]  # on_skip says it: no second ack
    assert result.status == "ended"
    assert placed_in(conversation) == []
    record = await bot.engine.confirmations.get_by_id(asked.pending[0].confirmation_id)
    assert record is not None and record.status is Status.SKIPPED


async def test_a_correction_asks_again_with_the_new_quantity(make_bot: BotFactory) -> None:
    bot = await make_bot("pharmacy")
    *_, asked = [
        await bot.handle("ph-6", text)
        for text in (
            '/refill{"medication": "ibuprofen", "quantity": 2}',
            '/set pickup="home delivery"',
            f"/set pickup_date={DAY}",
        )
    ]
    corrected = await bot.handle("ph-6", "/set quantity=5")

    assert corrected.texts == [f"Order 5 packs of ibuprofen for home delivery on {DAY}?"]
    assert corrected.pending[0].token != asked.pending[0].token
    await bot.handle("ph-6", "/affirm")
    assert [p["quantity"] for p in placed_in("ph-6")] == [5]


async def test_a_correction_above_the_limit_meets_the_branch(make_bot: BotFactory) -> None:
    bot = await make_bot("pharmacy")
    await replies(
        bot,
        "ph-7",
        '/refill{"medication": "ibuprofen", "quantity": 2}',
        "/set pickup=pharmacy",
        f"/set pickup_date={DAY}",
    )
    result = await bot.handle("ph-7", "/set quantity=9")

    assert result.texts == [
        "More than 6 packs at once needs a word with the pharmacist; please call us."
    ]
    assert placed_in("ph-7") == []


async def test_an_order_that_fails_takes_the_error_path(make_bot: BotFactory) -> None:
    bot = await make_bot("pharmacy")
    await replies(
        bot,
        "ph-8",
        '/refill{"medication": "prilosec", "quantity": 1}',
        "/set pickup=kiosk",
        f"/set pickup_date={DAY}",
    )
    result = await bot.handle("ph-8", "/affirm")

    assert result.texts == ["Sorry, omeprazole could not be ordered; nothing was charged."]
    assert result.status == "ended"
    assert placed_in("ph-8") == []


async def test_cancelling_at_the_confirmation_withdraws_it(make_bot: BotFactory) -> None:
    bot = await make_bot("pharmacy")
    *_, asked = [
        await bot.handle("ph-9", text)
        for text in (
            '/refill{"medication": "ibuprofen", "quantity": 2}',
            "/set pickup=pharmacy",
            f"/set pickup_date={DAY}",
        )
    ]
    result = await bot.handle("ph-9", "/cancel")

    assert result.texts == ["OK, I've cancelled refill a prescription."]
    assert result.status == "ended"
    record = await bot.engine.confirmations.get_by_id(asked.pending[0].confirmation_id)
    assert record is not None and record.status is Status.CANCELLED
    assert placed_in("ph-9") == []


async def test_cancelling_a_question_ends_the_refill(make_bot: BotFactory) -> None:
    bot = await make_bot("pharmacy")
    await replies(bot, "ph-10", '/refill{"medication": "ibuprofen"}')
    result = await bot.handle("ph-10", "/cancel")

    assert result.texts == ["OK, I've cancelled refill a prescription."]
    assert result.status == "ended"


async def test_a_status_check_during_a_refill_is_a_digression(make_bot: BotFactory) -> None:
    bot = await make_bot("pharmacy")
    await replies(bot, "ph-11", '/refill{"medication": "ibuprofen"}')
    asked = await bot.handle("ph-11", "/check_order_status")
    assert asked.texts == ["What is your order number? It starts with RX-."]

    result = await bot.handle("ph-11", "/set order_number=rx-1002")

    assert result.texts == ["Order rx-1002: out for delivery.", QUANTITY]
    assert result.slots["medication"] == "ibuprofen"


async def test_an_unknown_order_number_is_said_so(make_bot: BotFactory) -> None:
    bot = await make_bot("pharmacy")
    result = await bot.handle("ph-12", '/check_order_status{"order_number": "RX-9999"}')

    assert result.texts == ["I can't find an order RX-9999."]
    assert result.status == "ended"


async def test_a_placed_order_can_be_looked_up(make_bot: BotFactory) -> None:
    bot = await make_bot("pharmacy")
    await replies(
        bot,
        "ph-13",
        '/refill{"medication": "cetirizine", "quantity": 1}',
        "/set pickup=pharmacy",
        f"/set pickup_date={DAY}",
        "/affirm",
    )
    (order,) = placed_in("ph-13")
    result = await bot.handle(
        "ph-13", f'/check_order_status{{"order_number": "{order["reference"]}"}}'
    )

    assert result.texts == [f"Order {order['reference']}: being prepared."]


async def test_opening_hours_and_help(make_bot: BotFactory) -> None:
    bot = await make_bot("pharmacy")

    hours = await bot.handle("ph-14", "/pharmacy_hours")
    helped = await bot.handle("ph-14", "/help")

    assert hours.texts == [
        "The pharmacy is open 8:00-20:00 Monday to Saturday; the airport kiosk never closes."
    ]
    assert helped.texts == [
        "I can help with: refill a prescription, check an order's status, tell the opening hours."
    ]


async def claim_and_die(bot: object, conversation: str) -> None:
    """Approve the refill and claim its run as a process that then dies before the handler."""
    from soni.confirmations import ConfirmationRegistry, Runner

    engine = bot.engine  # type: ignore[attr-defined]
    (waiting,) = await engine.confirmations.list(conversation_id=conversation, status="pending")
    doomed = ConfirmationRegistry(engine.confirmations.store, runner=Runner())
    await doomed.decide_and_begin(waiting, "approve", actor="u1", channel="http")
    doomed.runner.close()


async def test_a_refill_whose_run_was_cut_off_is_checked_at_the_pharmacy_first(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot("pharmacy")
    await replies(bot, "ph-20", '/refill{"medication": "ibuprofen"}', "/set quantity=2",
                  "/set pickup=airport", f"/set pickup_date={DAY}")  # fmt: skip
    await claim_and_die(bot, "ph-20")

    # The reconcile check finds no such order: it was never placed, so it is placed now.
    result = await bot.handle("ph-20", "yes", user_id="u1")

    assert result.texts[0].startswith("Ordered! 2 packs of ibuprofen")
    assert len(placed_in("ph-20")) == 1

    await replies(bot, "ph-21", '/refill{"medication": "ibuprofen"}', "/set quantity=3",
                  "/set pickup=airport", f"/set pickup_date={DAY}")  # fmt: skip
    await claim_and_die(bot, "ph-21")

    def pharmacy_down(ctx: object) -> None:
        raise ConnectionError("the pharmacy system does not answer")

    placing = bot.engine.actions.resolve("place_refill").handler
    bot.engine.actions.register_local("place_refill", placing, reconcile=pharmacy_down)
    unsure = await bot.handle("ph-21", "yes", user_id="u1")

    assert unsure.texts == [
        "I was cut off while ordering ibuprofen, so I can't tell whether the order went "
        "through. Please ask me where your order is before ordering again."
    ]
    assert placed_in("ph-21") == []
