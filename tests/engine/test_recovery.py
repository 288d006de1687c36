"""Crashes between an action and its checkpoint, and the runtime's own bookkeeping."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

import pytest

from soni.engine import Bot

from .conftest import EXAMPLES, BotFactory
from .test_banking import IBAN, sent_in


def lose_the_next_checkpoint(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the next checkpoint write fail, as if the process died before it."""
    saver = bot.storage.checkpointer
    real_aput = saver.aput
    failed = False

    async def aput(*args: Any, **kwargs: Any) -> Any:
        nonlocal failed
        if not failed:
            failed = True
            raise OSError("the process died before the checkpoint was written")
        return await real_aput(*args, **kwargs)

    monkeypatch.setattr(saver, "aput", aput)


async def test_an_action_whose_checkpoint_was_lost_is_not_run_again(
    make_bot: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await make_bot()
    for text in ("/transfer_funds", "Bob", "40", IBAN):
        await bot.handle("crash-1", text)

    lose_the_next_checkpoint(bot, monkeypatch)
    crashed = await bot.handle("crash-1", "yes")
    # The handler ran; the turn that ran it was never saved.
    assert crashed.texts == ["Sorry, something went wrong on my side. Please try again."]
    assert len(sent_in("crash-1")) == 1

    # The conversation is still paused on the confirmation; the retry finds the
    # recorded result instead of calling the handler again.
    retried = await bot.handle("crash-1", "yes")

    assert retried.texts[0].startswith("Done: 40 EUR sent to Bob. Reference TX-")
    assert len(sent_in("crash-1")) == 1


async def test_a_restarted_bot_does_not_repeat_an_action_that_ran_before_the_crash(
    make_bot: BotFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    db = tmp_path / "crash.db"
    first = await make_bot(db=db)
    for text in ("/transfer_funds", "Ann", "41", IBAN):
        await first.handle("crash-2", text)
    lose_the_next_checkpoint(first, monkeypatch)
    await first.handle("crash-2", "yes")
    await first.aclose()

    second: Bot = await make_bot(db=db)
    result = await second.handle("crash-2", "yes")

    assert result.texts[0].startswith("Done: 41 EUR sent to Ann.")
    assert len(sent_in("crash-2")) == 1


async def test_per_conversation_locks_do_not_accumulate(make_bot: BotFactory) -> None:
    bot = await make_bot()
    await asyncio.gather(*(bot.handle(f"lock-{n}", "/check_balance") for n in range(30)))

    assert len(bot.storage._locks) == 0


async def test_an_idle_conversation_keeps_its_state_across_a_restart(
    make_bot: BotFactory, tmp_path: Any
) -> None:
    db = tmp_path / "idle.db"
    first = await make_bot(db=db)
    await first.handle("idle-1", "/check_balance")
    done = await first.handle("idle-1", "savings")
    assert done.status == "ended"
    await first.aclose()

    second: Bot = await make_bot(db=db)
    again = await second.handle("idle-1", "/transfer_funds")
    state = await second.state("idle-1")

    assert again.texts == ["Who should receive the money?"]
    assert state["slots"]["balance"] == 8000.0  # what the first bot's run left
    assert state["turn"] == 3


@pytest.mark.slow  # a Python process of its own
def test_a_program_that_forgets_aclose_still_exits(tmp_path: Any) -> None:
    script = tmp_path / "forgetful.py"
    script.write_text(
        "import asyncio, sys\n"
        "from soni import Bot\n"
        "async def main():\n"
        f"    bot = await Bot.load({str(EXAMPLES / 'banking')!r}, db={str(tmp_path / 's.db')!r})\n"
        "    print((await bot.handle('c', '/check_balance')).texts[0])\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Which account: checking or savings?"


async def test_two_bots_on_one_database_take_turns_on_a_conversation(
    make_bot: BotFactory, tmp_path: Any
) -> None:
    """Each Bot remembers where it left a conversation; the other may have moved it on."""
    db = tmp_path / "shared.db"
    first, second = await make_bot(db=db), await make_bot(db=db)

    # The first leaves it paused on a question; the second answers it, so the
    # flow ends. The first still believes it paused: its message must not be lost.
    assert (await first.handle("two-1", "/check_balance")).status == "awaiting_input"
    assert (await second.handle("two-1", "checking")).status == "ended"
    restarted = await first.handle("two-1", "/check_balance")
    assert restarted.texts == ["Which account: checking or savings?"]
    answered = await first.handle("two-1", "savings")
    assert answered.texts == ["Your savings balance is 8000 EUR."]

    # The other way round: the first saw it end, the second paused it since.
    assert (await second.handle("two-2", "/check_balance")).status == "awaiting_input"
    assert (await second.handle("two-2", "checking")).status == "ended"
    await first.handle("two-2", "/check_balance")
    await second.handle("two-2", "/check_balance")  # paused again, by the second
    result = await first.handle("two-2", "savings")
    assert result.texts == ["Your savings balance is 8000 EUR."]


async def test_a_conversation_reset_by_another_bot_starts_afresh(
    make_bot: BotFactory, tmp_path: Any
) -> None:
    db = tmp_path / "shared.db"
    first, second = await make_bot(db=db), await make_bot(db=db)
    await first.handle("two-3", "/check_balance")

    await second.reset("two-3")
    result = await first.handle("two-3", "/check_balance")

    assert result.texts == ["Which account: checking or savings?"]
    state = await first.state("two-3")
    assert state["conversation_id"] == "two-3"
    assert [frame["flow"] for frame in state["stack"]] == ["check_balance"]
