"""The file assistant example: one offer of several actions, decided once, in chat or by link."""

from __future__ import annotations

from types import ModuleType

import pytest

from soni import load_actions
from soni.confirmations import Status
from soni.confirmations.errors import AlreadyDecided, InvalidDecision
from soni.engine import Bot, TurnResult

from .conftest import EXAMPLES, BotFactory

PROMPT = "report.pdf (420 KB, owned by ana): what should I do with it?"


def files() -> ModuleType:
    return load_actions(EXAMPLES / "file_assistant" / "actions.py")[0]


def done_in(conversation: str) -> list[str]:
    """What the file actions did in ``conversation``, in order."""
    return [d["action"] for d in files().DONE if d["conversation"] == conversation]


async def offer(bot: Bot, conversation: str) -> TurnResult:
    """Start the flow, name the file; the bot answers with its offer."""
    asked = await bot.handle(conversation, "I want to tidy up a file", user_id="u1")
    assert asked.texts == ["Which file?"]
    return await bot.handle(conversation, "report.pdf", user_id="u1")


def token_of(result: TurnResult) -> str:
    assert len(result.pending) == 1
    token = result.pending[0].token
    assert token is not None
    return token


async def test_the_offer_lists_three_labelled_actions_under_one_confirmation(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot("file_assistant")
    result = await offer(bot, "fa-offer")

    assert result.texts == [PROMPT]
    assert result.status == "awaiting_confirmation"
    (pending,) = result.pending
    assert pending.prompt == PROMPT
    assert pending.options == ("archive_file", "delete_file", "share_file")
    assert pending.labels == ("Archive it", "Delete it for good", "Share with the team")
    # The lookup before the offer mapped its outputs into slots.
    assert result.slots["file_size"] == 420
    assert result.slots["file_owner"] == "ana"
    assert done_in("fa-offer") == []


async def test_choosing_in_chat_runs_exactly_that_action_once(make_bot: BotFactory) -> None:
    bot = await make_bot("file_assistant")
    token = token_of(await offer(bot, "fa-chat"))

    result = await bot.handle("fa-chat", "/choose delete_file", user_id="u1")

    assert result.texts == ["Done: report.pdf deleted."]
    assert result.status == "ended"
    assert result.slots["outcome"] == "report.pdf deleted"
    assert done_in("fa-chat") == ["deleted"]
    record = await bot.engine.confirmations.get(token)
    assert record.status is Status.EXECUTED
    assert record.chosen == "delete_file"
    assert record.decided_by is not None and record.decided_by.channel == "chat"


@pytest.mark.parametrize("answer", ["no", "/deny"])
async def test_skipping_runs_nothing(make_bot: BotFactory, answer: str) -> None:
    conversation = f"fa-skip-{answer}"
    bot = await make_bot("file_assistant")
    token = token_of(await offer(bot, conversation))

    result = await bot.handle(conversation, answer, user_id="u1")

    assert result.texts == ["I left report.pdf as it is."]
    assert result.status == "ended"
    assert done_in(conversation) == []
    assert (await bot.engine.confirmations.get(token)).status is Status.SKIPPED


async def test_yes_to_several_options_asks_which_one(make_bot: BotFactory) -> None:
    bot = await make_bot("file_assistant")
    await offer(bot, "fa-yes")

    result = await bot.handle("fa-yes", "yes", user_id="u1")

    assert result.texts == [
        "Which one? Archive it, Delete it for good, Share with the team",
        PROMPT,
    ]
    assert result.status == "awaiting_confirmation"
    assert done_in("fa-yes") == []


async def test_a_decision_from_a_link_resumes_the_conversation(make_bot: BotFactory) -> None:
    bot = await make_bot("file_assistant")
    token = token_of(await offer(bot, "fa-link"))

    result = await bot.decide(token, "share_file", actor="u1", channel="http")

    assert result.conversation_id == "fa-link"
    assert result.texts == ["Done: report.pdf shared."]
    assert result.status == "ended"
    assert done_in("fa-link") == ["shared"]
    record = await bot.engine.confirmations.get(token)
    assert record.status is Status.EXECUTED
    assert record.decided_by is not None
    assert (record.decided_by.user_id, record.decided_by.channel) == ("u1", "http")


async def test_a_skip_from_a_link_takes_the_skip_path(make_bot: BotFactory) -> None:
    bot = await make_bot("file_assistant")
    token = token_of(await offer(bot, "fa-link-skip"))

    result = await bot.decide(token, "skip", actor="u1", channel="http")

    assert result.texts == ["I left report.pdf as it is."]
    assert done_in("fa-link-skip") == []


async def test_a_chat_answer_after_a_link_decision_runs_nothing_more(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot("file_assistant")
    token = token_of(await offer(bot, "fa-twice"))
    await bot.decide(token, "share_file", actor="u1", channel="http")

    late = await bot.handle("fa-twice", "/choose delete_file", user_id="u1")
    again = await bot.decide(token, "share_file", actor="u1", channel="http")  # a re-click
    with pytest.raises(AlreadyDecided):
        await bot.decide(token, "archive_file", actor="u1", channel="http")

    assert late.texts == ["There is nothing waiting for a yes or no right now."]
    assert again.texts == []
    assert done_in("fa-twice") == ["shared"]


async def test_a_link_decision_after_a_chat_answer_is_refused(make_bot: BotFactory) -> None:
    bot = await make_bot("file_assistant")
    token = token_of(await offer(bot, "fa-chat-first"))
    await bot.handle("fa-chat-first", "/choose archive_file", user_id="u1")

    with pytest.raises(AlreadyDecided):
        await bot.decide(token, "share_file", actor="u1", channel="http")

    assert done_in("fa-chat-first") == ["archived"]


async def test_an_option_that_was_not_offered_is_refused_and_the_offer_stands(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot("file_assistant")
    token = token_of(await offer(bot, "fa-invalid"))

    with pytest.raises(InvalidDecision) as refused:
        await bot.decide(token, "rename_file", actor="u1", channel="http")
    in_chat = await bot.handle("fa-invalid", "/choose rename_file", user_id="u1")

    assert refused.value.options == ("archive_file", "delete_file", "share_file")
    assert in_chat.status == "awaiting_confirmation"
    assert in_chat.texts[-1] == PROMPT
    assert token_of(in_chat) == token  # still the same offer
    assert done_in("fa-invalid") == []
    # The conversation is still usable: a valid choice goes through.
    result = await bot.decide(token, "archive_file", actor="u1", channel="http")
    assert result.texts == ["Done: report.pdf archived."]
    assert done_in("fa-invalid") == ["archived"]
