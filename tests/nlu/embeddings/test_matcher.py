"""Where the rules are unsure, the matcher reads paraphrases; everywhere else it stays out."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from soni import Bot
from soni.nlu import (
    Choose,
    Clarify,
    Command,
    ConversationContext,
    OutOfScope,
    PendingInfo,
    StartFlow,
)
from soni.nlu.embeddings import flow_index

from ._bots import EXAMPLES, fresh, load

PAY = PendingInfo(
    "c-1",
    ("pay_online", "pay_at_pickup"),
    {"pay_online": "Pay now by card", "pay_at_pickup": "Pay when I pick it up"},
)


@pytest.fixture
async def restaurant(model: Path) -> AsyncIterator[tuple[Bot, Bot]]:
    """The fresh restaurant bot: the rules alone, and the rules with the matcher."""
    rules = await load(fresh("restaurant"), embeddings=False)
    both = await load(fresh("restaurant"), embeddings=True)
    yield rules, both
    await rules.aclose()
    await both.aclose()


async def understood(bot: Bot, text: str, **context: Any) -> list[Command]:
    engine = bot.engine
    flow = context.get("active_flow")
    given = ConversationContext(
        flows=engine.flow_infos, slot_types=engine.slot_types(flow), **context
    )
    return await engine.understanding.understand(text, given)


@pytest.mark.parametrize(
    ("text", "flow", "slots"),
    [
        ("is the kitchen still open?", "restaurant_info", {}),
        ("when do you close on fridays?", "restaurant_info", {}),
        ("we'd like to reserve for 5 people", "book_table", {"party_size": 5}),
        ("what time do you shut tonight?", "restaurant_info", {}),
    ],
)
async def test_a_paraphrase_the_rules_miss_starts_its_flow(
    restaurant: tuple[Bot, Bot], text: str, flow: str, slots: Mapping[str, Any]
) -> None:
    rules, both = restaurant

    assert await understood(rules, text) == [OutOfScope(text)]
    assert await understood(both, text) == [StartFlow(flow, slots)]


async def test_a_question_instead_of_an_answer_starts_the_flow_it_means(
    restaurant: tuple[Bot, Bot],
) -> None:
    rules, both = restaurant
    asked = {"active_flow": "book_table", "expected_slot": both.engine.slot_info("party_size")}
    text = "how late is the kitchen open?"

    assert await understood(rules, text, **asked) == [OutOfScope(text)]
    assert await understood(both, text, **asked) == [StartFlow("restaurant_info", {})]


async def test_what_the_rules_read_is_left_alone(restaurant: tuple[Bot, Bot]) -> None:
    rules, both = restaurant

    for text in ("book a table", "table for 4", "I want to cancel or move my reservation"):
        assert await understood(both, text) == await understood(rules, text)
    # Two flows about as close: the rules ask which one, with or without the matcher.
    [asked] = await understood(both, "I want to cancel or move my reservation")
    assert isinstance(asked, Clarify)


async def test_an_option_said_in_other_words_is_chosen(restaurant: tuple[Bot, Bot]) -> None:
    rules, both = restaurant
    at = {"active_flow": "order_takeaway", "pending": PAY}

    assert await understood(rules, "I'll pay when I get there", **at) == [
        OutOfScope("I'll pay when I get there")
    ]
    assert await understood(both, "I'll pay when I get there", **at) == [Choose("pay_at_pickup")]
    # A message that says "not" about an option picks none.
    assert not any(
        isinstance(c, Choose) for c in await understood(both, "not when I get there", **at)
    )


async def test_at_a_pending_confirmation_no_flow_is_started(restaurant: tuple[Bot, Bot]) -> None:
    _, both = restaurant
    one = PendingInfo("c-2", ("make_booking",))

    for context in ({"pending": one}, {"pending": one, "awaiting_confirm_step": True}):
        got = await understood(
            both, "when do you close on fridays?", active_flow="book_table", **context
        )
        assert not any(isinstance(c, StartFlow | Choose) for c in got), got


# Out-of-scope messages near each bot's domain, written for these tests (the held-out
# sets' own are scored in test_sets.py): the rules leave each out of scope, and so
# must the matcher. Some reach a cosine of 0.5 with a flow ("who is the chef?",
# "how do I become a courier?"), never with a lead of 0.12 over the next one.
OUT_OF_SCOPE = {
    fresh("restaurant"): [
        "do you have vegan options?", "is there parking nearby?", "can I bring my dog?",
        "do you sell gift cards?", "are you hiring waiters?", "who is the chef?",
        "is the food spicy?", "do you have a kids menu?", "tell me a joke",
        "do you guys deliver pizza too?",
    ],
    fresh("helpdesk"): [
        "what's for lunch in the canteen?", "when is the next team meeting?",
        "how many holidays do I have left?",
        "can you book me a flight to berlin?", "can you book me a table for lunch",
    ],
    fresh("parcels"): [
        "do you sell boxes and tape?", "are you hiring drivers?", "how do I become a courier?",
        "can I send a letter by fax?",
        "what's the weather like in Hamburg tomorrow",
    ],
    EXAMPLES / "banking": ["do you sell insurance?", "can I get a mortgage?", "tell me a joke"],
    EXAMPLES / "pharmacy": ["can you diagnose my rash?", "do you sell pet medicine?"],
    EXAMPLES / "hotel_booking": ["is breakfast included?", "where can I eat nearby?"],
}  # fmt: skip


@pytest.mark.parametrize("folder", list(OUT_OF_SCOPE), ids=lambda p: p.parent.name + "/" + p.name)
async def test_out_of_scope_stays_out_of_scope(folder: Path, model: Path) -> None:
    bot = await load(folder, embeddings=True)
    try:
        for text in OUT_OF_SCOPE[folder]:
            assert await understood(bot, text) == [OutOfScope(text)], text
    finally:
        await bot.aclose()


async def test_a_bots_flows_are_encoded_once(restaurant: tuple[Bot, Bot], model: Path) -> None:
    _, both = restaurant
    flows = both.engine.flow_infos
    await understood(both, "is the kitchen still open?")
    before = flow_index.cache_info()

    await understood(both, "how late is the kitchen open?")

    assert flow_index.cache_info().hits == before.hits + 1
    assert flow_index.cache_info().misses == before.misses
    assert flow_index(model, flows) is flow_index(model, flows)


async def test_a_model_that_fails_to_load_leaves_the_rules_answer(
    model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("config.json", "model.safetensors"):
        (broken / name).symlink_to(model / name)
    (broken / "tokenizer.json").write_text("not a tokenizer", encoding="utf-8")
    bot = await load(fresh("restaurant"), embeddings=True, embeddings_model=str(broken))
    try:
        got = await understood(bot, "is the kitchen still open?")
    finally:
        await bot.aclose()

    assert got == [OutOfScope("is the kitchen still open?")]
    assert "the embeddings matcher failed" in caplog.text
    assert "the rules' answer stands" in caplog.text
