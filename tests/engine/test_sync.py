"""The synchronous facade, used from plain threads."""

from __future__ import annotations

import threading
from pathlib import Path

from soni.engine.sync import SyncBot

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
