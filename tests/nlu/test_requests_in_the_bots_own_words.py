"""A request worded unlike any trigger starts the flow whose own words it says.

"they forgot my drink" shares no phrase with "report a problem with my order", but
"forgot" is one of the words the bot gave that flow (a synonym of its ``problem``
choice), and no other flow has it. What the bot says of each flow — its name,
description, triggers, what its slots are called, its choices' values and synonyms —
is that flow's vocabulary; a word every flow shares tells none apart, and words no
flow has ("a taxi", "the weather") count against the request. A question about a
value ("is the ramen spicy?") asks nothing of the flow that offers it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from soni import Bot
from soni.nlu._vocab import flow_words
from soni.nlu.commands import Command, OutOfScope, StartFlow
from soni.nlu.protocol import ConversationContext

from .._bots import written_bot

BOT = """
slots:
  order_number:
    type: string
    prompt: "Your order number? It looks like FD-904412."
    pattern: '(?i)FD-?\\d{6}'
  problem:
    type: choice
    prompt: "What went wrong: a missing item, cold food, or late?"
    choices:
      missing item: [missing, forgot, forgotten, left out, not in the bag]
      cold food: [cold, lukewarm, soggy]
      late: [delayed, took ages, arrived late]
  dish:
    type: choice
    prompt: "Which dish?"
    choices:
      ramen: [noodles, noodle soup]
      dumplings: [gyoza]
  items:
    type: string
    prompt: "Which items were affected?"
    description: "the dishes or drinks the problem is about"
  new_address: {type: string, prompt: "What's the new delivery address?"}
  tip_amount: {type: float, prompt: "How much would you like to tip your rider, in euros?"}
flows:
  track_order:
    description: "find out where an order is and when it arrives"
    trigger: {intents: ["where is my order", "track my order"]}
    steps:
      - {step: ask, type: collect, slot: order_number}
      - {step: done, type: say, message: "Order {order_number} is on its way."}
  report_problem:
    description: "report a problem with an order: missing items, cold food, late"
    trigger: {intents: ["report a problem with my order", "my food was {problem}"]}
    steps:
      - {step: ask, type: collect, slot: order_number}
      - {step: what, type: collect, slot: problem}
      - {step: which, type: collect, slot: items}
      - {step: done, type: say, message: "Noted: {problem} on {order_number}."}
  order_food:
    description: "order a dish for delivery"
    trigger: {intents: ["I want to order food", "order {dish}"]}
    steps:
      - {step: ask, type: collect, slot: dish}
      - {step: done, type: say, message: "One {dish} coming."}
  tip_rider:
    description: "tip the rider who delivers an order"
    trigger: {intents: ["tip my rider"]}
    steps:
      - {step: ask, type: collect, slot: order_number}
      - {step: amount, type: collect, slot: tip_amount}
      - {step: done, type: say, message: "Thanks, {tip_amount} euros to your rider."}
  change_address:
    description: "send an order to another address"
    trigger: {intents: ["change my address"]}
    steps:
      - {step: ask, type: collect, slot: new_address}
      - {step: done, type: say, message: "It goes to {new_address}."}
  kitchen_hours:
    description: "tell when the kitchen is open"
    trigger: {intents: ["opening hours"]}
    steps:
      - {step: tell, type: say, message: "The kitchen is open from noon to 11pm."}
"""


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Bot]:
    async with written_bot(tmp_path, BOT) as loaded:
        yield loaded


async def understood(bot: Bot, text: str) -> list[Command]:
    engine = bot.engine
    context = ConversationContext(flows=engine.flow_infos, slot_types=engine.slot_types(None))
    return await engine.understanding.understand(text, context)


@pytest.mark.parametrize(
    ("text", "flow", "slots"),
    [
        # A synonym of a choice only one flow collects, and the value it names.
        ("they forgot my drink", "report_problem", {"problem": "missing item"}),
        ("my fries were soggy, order FD-904412", "report_problem",
         {"problem": "cold food", "order_number": "FD-904412"}),
        # Words of the flow's description and its slots' prompts.
        ("How do I tip my delivery person", "tip_rider", {}),
        ("the rider was lovely, can I tip him?", "tip_rider", {}),
        ("what are the kitchen's hours", "kitchen_hours", {}),
        # A question about the user's own: the value asked about is the request.
        ("why was my food so soggy?", "report_problem", {"problem": "cold food"}),
        # A typo of a word the bot uses.
        ("kichen hours pls", "kitchen_hours", {}),
    ],
)  # fmt: skip
async def test_a_request_in_the_flows_own_words_starts_it(
    bot: Bot, text: str, flow: str, slots: dict[str, Any]
) -> None:
    assert await understood(bot, text) == [StartFlow(flow, slots)]


async def test_a_code_several_flows_take_goes_to_the_one_the_words_are_about(bot: Bot) -> None:
    # FD-904412 fits tracking, reporting and tipping; "late" is only reporting's.
    got = await understood(bot, "Hello. Order FD-904412 was over an hour late.")

    assert got == [StartFlow("report_problem", {"order_number": "FD-904412", "problem": "late"})]


@pytest.mark.parametrize(
    "text",
    [
        "is the ramen spicy?",  # a question about a value the bot offers
        "who makes the gyoza?",
        "can you book me a taxi to the kitchen",  # "taxi": a word no flow has
        "what's the weather like tomorrow",
        "tell me a joke",
    ],
)
async def test_what_no_flow_is_about_stays_out_of_scope(bot: Bot, text: str) -> None:
    assert await understood(bot, text) == [OutOfScope(text)]


async def test_a_word_most_flows_share_tells_none_apart(bot: Bot) -> None:
    engine = bot.engine
    words = flow_words(engine.flow_infos, engine.slot_types(None))

    # "order" is a word of most of the bot's flows: it weighs little, and leads to none.
    assert 0 < words.weight["order"] < words.weight["rider"]
    assert words.best("the order") is None
    assert words.best("the rider") == "tip_rider"


async def test_in_a_conversation_the_flow_starts_and_runs(bot: Bot) -> None:
    said = await bot.handle("c1", "they forgot the drinks")
    assert said.texts == ["Your order number? It looks like FD-904412."]

    said = await bot.handle("c1", "FD-118230")
    assert said.texts == ["Which items were affected?"]

    said = await bot.handle("c1", "the dumplings")
    assert said.texts == ["Noted: missing item on FD-118230."]


async def test_a_question_in_another_flows_words_is_no_free_text_answer(bot: Bot) -> None:
    await bot.handle("c1", "change my address")

    said = await bot.handle("c1", "quick question first, is the kitchen open on sundays?")
    assert said.texts[0] == "The kitchen is open from noon to 11pm."

    said = await bot.handle("c1", "Calle Serrano 5")
    assert said.texts == ["It goes to Calle Serrano 5."]
