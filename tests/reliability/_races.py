"""Decision races: five decisions fired at once at one pending confirmation.

HTTP approve, HTTP skip (or choose), a WebSocket ``decide``, a chat "yes" (or
"no") and ``soni confirmations approve|skip`` in a separate process on the same
database. Exactly one decision may win; the action runs at most once — exactly
once when the winner approved; every other contender is answered as the docs
say: HTTP and WebSocket 409 ``already-decided`` naming the recorded decision (the
same decision repeated: 200 with it), the CLI exit 4 naming it (0 for the same
decision), the chat with the outcome.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection

from ._cli_worker import CliWorker
from ._executions import Executions

__all__ = ("NOT_PAID", "PAID", "Answer", "Race", "run_race")

ALREADY_DECIDED = "urn:soni:problem:already-decided"
EXIT_ALREADY_DECIDED = 4  # docs/cli.md, "Exit codes of soni confirmations"
PAID, NOT_PAID = "Paid ", "Nothing was paid"
"""How the chat tells each outcome: the flow's end message, or its on_skip message."""


@dataclass
class Answer:
    """What one contender asked for and what it was answered."""

    contender: str
    channel: str
    decision: str
    """What it asked for, as recorded: ``pay`` (approve, choose pay, yes) or ``skip``."""
    status: int = 0
    """HTTP status; a WebSocket response's (200 when ok); the CLI's exit code."""
    named: str | None = None
    """The decision the answer names (its result, or the refusal's recorded decision)."""
    problem: str | None = None
    detail: str = ""

    def fault(self, recorded: str) -> str | None:
        """How this answer breaks the protocol, given the decision recorded; None if it does not."""
        if self.channel == "chat":
            if self.status != 200:
                return f"chat {self.contender!r} answered {self.status}: {self.detail}"
            if "Sorry, I couldn't" in self.detail:
                return f"chat {self.contender!r} got failure words: {self.detail}"
            contradiction = NOT_PAID if recorded == "pay" else PAID
            if contradiction in self.detail:
                return (
                    f"chat {self.contender!r} contradicts the recorded {recorded!r}: {self.detail}"
                )
            if not self.told(recorded):
                # Won or lost, the chat's answer is about this payment: it says what
                # became of it.
                return f"chat {self.contender!r} was not told the outcome: {self.detail}"
            return None
        if self.channel == "cli":
            if self.decision == recorded:
                ok = self.status == 0
            else:
                ok = (
                    self.status == EXIT_ALREADY_DECIDED
                    and f"already decided: '{recorded}'" in self.detail
                )
            return None if ok else f"{self.contender} exited {self.status}: {self.detail.strip()}"
        # HTTP and WebSocket: the same decision answers with it; another is refused
        # with 409 naming the recorded one.
        if self.decision == recorded:
            ok = self.status == 200 and self.named == recorded
        else:
            ok = self.status == 409 and self.problem == ALREADY_DECIDED and self.named == recorded
        return None if ok else f"{self.contender} answered {self.status} {self.detail}"

    def told(self, recorded: str) -> bool:
        """A chat answer that says what became of the payment."""
        return (PAID if recorded == "pay" else NOT_PAID) in self.detail


@dataclass
class Race:
    number: int
    conversation: str
    confirmation_id: str = ""
    answers: list[Answer] = field(default_factory=list)
    recorded: str | None = None
    """The decision recorded in the store."""
    winner: str | None = None
    """The channel of the one decision in the history."""
    decisions: int = 0
    """Transitions to a decision in the confirmation's history: exactly one."""
    status: str = ""
    ran: int = 0

    def problems(self) -> list[str]:
        found: list[str] = []
        if self.decisions != 1:
            found.append(f"{self.decisions} decisions in the history")
        if self.recorded not in ("pay", "skip"):
            found.append(f"recorded decision {self.recorded!r}")
            return found
        expected = ("executed", 1) if self.recorded == "pay" else ("skipped", 0)
        if (self.status, self.ran) != expected:
            found.append(f"ended {self.status!r} with {self.ran} runs, expected {expected}")
        if not any(a.channel == self.winner and a.decision == self.recorded for a in self.answers):
            found.append(f"the winner {self.winner!r} asked for no {self.recorded!r}")
        found.extend(f for a in self.answers if (f := a.fault(self.recorded)) is not None)
        return found

    def describe(self) -> str:
        asked = ", ".join(a.contender for a in self.answers)
        return f"race {self.number} ({asked}): {self.recorded!r} won by {self.winner}"


async def _http(
    client: httpx.AsyncClient, contender: str, decision: str, path: str, body: Any = None
) -> Answer:
    answer = Answer(contender, "http", decision)
    response = await client.post(path, json=body)
    answer.status = response.status_code
    payload = response.json()
    answer.named, answer.problem = payload.get("decision"), payload.get("type")
    answer.detail = response.text[:300]
    return answer


async def _ws(ws: ClientConnection, session: str, token: str, decision: str) -> Answer:
    answer = Answer(f"ws {decision}", "ws", "pay" if decision == "approve" else "skip")
    frame = {
        "session_id": session,
        "local_timestamp": None,
        "payload": {
            "type": "instruction",
            "name": "decide",
            "args": {"token": token, "decision": decision},
        },
    }
    await ws.send(json.dumps(frame))
    while True:  # the connection carries only this test's frames, one race at a time
        reply = json.loads(await ws.recv())
        if reply["session_id"] == session:
            break
    payload = reply["payload"]
    if payload["ok"]:
        answer.status, answer.named = 200, payload["result"]["decision"]
    else:
        error = payload["error"]
        answer.status, answer.problem = error["status"], error["type"]
        answer.named = error.get("decision")
    answer.detail = json.dumps(payload)[:300]
    return answer


async def _chat(client: httpx.AsyncClient, conversation: str, text: str) -> Answer:
    answer = Answer(f"chat {text!r}", "chat", "pay" if text == "yes" else "skip")
    response = await client.post(f"/conversations/{conversation}/messages", json={"text": text})
    answer.status = response.status_code
    replies = response.json().get("replies") or [] if response.status_code == 200 else []
    answer.detail = " | ".join(r["text"] for r in replies) or response.text[:300]
    return answer


async def _cli(cli: CliWorker, verb: str, confirmation_id: str, db: str) -> Answer:
    answer = Answer(f"cli {verb}", "cli", "pay" if verb == "approve" else "skip")
    # Written to the warm process at once; its answer is read off the loop.
    cli.send("confirmations", verb, confirmation_id, "--db", db, "--actor", "operator")
    result = await asyncio.to_thread(cli.receive)
    answer.status, answer.detail = result.exit, result.stdout + result.stderr
    return answer


async def run_race(
    client: httpx.AsyncClient,
    ws: ClientConnection,
    cli: CliWorker,
    executions: Executions,
    *,
    db: str,
    number: int,
    rng: random.Random,
) -> Race:
    """Bring a conversation to its confirmation, then fire five decisions at it at once."""
    race = Race(number, f"race-{number}")
    asked = await client.post(
        f"/conversations/{race.conversation}/messages",
        json={"text": f'/payment{{"amount": {number + 1}}}'},
    )
    pending = asked.json()["pending"][0]
    race.confirmation_id, token = pending["id"], pending["token"]

    ws_decision = rng.choice(["approve", "skip"])
    chat_text = rng.choice(["yes", "no"])
    cli_verb = rng.choice(["approve", "skip"])
    # The second HTTP contender skips or chooses; it skips whenever nobody else
    # does, so that every race has two decisions in it.
    others_skip = "skip" in (ws_decision, cli_verb) or chat_text == "no"
    http_other = "skip" if not others_skip or rng.random() < 0.5 else "choose"
    contenders: list[Callable[[], Awaitable[Answer]]] = [
        lambda: _http(client, "http approve", "pay", f"/confirmations/{token}/approve"),
        (
            (lambda: _http(client, "http skip", "skip", f"/confirmations/{token}/skip"))
            if http_other == "skip"
            else (
                lambda: _http(
                    client,
                    "http choose",
                    "pay",
                    f"/confirmations/{token}/choose",
                    {"option": "pay"},
                )
            )
        ),
        lambda: _ws(ws, f"race-{number}", token, ws_decision),
        lambda: _chat(client, race.conversation, chat_text),
        lambda: _cli(cli, cli_verb, race.confirmation_id, db),
    ]
    # A third of the races fire all five in the same instant; the others spread
    # their starts over 60 or 250 ms, so that the slower paths (the CLI opens the
    # database in its own process; HTTP may open a connection) win some races too,
    # and every channel is seen both winning and losing.
    spread = (0.0, 0.06, 0.25)[number % 3]
    offsets = [rng.uniform(0, spread) for _ in contenders]

    async def fire(start: Callable[[], Awaitable[Answer]], offset: float) -> Answer:
        await asyncio.sleep(offset)  # this contender's random start, not a wait
        return await start()

    race.answers = list(await asyncio.gather(*map(fire, contenders, offsets)))

    shown = await asyncio.to_thread(
        cli.run, "confirmations", "show", race.confirmation_id, "--db", db, "--json"
    )
    record = shown.json()
    race.recorded, race.status = record["decision"], record["status"]
    race.winner = (record.get("decided_by") or {}).get("channel")
    race.decisions = sum(
        1
        for entry in record["history"]
        if entry["from"] in ("pending", "shown") and entry["to"] in ("approved", "skipped")
    )
    race.ran = executions.count(race.confirmation_id)
    return race
