"""SIGKILL trials of a new conversation's first turn, while an unguarded action runs.

No checkpoint exists yet (it is written when the turn completes); the only trace
of the run is the action journal's entry — ``running`` when the kill came during
the handler — and the handler's line in the executions file. The user, who never
got an answer, sends the same message again.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import httpx

from ._approval_trials import FAILURE_WORDS, UNKNOWN_WORDS
from ._executions import Executions
from ._process import SoniServer

__all__ = ("FirstTurnTrial", "journal_status", "run_first_turn_trial")

FirstTurnKind = Literal["once", "again"]
"""``once``: the ledger bot's ``note``, never run twice; ``again``: ``note_again``,
registered ``idempotent=True``."""

MESSAGES: dict[FirstTurnKind, str] = {"once": "/visit", "again": "/revisit"}
NOTED = "Noted: entry "
_WAIT = 10.0


def journal_status(db: Path, conversation: str) -> str | None:
    """The action journal's entry for the conversation's runs, read-only; None if none.

    Only to tell where a kill landed (during the handler: ``running``; after it:
    ``done``). The journal is soni's file beside the database (``state.db`` →
    ``state.actions.db``); ``unreadable`` if that ever changes.
    """
    path = db.with_name(f"{db.stem}.actions{db.suffix}")
    try:
        with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as conn:
            rows = conn.execute(
                "SELECT status FROM soni_action_runs WHERE key LIKE ?", (f"{conversation}:%",)
            ).fetchall()
    except sqlite3.Error:
        return "unreadable"
    statuses = sorted({row[0] for row in rows})
    return ",".join(statuses) if statuses else None


@dataclass
class FirstTurnTrial:
    number: int
    kind: FirstTurnKind
    conversation: str
    aim: str
    delay: float = 0.0
    answered: bool = False
    checkpointed: bool = False
    """Whether the restarted server knows the conversation (its turn was saved)."""
    journal: str | None = None
    keys_before: list[str] = field(default_factory=list)
    retry_code: int = 0
    retry_replies: list[str] = field(default_factory=list)
    keys_after: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        if self.checkpointed:
            return "after the turn was saved"
        if self.journal is None:
            return "before the handler"
        if self.journal == "running":
            if not self.keys_before:
                return "in the handler, before its side effect"
            return "inside the handler, after its side effect"
        if self.journal == "done":
            return "after the result, before the checkpoint"
        return f"unexpected: journal {self.journal!r}"

    @property
    def interrupted(self) -> bool:
        """Claimed in the journal, no outcome recorded, no checkpoint: the issue-B case."""
        return self.journal == "running" and not self.checkpointed

    def _said(self, words: str) -> bool:
        return any(words in text for text in self.retry_replies)

    def problems(self) -> list[str]:
        found: list[str] = []
        if self.where.startswith("unexpected"):
            found.append(self.where)
        if self.retry_code != 200:
            found.append(f"resending was answered {self.retry_code}: {self.retry_replies}")
        if self._said(FAILURE_WORDS):
            found.append(f"the resent message got failure words: {self.retry_replies}")
        # A turn that was saved is over: the same text again is a new message, whose
        # run has its own key. Otherwise the resent message retries the same turn:
        # it runs the action if nothing claimed it, or if it is safe to repeat.
        repeats = self.journal is None or (self.interrupted and self.kind == "again")
        runs = len(self.keys_before) + (1 if self.checkpointed or repeats else 0)
        if len(self.keys_after) != runs:
            found.append(f"the action ran {len(self.keys_after)} times in all, expected {runs}")
        same_turn = self.keys_after[: len(self.keys_after) - self.checkpointed]
        if len(set(same_turn)) > 1:
            found.append(f"one turn's runs had different idempotency keys: {self.keys_after}")
        if self.interrupted and self.kind == "once":
            if not self._said(UNKNOWN_WORDS):
                found.append(f"the outcome was not told as unknown: {self.retry_replies}")
        elif not self._said(NOTED) or self._said(UNKNOWN_WORDS):
            found.append(
                f"the resent message did not get the action's answer: {self.retry_replies}"
            )
        return found

    def describe(self) -> str:
        return (
            f"trial {self.number} ({self.kind}, aimed {self.aim}, +{self.delay * 1000:.1f} ms,"
            f" {'answered' if self.answered else 'unanswered'}): {self.where};"
            f" ran {len(self.keys_before)} -> {len(self.keys_after)},"
            f" resent: {self.retry_code} {self.retry_replies}"
        )


async def run_first_turn_trial(
    server: SoniServer,
    executions: Executions,
    *,
    number: int,
    kind: FirstTurnKind,
    aim: str,
    rng: random.Random,
) -> FirstTurnTrial:
    """Kill the server during a new conversation's first turn; restart; resend the message."""
    trial = FirstTurnTrial(number, kind, f"first-{kind}-{number}", aim)
    path = f"/conversations/{trial.conversation}/messages"
    message = {"text": MESSAGES[kind]}

    def keys() -> list[str]:
        return [run.key for run in executions.read() if run.conversation == trial.conversation]

    async with httpx.AsyncClient(base_url=server.url, timeout=_WAIT * 3, trust_env=False) as client:
        sending = asyncio.ensure_future(client.post(path, json=message))
        if aim == "in the handler":
            deadline = time.monotonic() + _WAIT
            while not keys() and not sending.done():
                assert time.monotonic() < deadline, "the handler never ran"
                await asyncio.sleep(0.001)  # polling the executions file, with a deadline
            trial.delay = rng.uniform(0, 0.02)
        else:
            trial.delay = rng.uniform(0, 0.08)
        await asyncio.sleep(trial.delay)  # the random kill point
        server.kill()
        try:
            trial.answered = (await sending).status_code == 200
        except httpx.TransportError:
            trial.answered = False
    # Read with the server dead: whatever a restarted soni does at start-up comes after.
    trial.keys_before = keys()
    trial.journal = journal_status(server.db, trial.conversation)
    await asyncio.to_thread(server.start)
    async with httpx.AsyncClient(base_url=server.url, timeout=_WAIT * 3, trust_env=False) as client:
        trial.checkpointed = (
            await client.get(f"/conversations/{trial.conversation}")
        ).status_code == 200
        resent = await client.post(path, json=message)
        trial.retry_code = resent.status_code
        body = resent.json() if resent.status_code == 200 else {}
        trial.retry_replies = [reply["text"] for reply in body.get("replies") or []] or [
            resent.text
        ]
    trial.keys_after = keys()
    return trial
