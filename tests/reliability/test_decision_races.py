"""Decisions racing over HTTP, WebSocket, chat and the CLI: exactly one wins, typed answers.

One real ``soni serve`` process; the CLI is a separate process on the same SQLite
file. See ``_races.py`` for what each race fires and checks.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from soni import Bot
from tests._handlers import register_again
from tests._scale import scaled

from ._cli_worker import CliWorker
from ._executions import Executions
from ._process import SoniServer
from ._races import NOT_PAID, PAID, Race, run_race
from .conftest import LEDGER

RACES = scaled(ci=12, full=650)


async def test_one_decision_wins_each_race_and_every_loser_gets_a_typed_answer(
    tmp_path: Path,
    executions: Executions,
    server_env: dict[str, str],
    cli: CliWorker,
    seed: int,
    record_property: pytest.RecordProperty,
) -> None:
    rng = random.Random(seed)
    races: list[Race] = []
    db = tmp_path / "state.db"
    with SoniServer(LEDGER, db, server_env) as server:
        server.start()
        ws_url = server.url.replace("http://", "ws://") + "/ws"
        async with (
            httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=30) as client,
            connect(ws_url) as ws,
        ):
            for number in range(RACES):
                races.append(
                    await run_race(client, ws, cli, executions, db=str(db), number=number, rng=rng)
                )
    one_decision = sum(1 for r in races if r.decisions == 1)
    at_most_once = sum(1 for r in races if r.ran <= 1)
    losers = [(r, a) for r in races for a in r.answers if a.channel != "chat"]
    typed = sum(1 for r, a in losers if r.recorded and a.fault(r.recorded) is None)
    chats = [(r, a) for r in races for a in r.answers if a.channel == "chat"]
    told = sum(1 for r, a in chats if r.recorded and a.told(r.recorded))
    winners = Counter(r.winner for r in races)
    figure = (
        f"decision races: {len(races)}, one decision {one_decision}/{len(races)},"
        f" ran at most once {at_most_once}/{len(races)},"
        f" HTTP/WS/CLI answers typed {typed}/{len(losers)},"
        f" chat told the outcome {told}/{len(chats)}"
        f" (won by: {', '.join(f'{w} {n}' for w, n in sorted(winners.items(), key=str))})"
    )
    record_property("figure", figure)

    failing = [f"{r.describe()}\n    " + "; ".join(r.problems()) for r in races if r.problems()]
    assert not failing, f"{figure} (seed {seed})\n" + "\n".join(failing)
    # Races nobody contested prove little: several channels must have won some.
    assert len(winners) >= 2, f"one channel won every race: {figure}"


@pytest.mark.parametrize(
    ("decision", "told"),
    [("approve", PAID), ("skip", NOT_PAID)],
    ids=["approved-elsewhere", "skipped-elsewhere"],
)
@pytest.mark.parametrize("answer", ["yes", "no"])
async def test_a_chat_answer_that_lost_the_race_is_told_the_outcome(
    decision: str,
    told: str,
    answer: str,
    tmp_path: Path,
    executions: Executions,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The user answers in the chat just after a decision made elsewhere resumed the
    conversation (the race's usual loser: the turns of a conversation take turns, so
    the chat's comes second). Their answer is about that confirmation: what became
    of it is the reply — not "Sorry, I didn't understand that."."""
    monkeypatch.setenv("SONI_RELIABILITY_EXECUTIONS", str(executions.path))
    register_again(LEDGER / "actions.py")
    bot = await Bot.load(LEDGER, db=str(tmp_path / "state.db"))
    try:
        asked = await bot.handle("lost", '/payment{"amount": 5}')
        token = asked.pending[0].token
        assert token is not None
        await bot.decide(token, decision, channel="http")

        late = await bot.handle("lost", answer)
    finally:
        await bot.aclose()

    assert not any("didn't understand" in text for text in late.texts), late.texts
    assert any(told in text for text in late.texts), late.texts
    assert len(executions.read()) == (1 if decision == "approve" else 0)
