"""Turn order across workers: many conversations, each spread over two workers at once.

Every conversation sends its messages in pairs, the two messages of a pair at the
same moment to the two workers, the next pair once both are answered; all the
conversations talk at once. The tally bot's reply to a message is everything its
conversation has taken so far, in the order it took it. So the replies show, for
every conversation:

- **none lost**: the counts run 1, 2, …, every message's item is in the last
  sequence once;
- **none interleaved**: each reply ends with its own message's item, and each
  sequence extends the one before it — two turns run at once would both start
  from the same sequence, and one of them would be lost or the history fork;
- **in arrival order**: a pair's items come after the previous pair's, which
  were answered before it was sent.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests._scale import scaled

from ._workers import client, workers
from .conftest import TALLY

CONVERSATIONS = scaled(ci=20, full=50)
TURNS = 10
"""Messages per conversation, in pairs."""


@dataclass
class Told:
    """What one conversation sent and what its replies say it took."""

    conversation: str
    replies: dict[str, str] = field(default_factory=dict)
    """The reply to each item, by item."""
    pairs: list[tuple[str, str]] = field(default_factory=list)
    final: str = ""
    """The sequence the conversation's saved state holds at the end."""

    def sequences(self) -> dict[str, list[str]]:
        """The sequence each item's reply tells (``#n seen: a b c``)."""
        told: dict[str, list[str]] = {}
        for item, reply in self.replies.items():
            count, _, rest = reply.partition(" seen: ")
            sequence = rest.split()
            assert count == f"#{len(sequence)}", f"{self.conversation}: {reply!r}"
            told[item] = sequence
        return told

    def problems(self) -> list[str]:
        found: list[str] = []
        sent = [item for pair in self.pairs for item in pair]
        told = self.sequences()
        if missing := [item for item in sent if item not in told]:
            found.append(f"unanswered: {missing}")
        for item, sequence in told.items():
            if not sequence or sequence[-1] != item:
                found.append(f"the reply to {item} does not end with it: {sequence}")
        ordered = sorted(told.values(), key=len)
        if [len(s) for s in ordered] != list(range(1, len(sent) + 1)):
            found.append(f"turns lost or run at once: lengths {[len(s) for s in ordered]}")
        for shorter, longer in itertools.pairwise(ordered):
            if longer[: len(shorter)] != shorter:
                found.append(f"the history forked: {shorter} then {longer}")
        last = ordered[-1] if ordered else []
        for number, pair in enumerate(self.pairs):
            if set(last[2 * number : 2 * number + 2]) != set(pair):
                found.append(f"pair {number} {pair} out of its place in {last}")
        if self.final.split()[1:] != last:
            found.append(f"the saved state holds {self.final!r}, the last reply {last}")
        return found


async def _converse(number: int, pair: tuple[httpx.AsyncClient, httpx.AsyncClient]) -> Told:
    told = Told(f"order-{number}")
    path = f"/conversations/{told.conversation}/messages"

    async def send(worker: httpx.AsyncClient, item: str) -> None:
        answer = await worker.post(path, json={"text": f'/tally{{"item": "{item}"}}'})
        assert answer.status_code == 200, f"{told.conversation} {item}: {answer.text}"
        (reply,) = answer.json()["replies"]
        told.replies[item] = reply["text"]

    for turn in range(0, TURNS, 2):
        items = (f"m{turn}", f"m{turn + 1}")
        told.pairs.append(items)
        # Which worker gets the pair's first message alternates, pair by pair.
        first, second = pair if (number + turn // 2) % 2 == 0 else pair[::-1]
        await asyncio.gather(send(first, items[0]), send(second, items[1]))
    state = (await pair[number % 2].get(f"/conversations/{told.conversation}")).json()
    told.final = state["slots"]["seen"]
    return told


async def test_messages_sent_to_two_workers_at_once_are_taken_one_at_a_time_in_order(
    tmp_path: Path, postgres_database: str, record_property: pytest.RecordProperty
) -> None:
    with workers(TALLY, postgres_database, 2, cwd=tmp_path) as servers:
        a, b = servers
        async with client(a) as on_a, client(b) as on_b:
            started = time.monotonic()
            conversations = await asyncio.gather(
                *(_converse(number, (on_a, on_b)) for number in range(CONVERSATIONS))
            )
            elapsed = time.monotonic() - started
        errors = a.errors + b.errors

    failing = [f"{c.conversation}: " + "; ".join(c.problems()) for c in conversations]
    failing = [line for line, c in zip(failing, conversations, strict=True) if c.problems()]
    turns = CONVERSATIONS * TURNS
    figure = (
        f"turn order: 2 workers x {CONVERSATIONS} conversations x {TURNS} turns"
        f" (pairs sent to both workers at once): {len(failing)} conversations wrong"
        f" (lost, interleaved or out of order); {turns / elapsed:.0f} turns/s"
    )
    record_property("figure", figure)
    assert not failing, figure + "\n" + "\n".join(failing)
    assert not errors, "the workers logged errors:\n" + "\n".join(errors)
