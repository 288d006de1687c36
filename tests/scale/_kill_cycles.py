"""Approve cycles spread over two workers, one of them SIGKILLed while they run.

A round asks every cycle's payment ("Pay N?") on one of the two workers, then
approves them all, several at once — over HTTP or by saying "yes" in the chat, on
the worker that asked or the other. In the middle of the approvals, once one that
the victim is serving has run its handler (its line is in the executions file)
and not answered yet, the victim is SIGKILLed: the approvals it was serving die
with it, wherever each one was. The rest go to the survivor.

Each approval the kill cut off becomes an ``ApprovalTrial`` (tests/reliability),
judged as the restart trials are, except that nothing restarts: what the kill
left is read with ``soni confirmations show`` (the database alone), then the user
who never saw an answer approves again on the survivor. Every cycle's
confirmation must still be there, no handler may run twice, a run cut off in its
handler is told as unknown, and every conversation takes its next message on the
survivor: no lock outlives the worker that held it.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field

import httpx

from tests.reliability._approval_trials import (
    ApprovalTrial,
    Channel,
    interrupted_ids,
)
from tests.reliability._cli_worker import CliWorker
from tests.reliability._executions import Executions
from tests.reliability._process import SoniServer

from ._workers import client

__all__ = ("Cycle", "Round", "run_round")

CONCURRENCY = 8
"""Approvals in flight at once, over both workers."""


@dataclass
class Cycle:
    """One conversation's payment: asked on one worker, approved on one (maybe the other)."""

    number: int
    conversation: str
    asked_on: int
    approve_on: int
    channel: Channel
    confirmation_id: str = ""
    token: str = ""
    served_by: int = -1
    """The worker the approval was sent to (the survivor once the victim is dead)."""
    cut_off: bool = False
    """The approval got no answer: its worker died under it."""
    code: int = 0
    replies: list[str] = field(default_factory=list)

    @property
    def amount(self) -> int:
        return self.number + 1

    @property
    def path(self) -> str:
        return f"/conversations/{self.conversation}/messages"


@dataclass
class Round:
    """What one kill round did: its cycles, the trials of the cut-off ones, what went wrong."""

    cycles: list[Cycle]
    trials: list[ApprovalTrial] = field(default_factory=list)
    killed: bool = False
    killed_after: int = 0
    """Approvals answered when the kill came."""
    lost: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _texts(response: httpx.Response) -> list[str]:
    try:
        return [reply["text"] for reply in response.json().get("replies") or []]
    except ValueError:
        return [response.text]


async def _approve(on: httpx.AsyncClient, cycle: Cycle) -> httpx.Response:
    if cycle.channel == "http":
        return await on.post(f"/confirmations/{cycle.token}/approve")
    return await on.post(cycle.path, json={"text": "yes"})


async def _ask(clients: list[httpx.AsyncClient], cycles: list[Cycle]) -> None:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def ask(cycle: Cycle) -> None:
        async with gate:
            text = f'/payment{{"amount": {cycle.amount}}}'
            asked = await clients[cycle.asked_on].post(cycle.path, json={"text": text})
        assert asked.status_code == 200, asked.text
        (pending,) = asked.json()["pending"]
        cycle.confirmation_id, cycle.token = pending["id"], pending["token"]

    await asyncio.gather(*(ask(cycle) for cycle in cycles))


class _Approvals:
    """The approvals of a round, ``CONCURRENCY`` at a time, and the kill among them."""

    def __init__(
        self,
        servers: list[SoniServer],
        clients: list[httpx.AsyncClient],
        victim: int,
        executions: Executions,
        rng: random.Random,
    ) -> None:
        self.servers, self.clients, self.victim = servers, clients, victim
        self.executions, self.rng = executions, rng
        self.in_flight: dict[str, int] = {}  # confirmation id -> the worker serving it
        self.answered = 0
        self.killed = False
        self.killed_after = 0

    async def run(self, cycles: list[Cycle]) -> None:
        queue = list(reversed(cycles))

        async def approver() -> None:
            while queue:
                await self.approve(queue.pop())

        killer = asyncio.ensure_future(self.kill(len(cycles) // 2))
        try:
            await asyncio.gather(*(approver() for _ in range(CONCURRENCY)))
        finally:
            # Done with the approvals: a kill that never found its moment is reported
            # by the round (``killed``), not waited for.
            killer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await killer

    async def approve(self, cycle: Cycle) -> None:
        worker = cycle.approve_on
        if self.killed and worker == self.victim:
            worker = 1 - self.victim  # the conversations go on on the survivor
        cycle.served_by = worker
        self.in_flight[cycle.confirmation_id] = worker
        try:
            answer = await _approve(self.clients[worker], cycle)
            cycle.code, cycle.replies = answer.status_code, _texts(answer)
        except httpx.TransportError:
            cycle.cut_off = True
        finally:
            del self.in_flight[cycle.confirmation_id]
            self.answered += 1

    async def kill(self, midpoint: int) -> None:
        """SIGKILL the victim once half the approvals are answered and one of its own is
        in its handler (on disk, not answered): a random moment in that window."""
        while True:  # until found, or cancelled once every approval is answered
            if self.answered >= midpoint:
                serving = {k for k, w in self.in_flight.items() if w == self.victim}
                if serving & {run.key for run in self.executions.read()}:
                    break
            await asyncio.sleep(0.001)  # polling the executions file
        await asyncio.sleep(self.rng.uniform(0, 0.02))  # the kill point itself
        self.killed_after = self.answered
        self.killed = True
        self.servers[self.victim].kill()


async def _trial(
    cycle: Cycle, survivor: httpx.AsyncClient, cli: CliWorker, executions: Executions, db: str
) -> ApprovalTrial:
    """What a cut-off approval left, and what approving it again on the survivor does."""
    trial = ApprovalTrial(
        cycle.number, cycle.channel, "in the handler", cycle.conversation, "once",
        cycle.confirmation_id, cycle.token,
    )  # fmt: skip
    shown = await asyncio.to_thread(cli.run, "confirmations", "show", cycle.confirmation_id,
                                    "--json", "--db", db)  # fmt: skip
    trial.landed = shown.json()["status"] if shown.exit == 0 else ""
    trial.ran_before = executions.count(cycle.confirmation_id)
    seen = await survivor.get(f"/confirmations/{cycle.token}")
    trial.readable = seen.status_code == 200
    trial.status = seen.json().get("status", "") if trial.readable else ""
    return trial


async def run_round(
    servers: list[SoniServer],
    victim: int,
    cli: CliWorker,
    executions: Executions,
    *,
    db: str,
    first: int,
    cycles: int,
    rng: random.Random,
) -> Round:
    """One round: ``cycles`` approve cycles over ``servers`` (two), ``victim`` killed among them.

    The victim stays dead when this returns; the survivor has served the rest.
    """
    spread = [
        Cycle(
            number,
            f"kill-{number}",
            asked_on=number % 2,
            approve_on=(number // 2) % 2,  # every pairing of asking and approving worker
            channel="http" if (number // 4) % 2 == 0 else "chat",
        )
        for number in range(first, first + cycles)
    ]
    done = Round(spread)
    async with client(servers[0]) as on_0, client(servers[1]) as on_1:
        clients = [on_0, on_1]
        await _ask(clients, spread)
        approvals = _Approvals(servers, clients, victim, executions, rng)
        await approvals.run(spread)
        done.killed, done.killed_after = approvals.killed, approvals.killed_after
        survivor = clients[1 - victim]

        cut_off = [cycle for cycle in spread if cycle.cut_off]
        # Where the kill left each cut-off approval, before anything touches it again.
        done.trials = [await _trial(c, survivor, cli, executions, db) for c in cut_off]
        listed = await interrupted_ids(cli, servers[1 - victim])
        for trial, cycle in zip(done.trials, cut_off, strict=True):
            trial.listed_interrupted = None if listed is None else cycle.confirmation_id in listed
            # What a user who never saw an answer does: the same again, on the survivor.
            retry = await _approve(survivor, cycle)
            trial.retry_code, trial.retry_replies = retry.status_code, _texts(retry)
            after = await survivor.get(f"/confirmations/{cycle.token}")
            trial.status_after = after.json().get("status", "") if after.status_code == 200 else ""
            trial.ran_after = executions.count(cycle.confirmation_id)

        for cycle in spread:
            if not cycle.cut_off:
                done.problems.extend(_answered_problems(cycle, executions))
            seen = await survivor.get(f"/confirmations/{cycle.token}")
            if seen.status_code != 200:
                done.lost.append(cycle.confirmation_id)
            # The conversation goes on, on the survivor: nothing the victim held blocks it.
            again = await survivor.post(cycle.path, json={"text": "/payment"})
            if again.status_code != 200 or _texts(again) != ["How much?"]:
                done.problems.append(
                    f"{cycle.conversation}: the next turn on the survivor answered"
                    f" {again.status_code} {_texts(again)}"
                )
    return done


def _answered_problems(cycle: Cycle, executions: Executions) -> list[str]:
    ran = executions.count(cycle.confirmation_id)
    paid = f"Paid {cycle.amount}: receipt R-"
    if cycle.code == 200 and cycle.replies and cycle.replies[0].startswith(paid) and ran == 1:
        return []
    return [
        f"{cycle.conversation} ({cycle.channel} on worker {cycle.served_by}): answered"
        f" {cycle.code} {cycle.replies}, ran {ran} times"
    ]
