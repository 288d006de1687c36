"""The synchronous facade, used from plain threads."""

from __future__ import annotations

import threading
from pathlib import Path

from soni.engine import SyncBot

from .conftest import EXAMPLES

IBAN = "DE89370400440532013000"


def test_a_sync_bot_serves_several_threads_in_order(handlers: object, tmp_path: Path) -> None:
    with SyncBot.load(EXAMPLES / "banking", db=str(tmp_path / "state.db")) as bot:
        finals: dict[int, str] = {}
        errors: list[BaseException] = []

        def chat(n: int) -> None:
            try:
                for text in ("/transfer_funds", f"user{n}", str(n + 1), IBAN):
                    result = bot.handle(f"sync-{n}", text)
                finals[n] = result.texts[0]
            except BaseException as exc:  # reported below; a thread cannot raise into pytest
                errors.append(exc)

        threads = [threading.Thread(target=chat, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        assert errors == []
        assert finals == {n: f"Send {n + 1} EUR to user{n} ({IBAN})?" for n in range(8)}
        assert bot.state("sync-3")["slots"]["beneficiary"] == "user3"
    bot.close()  # a second close is harmless


def test_bot_sync_is_the_facade_of_a_bot_on_its_own_loop(handlers: object, tmp_path: Path) -> None:
    from soni import Bot

    bot = Bot.load_sync(EXAMPLES / "banking", db=str(tmp_path / "state.db"))
    try:
        assert bot.sync.handle("s1", "/check_balance").texts == [
            "Which account: checking or savings?"
        ]
        assert bot.sync.handle("s1", "savings").status == "ended"
    finally:
        bot.sync.close()


async def test_bot_sync_refuses_to_block_its_own_loop(make_bot: object) -> None:
    import pytest

    bot = await make_bot()  # type: ignore[operator]
    with pytest.raises(RuntimeError, match="own event loop"):
        bot.sync.handle("s2", "/check_balance")
