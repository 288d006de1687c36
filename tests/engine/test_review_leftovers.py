"""Conversations a later review found wrong: links, calls, slot names, long messages, re-checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from soni.dsl import default_registry
from soni.engine.runtime import Bot
from soni.nlu import Command, ConversationContext
from soni.nlu.basic import KeywordUnderstanding

from .conftest import BotFactory, talk

BOTS = Path(__file__).resolve().parent / "bots"


async def leftovers(make_bot: BotFactory, **options: Any) -> Bot:
    return await make_bot(str(BOTS / "leftovers"), **options)


async def where(bot: Bot, conversation: str) -> tuple[Any, Any]:
    """What a turn may change: the stack and the slots."""
    state = await bot.state(conversation)
    return state.get("stack"), state.get("slots")


# -- (d) link and call start their target anew -------------------------------------------


async def test_a_linked_flow_asks_again_what_an_earlier_run_of_it_collected(
    make_bot: BotFactory,
) -> None:
    bot = await leftovers(make_bot)
    await talk(bot, "link-1", "/pick", "red")

    linked = await bot.handle("link-1", "/relink")

    assert (linked.texts, linked.status) == (["Which colour?"], "awaiting_input")
    assert (await bot.handle("link-1", "blue")).texts == ["picked blue"]


async def test_a_link_keeps_the_answers_of_a_flow_still_on_the_stack(
    make_bot: BotFactory,
) -> None:
    bot = await leftovers(make_bot)
    await talk(bot, "link-2", "/palette", "red")  # palette now asks for a note

    digression = await bot.handle("link-2", "/relink")

    assert digression.texts == ["picked red", "Any note?"]
    assert (await bot.handle("link-2", "matte")).texts == ["palette red (matte)"]


async def test_a_called_flow_asks_its_questions_anew(make_bot: BotFactory) -> None:
    bot = await leftovers(make_bot)
    first = await talk(bot, "call-1", "/painter", "red")

    again = await bot.handle("call-1", "/painter")

    assert first[-1].texts == ["picked red", "painted red"]
    assert (again.texts, again.status) == (["Which colour?"], "awaiting_input")


async def test_a_call_input_answers_the_question_even_from_a_slot_the_callee_asks(
    make_bot: BotFactory,
) -> None:
    bot = await leftovers(make_bot)

    result = await bot.handle("call-2", "/repaint")

    assert result.texts == ["picked green", "repainted"]


# -- (e1) structured messages naming unknown slots ---------------------------------------


async def test_set_of_an_unknown_slot_is_refused_with_a_suggestion(make_bot: BotFactory) -> None:
    bot = await leftovers(make_bot)
    await bot.handle("unknown-1", "/pick")
    before = await where(bot, "unknown-1")

    result = await bot.handle("unknown-1", "/set colur=red")

    assert result.texts == [
        "There is no slot named 'colur' (did you mean 'colour'?).",
        "Which colour?",
    ]
    assert result.replies[0].kind == "error"
    assert await where(bot, "unknown-1") == before
    assert (await bot.handle("unknown-1", "red")).texts == ["picked red"]


async def test_a_set_naming_one_unknown_slot_changes_nothing(make_bot: BotFactory) -> None:
    bot = await leftovers(make_bot)
    await bot.handle("unknown-2", "/pick")
    before = await where(bot, "unknown-2")

    result = await bot.handle("unknown-2", "/set colour=red shade=dark")

    assert result.texts[0] == "There is no slot named 'shade'."
    assert await where(bot, "unknown-2") == before


async def test_starting_a_flow_with_an_unknown_slot_is_refused(make_bot: BotFactory) -> None:
    bot = await leftovers(make_bot)

    result = await bot.handle("unknown-3", '/pick{"color": "red"}')

    assert result.texts == ["There is no slot named 'color' (did you mean 'colour'?)."]
    assert result.status == "ended"
    assert await where(bot, "unknown-3") == ([], {})


# -- (e2) messages over the length limit -------------------------------------------------


class Recording:
    """The keyword understanding, noting the length of every text it is given."""

    def __init__(self) -> None:
        self.lengths: list[int] = []
        self._inner = KeywordUnderstanding()

    async def understand(self, text: str, context: ConversationContext) -> list[Command]:
        self.lengths.append(len(text))
        return await self._inner.understand(text, context)


async def test_a_message_over_the_limit_is_refused_before_understanding(
    make_bot: BotFactory,
) -> None:
    from soni.nlu import MAX_MESSAGE_CHARS

    recording = Recording()
    bot = await leftovers(make_bot, understanding=recording)
    await bot.handle("long-1", "/palette")
    before = await bot.state("long-1")

    result = await bot.handle("long-1", "x" * (MAX_MESSAGE_CHARS + 1))
    structured = await bot.handle("long-1", "/set note=" + "x" * MAX_MESSAGE_CHARS)

    expected = f"Sorry, that message is too long: the limit is {MAX_MESSAGE_CHARS:,} characters."
    assert result.texts == structured.texts == [expected]
    assert result.replies[0].kind == "error"
    assert recording.lengths == []
    assert await bot.state("long-1") == before  # nothing reached the checkpoint
    at_limit = await bot.handle("long-1", "y" * MAX_MESSAGE_CHARS)
    assert at_limit.texts == ["Any note?"]
    assert recording.lengths == [MAX_MESSAGE_CHARS]


# -- (e3) a bad value given with a flow's start is reported in that turn ----------------


async def test_a_bad_value_given_with_other_slots_is_reported_once(make_bot: BotFactory) -> None:
    bot = await make_bot()

    result = await bot.handle("bad-1", '/transfer_funds{"beneficiary": "Ann", "amount": "abc"}')

    assert result.texts == ["Please enter an amount above zero.", "How much do you want to send?"]
    assert result.slots == {"beneficiary": "Ann"}


async def test_a_bad_value_for_a_slot_held_by_a_paused_flow_is_reported_at_once(
    make_bot: BotFactory,
) -> None:
    bot = await leftovers(make_bot)
    await talk(bot, "bad-2", "/budget", "50")  # budget now asks for a note

    digression = await bot.handle("bad-2", '/spend{"amount": "abc"}')
    ended = await bot.handle("bad-2", "groceries")
    later = await bot.handle("bad-2", "/spend")

    assert digression.texts == ["An amount above zero, please.", "spent 50", "Any note?"]
    assert ended.texts == ["budget 50 (groceries)"]
    # Reported once, in its turn: not again at a later question for the slot.
    assert later.texts == ["How much?"]


# -- (f) collect re-checks a value it finds -------------------------------------------------


async def test_collect_asks_again_when_a_set_value_fails_its_validator(
    make_bot: BotFactory,
) -> None:
    bot = await leftovers(make_bot)

    asked = await bot.handle("recheck-1", "/preset_age")

    assert asked.texts == ["An age above zero, please.", "How old are you?"]
    assert asked.status == "awaiting_input"
    assert "age" not in asked.slots
    assert (await bot.handle("recheck-1", "30")).texts == ["You are 30."]


async def test_collect_asks_again_when_a_set_value_has_the_wrong_type(
    make_bot: BotFactory,
) -> None:
    bot = await leftovers(make_bot)

    asked = await bot.handle("recheck-2", "/typed_age")

    assert len(asked.texts) == 2 and asked.texts[-1] == "How old are you?"
    assert "age" not in asked.slots
    assert (await bot.handle("recheck-2", "30")).texts == ["You are 30."]


async def test_collect_rechecks_a_value_set_earlier_against_its_own_validator(
    make_bot: BotFactory,
) -> None:
    bot = await leftovers(make_bot)
    await talk(bot, "recheck-3", "/note_then_age", "/set age=-2")

    asked = await bot.handle("recheck-3", "hi")

    assert asked.texts == ["An age above zero, please.", "How old are you?"]
    assert (await bot.handle("recheck-3", "7")).texts == ["hi: 7"]


async def test_an_answer_is_validated_once(make_bot: BotFactory, tmp_path: Path) -> None:
    checked: list[object] = []

    def even(value: Any) -> bool:
        checked.append(value)
        return int(value) % 2 == 0

    (tmp_path / "bot.yaml").write_text(
        "flows:\n"
        "  pick:\n"
        "    steps:\n"
        "      - {step: ask, type: collect, slot: n, validator: even_once, message: 'N?'}\n"
        "      - {step: told, type: say, message: 'n={n}'}\n"
        "slots:\n"
        "  n: {type: integer}\n"
    )
    default_registry.register("even_once", even)
    try:
        bot = await make_bot(str(tmp_path))
        asked, refused, told = await talk(bot, "once-1", "/pick", "3", "4")
    finally:
        default_registry.unregister("even_once")

    assert asked.texts == ["N?"]
    assert refused.texts == ["That is not a valid n.", "N?"]
    assert told.texts == ["n=4"]
    assert checked == [3, 4]
