"""The bot's own words: every built-in message may be reworded for the whole bot
(``settings.messages``) or for one flow (a flow's ``messages``), as a template over the
slots and the message's own values, or as a list of variants; a step with its own
``on_skip`` is not preceded by a default "OK, I won't …"."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from soni import Bot
from soni.dsl import load_bot
from soni.dsl.errors import ConfigErrors

from .._bots import written_bot

BOT = """
settings:
  messages:
    not_understood: ["Sorry {name}, I missed that.", "Pardon, {name}?", "Come again, {name}?"]
    help: "Ask me to {flows}."
    skipped: "Fine, no {action}."
slots:
  name: {type: string, prompt: "Your name?", default: friend}
  preferred_time: {type: time}
  amount: {type: float}
actions:
  pay: {inputs: [amount]}
flows:
  pay_bill:
    description: "pay a bill"
    trigger: {intents: ["pay a bill"]}
    messages:
      cancelled: "Bill left unpaid, {name}."
    steps:
      - {step: ask, type: collect, slot: amount}
      - {step: go, type: action, call: pay, confirm: "Pay {amount}?"}
      - {step: done, type: end, message: ["Paid.", "All paid.", "Done and paid."]}
  pay_quietly:
    description: "pay quietly"
    trigger: {intents: ["pay quietly"]}
    steps:
      - {step: ask, type: collect, slot: amount}
      - {step: go, type: action, call: pay, confirm: "Pay {amount}?", on_skip: kept}
      - {step: done, type: end, message: "Paid."}
      - {step: kept, type: end, message: "Nothing was paid."}
  book:
    description: "book a time"
    trigger: {intents: ["book a time"]}
    steps:
      - {step: ask, type: collect, slot: preferred_time}
      - {step: done, type: end, message: "Booked."}
"""

ACTIONS = """
from soni import ActionRegistry

@ActionRegistry.register("pay")
def pay(amount: float) -> dict:
    return {}
"""


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Bot]:
    async with written_bot(tmp_path, BOT, ACTIONS) as loaded:
        yield loaded


async def test_the_bot_words_a_built_in_message_its_own_way(bot: Bot) -> None:
    help_ = await bot.handle("c1", "help")
    assert help_.texts == ["Ask me to pay a bill, pay quietly, book a time."]


async def test_a_flow_words_its_own_cancelling(bot: Bot) -> None:
    await bot.handle("c2", "pay a bill")
    assert (await bot.handle("c2", "never mind")).texts == ["Bill left unpaid, friend."]
    await bot.handle("c2", "book a time")
    assert (await bot.handle("c2", "never mind")).texts == ["OK, I've cancelled book a time."]


async def test_with_its_own_on_skip_a_step_is_not_preceded_by_a_default_ack(bot: Bot) -> None:
    await bot.handle("c3", "pay quietly")
    await bot.handle("c3", "20")
    assert (await bot.handle("c3", "no")).texts == ["Nothing was paid."]


async def test_without_on_skip_the_acknowledgement_is_said_in_the_bots_words(bot: Bot) -> None:
    await bot.handle("c4", "pay a bill")
    await bot.handle("c4", "20")
    assert (await bot.handle("c4", "no")).texts == ["Fine, no pay."]


async def test_a_slot_is_named_as_people_write_it(bot: Bot) -> None:
    await bot.handle("c5", "book a time")  # no prompt: asked by its name
    refused = await bot.handle("c5", "whenever")
    assert refused.texts[-1] == "What is the preferred time?"


async def test_a_variant_is_chosen_per_turn_the_same_in_every_run(tmp_path: Path) -> None:
    said: list[list[str]] = []
    for run in range(2):
        (tmp_path / str(run)).mkdir()
        async with written_bot(tmp_path / str(run), BOT, ACTIONS) as loaded:
            texts = []
            for conversation in range(12):
                texts += (await loaded.handle(f"v{conversation}", "blah blah")).texts
            said.append(texts)
    assert said[0] == said[1]  # no randomness: a test can pin what is said
    variants = {"Sorry friend, I missed that.", "Pardon, friend?", "Come again, friend?"}
    assert set(said[0]) <= variants
    assert len(set(said[0])) >= 2  # varied across conversations


async def test_the_variant_seed_shifts_the_choice(tmp_path: Path) -> None:
    said = []
    for seed in (0, 1):
        (tmp_path / str(seed)).mkdir()
        (tmp_path / str(seed) / "bot.yaml").write_text(BOT)
        (tmp_path / str(seed) / "actions.py").write_text(ACTIONS)
        loaded = await Bot.load(tmp_path / str(seed), db=":memory:", variant_seed=seed)
        try:
            said.append([(await loaded.handle(f"s{i}", "blah")).texts[0] for i in range(12)])
        finally:
            await loaded.aclose()
    assert said[0] != said[1]


async def test_a_steps_message_may_be_variants(bot: Bot) -> None:
    ends = set()
    for conversation in range(10):
        await bot.handle(f"e{conversation}", "pay a bill")
        await bot.handle(f"e{conversation}", "20")
        ends.update((await bot.handle(f"e{conversation}", "yes")).texts)
    assert ends <= {"Paid.", "All paid.", "Done and paid."} and len(ends) >= 2


def errors_of(tmp_path: Path, text: str) -> str:
    (tmp_path / "bot.yaml").write_text(text)
    with pytest.raises(ConfigErrors) as info:
        load_bot(tmp_path / "bot.yaml")
    return str(info.value)


MINIMAL = """
flows:
  f:
    steps: [{step: s, type: say, message: "hi"}]
"""


def test_an_unknown_message_name_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    error = errors_of(tmp_path, "settings:\n  messages: {not_understod: 'Huh?'}\n" + MINIMAL)
    assert "unknown message 'not_understod' (did you mean 'not_understood'?)" in error


def test_a_message_that_is_the_bots_cannot_be_worded_by_a_flow(tmp_path: Path) -> None:
    error = errors_of(
        tmp_path,
        """
flows:
  f:
    messages: {turn_error: "Oops"}
    steps: [{step: s, type: say, message: "hi"}]
""",
    )
    assert "message 'turn_error' is the bot's, not a flow's" in error


def test_a_message_names_slots_and_its_own_values_only(tmp_path: Path) -> None:
    error = errors_of(
        tmp_path, 'settings:\n  messages: {skipped: ["No {action}.", "Not {acton}."]}\n' + MINIMAL
    )
    assert "settings.messages.skipped[1]: unknown slot 'acton'" in error
    assert "skipped[0]" not in error


def test_every_built_in_message_is_in_the_docs_table() -> None:
    from soni.dsl.responses import RESPONSES

    page = (Path(__file__).resolve().parents[2] / "docs" / "bot-format.md").read_text()
    missing = [name for name in RESPONSES if f"| `{name}` |" not in page]
    assert missing == []


ASKING = """
slots:
  amount: {type: float}
  ok: {type: boolean}
  paid: {type: boolean}
actions:
  pay: {inputs: [amount]}
flows:
  check:
    trigger: {intents: ["check it"]}
    steps:
      - {step: ask, type: collect, slot: amount}
      - step: sure
        type: confirm
        slot: ok
        message: ["Sure about {amount}?", "Really {amount}?", "Confirm {amount}?", "OK, {amount}?"]
      - {step: done, type: end, message: "Checked."}
  pay_silently:
    trigger: {intents: ["pay silently"]}
    steps:
      - {step: ask, type: collect, slot: amount}
      - {step: go, type: action, call: pay, confirm: "Pay {amount}?", on_skip: note}
      - {step: done, type: end, message: "Paid."}
      - {step: note, type: set, slots: {paid: false}}
"""


async def test_a_question_a_confirmation_records_keeps_its_variant(tmp_path: Path) -> None:
    async with written_bot(tmp_path, ASKING, ACTIONS) as bot:
        await bot.handle("q", "check it")
        first = await bot.handle("q", "12")
        (asked,) = first.pending
        for _ in range(4):  # asked again after each digression, in new turns
            again = await bot.handle("q", "help")
            (pending,) = again.pending
            assert (pending.token, pending.prompt) == (asked.token, asked.prompt)
            assert again.texts[-1] == asked.prompt


async def test_a_skip_to_a_silent_step_is_still_acknowledged(tmp_path: Path) -> None:
    async with written_bot(tmp_path, ASKING, ACTIONS) as bot:
        await bot.handle("s", "pay silently")
        await bot.handle("s", "5")
        assert (await bot.handle("s", "no")).texts == ["OK, I won't pay."]


def test_a_message_said_outside_a_turn_names_no_slots(tmp_path: Path) -> None:
    error = errors_of(
        tmp_path,
        "settings:\n  messages: {too_long: 'Too long, {name}: {limit}'}\n"
        "slots:\n  name: {type: string}\n" + MINIMAL,
    )
    assert "settings.messages.too_long: unknown slot 'name'" in error


def test_a_wrong_variant_is_named_by_its_place_in_the_list(tmp_path: Path) -> None:
    error = errors_of(
        tmp_path,
        "flows:\n  f:\n    steps: [{step: s, type: say, message: [hi, true, [x]]}]\n",
    )
    assert "flows.f.steps[0].message[1]: expected text for 'message[1]', got true" in error
    assert "message[2]: expected text" in error
    assert "'message', got a list" not in error


REWORDED = """
settings:
  messages:
    unreadable_value: "I need a {slot} like 14:30 ({reason})."
    not_an_option: "{option}? Pick {options}."
    already_decided: "Done already: {decision}."
slots:
  at: {type: time}
  amount: {type: float}
actions:
  pay: {inputs: [amount]}
  tea: {}
  coffee: {}
flows:
  book:
    trigger: {intents: ["book a time"]}
    steps:
      - {step: ask, type: collect, slot: at}
      - {step: pick, type: choose, message: "Drink?", options: [tea, coffee]}
      - {step: done, type: end, message: "Booked."}
  pay_bill:
    trigger: {intents: ["pay a bill"]}
    steps:
      - {step: ask, type: collect, slot: amount}
      - {step: go, type: action, call: pay, confirm: "Pay {amount}?"}
"""

REWORDED_ACTIONS = (
    ACTIONS
    + """
@ActionRegistry.register("tea")
def tea() -> dict:
    return {}

@ActionRegistry.register("coffee")
def coffee() -> dict:
    return {}
"""
)


async def test_refusals_and_recaps_are_said_in_the_bots_words(tmp_path: Path) -> None:
    async with written_bot(tmp_path, REWORDED, REWORDED_ACTIONS) as bot:
        await bot.handle("r1", "book a time")
        refused = await bot.handle("r1", "whenever")
        assert refused.texts[0].startswith("I need a at like 14:30 (expected a time")
        await bot.handle("r1", "14:30")
        assert (await bot.handle("r1", "/choose milk")).texts[0] == "'milk'? Pick 'tea', 'coffee'."

        await bot.handle("r2", "pay a bill")
        (pending,) = (await bot.handle("r2", "5")).pending
        await bot.decide(pending.token or "", "skip")
        assert (await bot.handle("r2", "no")).texts[0] == "Done already: skipped."
