"""While a question waits, text that answers it fills the asked slot.

A path, a /word naming no flow, or an answer containing a flow's trigger word is the
answer; slash commands and flows still work meanwhile; and with no question open, an
unknown /word is still an error.
"""

from __future__ import annotations

from soni.nlu import ConversationContext, FlowInfo, SetSlot, SlotInfo
from soni.nlu.rules import RulesUnderstanding

from ._verbatim import AnswersVerbatim
from .conftest import BotFactory, talk


async def test_an_answer_containing_a_trigger_word_fills_the_asked_slot() -> None:
    context = ConversationContext(
        expected_slot=SlotInfo("beneficiary", "string"),
        flows=(FlowInfo("check_balance", intents=("balance",)),),
    )

    commands = await RulesUnderstanding().understand("Balance Partners Ltd", context)

    assert commands == [SetSlot("beneficiary", "Balance Partners Ltd")]


async def test_a_path_is_an_answer_not_a_broken_structured_message(
    make_bot: BotFactory,
) -> None:
    # Understanding gets the text; this one takes it whole as the answer.
    bot = await make_bot("file_assistant", understanding=AnswersVerbatim())
    await bot.handle("path", "/tidy_file")

    result = await bot.handle("path", "/home/ann/report.pdf")

    assert result.slots["file_name"] == "/home/ann/report.pdf"
    assert result.texts == [
        "/home/ann/report.pdf (0 KB, owned by nobody): what should I do with it?"
    ]


async def test_slash_word_naming_no_flow_answers_the_question(make_bot: BotFactory) -> None:
    bot = await make_bot("file_assistant")
    await bot.handle("tmp", "/tidy_file")

    result = await bot.handle("tmp", "/tmp")

    assert result.slots["file_name"] == "/tmp"
    assert result.texts == ["/tmp (0 KB, owned by nobody): what should I do with it?"]


async def test_slash_commands_and_flows_still_work_while_a_question_waits(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot()
    await talk(bot, "cmd", "/transfer_funds", "Bob")

    digression, malformed, cancelled = await talk(bot, "cmd", "/check_balance", "/set", "/cancel")

    assert digression.texts == ["Which account: checking or savings?"]
    assert malformed.texts[0] == "expected /set slot=value, e.g. /set amount=50"
    assert cancelled.texts[0] == "OK, I've cancelled check your balance."


async def test_an_unknown_flow_with_no_question_open_is_still_an_error(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot()

    assert (await bot.handle("nothing", "/tmp")).texts == ["I don't know how to do 'tmp'."]
    malformed = await bot.handle("nothing", '/transfer_funds{"amount": ')
    assert "not a JSON object" in malformed.texts[0]
