"""SIGKILL trials of approve cycles: drive, approve, kill anywhere, restart, look, retry.

A trial brings a conversation of the ledger bot to its confirmation ("Pay N?"),
approves it — over HTTP or by saying "yes" in the chat — and SIGKILLs the server
at a random point of that cycle. While the server is dead, it reads where the
kill landed: the confirmation's status (``soni confirmations show``, no server
needed) and the executions file — from what happened, never from when the
harness meant the kill to land. It restarts the server on the same database and
looks as a user (and an operator) would: the confirmation's status, ``soni
confirmations list --status interrupted``. Then it does what a user does when
they never saw an answer: approves again, or says "yes" again.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import httpx

from ._cli_worker import CliWorker
from ._executions import Executions
from ._process import SoniServer

__all__ = (
    "AIMS",
    "DONE_WORDS",
    "FAILURE_WORDS",
    "FLOWS",
    "ROUTED_WORDS",
    "UNKNOWN_WORDS",
    "WHERE",
    "ApprovalTrial",
    "Channel",
    "Kind",
    "interrupted_ids",
    "kill_after",
    "run_approval_trial",
    "summary",
)

FAILURE_WORDS = "Sorry, I couldn't"
"""How the bot says an action failed: never the answer to an outcome nobody recorded."""
UNKNOWN_WORDS = "I can't tell whether"
"""How the bot says an action's outcome is unknown."""
DONE_WORDS = "Paid "
"""How the payment flows say the payment was made."""
ROUTED_WORDS = "Please check your statement"
"""What ``payment_routed``'s ``on_unknown`` step says."""
ROUTED_FAILURE_WORDS = "The payment failed"
"""What its ``on_error`` step says: the wrong branch for an unknown outcome."""

Channel = Literal["http", "chat"]

Kind = Literal["once", "again", "checked", "routed"]
"""What the guarded action promises after a crash: ``once`` (the ledger bot's ``pay``:
never run again, the outcome told as unknown), ``again`` (``idempotent=True``: run
again), ``checked`` (``reconcile=``: soni asks whether it happened), ``routed``
(``once``, the flow's ``on_unknown`` step says it)."""

FLOWS: dict[Kind, tuple[str, str]] = {
    "once": ("payment", "pay"),
    "again": ("payment_again", "pay_again"),
    "checked": ("payment_checked", "pay_checked"),
    "routed": ("payment_routed", "pay_routed"),
}
"""The flow each kind of trial starts, and the action it guards."""

AIMS = ("at once", "after the decision", "in the handler", "anywhere")
"""What the random kill point is drawn after: the trials cycle through them so every
run lands kills all along the cycle; where each really landed is observed afterwards."""

WHERE = (
    "before the decision",
    "after the decision, before the handler",
    "inside the handler, after its side effect",
    "after the result",
)

_WAIT = 10.0  # seconds any one step of a trial may take


def _client(server: SoniServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.url, timeout=_WAIT * 3, trust_env=False)


def _texts(response: httpx.Response) -> list[str]:
    try:
        body = response.json()
    except ValueError:
        return [response.text]
    return [reply["text"] for reply in body.get("replies") or []]


@dataclass
class ApprovalTrial:
    """One kill in an approve cycle, and everything seen afterwards."""

    number: int
    channel: Channel
    aim: str
    conversation: str
    kind: Kind = "once"
    confirmation_id: str = ""
    token: str = ""
    delay: float = 0.0
    answered: bool = False
    """Whether the approval was answered before the kill (then the kill came after)."""
    landed: str = ""
    """The confirmation's status in the database of the dead server ("" if not there)."""
    ran_before: int = 0
    """Runs of the action (by its idempotency key) when the server died."""
    readable: bool = False
    """Whether the restarted server still knows the confirmation."""
    status: str = ""
    """The confirmation's status read from the restarted server."""
    listed_interrupted: bool | None = None
    """Listed by ``soni confirmations list --status interrupted`` (None: the command failed)."""
    retry_code: int = 0
    retry_replies: list[str] = field(default_factory=list)
    status_after: str = ""
    ran_after: int = 0

    @property
    def unknown(self) -> bool:
        """The run was claimed and its outcome never recorded: the user must hear "unknown"."""
        return self.landed in ("executing", "interrupted")

    @property
    def where(self) -> str:
        if self.landed in ("pending", "shown"):
            return WHERE[0]
        if self.landed == "approved" or (self.unknown and self.ran_before == 0):
            return WHERE[1]
        if self.unknown:
            return WHERE[2]
        if self.landed == "executed":
            return WHERE[3]
        return f"unexpected status {self.landed!r} when the server died"

    def _said(self, words: str) -> bool:
        return any(words in text for text in self.retry_replies)

    def _unknown_problems(self) -> list[str]:
        """How an interrupted run of a ``once`` or ``routed`` action was misreported."""
        found: list[str] = []
        if self.status != "interrupted":
            found.append(f"an interrupted run reads {self.status!r}, not 'interrupted'")
        if self.listed_interrupted is not True:
            found.append("soni confirmations list --status interrupted does not list it")
        words = ROUTED_WORDS if self.kind == "routed" else UNKNOWN_WORDS
        if self._said(ROUTED_FAILURE_WORDS):
            found.append(f"the unknown outcome went to on_error: {self.retry_replies}")
        if not self._said(words) or self._said(FAILURE_WORDS):
            found.append(f"the retry did not say the outcome is unknown: {self.retry_replies}")
        if self.ran_after != self.ran_before:
            found.append("the action of an interrupted run was run again")
        return found

    def problems(self) -> list[str]:
        """What this trial shows to be wrong; empty when soni kept every promise."""
        found: list[str] = []
        if not self.readable:
            found.append("the confirmation was lost across the restart")
        most = max(self.ran_before, self.ran_after)
        if most > 1 and not (self.kind == "again" and most == 2 and self.unknown):
            found.append(f"the action ran {most} times")
        if self.landed in ("pending", "shown", "approved") and self.ran_before:
            found.append(f"the action ran before it was claimed (status {self.landed})")
        if self.where.startswith("unexpected"):
            found.append(self.where)
        if self.retry_code != 200:
            found.append(f"retrying was answered {self.retry_code}: {self.retry_replies}")
        if self._said(FAILURE_WORDS):
            found.append(f"the retry was answered with failure words: {self.retry_replies}")
        if self.unknown and self.kind in ("once", "routed"):
            found.extend(self._unknown_problems())
            return found
        if self.listed_interrupted and self.kind == "once":
            found.append("listed as interrupted, though its outcome is known")
        if self.unknown and self._said(UNKNOWN_WORDS):
            found.append(f"a {self.kind!r} action was reported unknown: {self.retry_replies}")
        if self.unknown and not self._said(DONE_WORDS):
            found.append(f"the retry did not say it was paid: {self.retry_replies}")
        # Known outcomes end executed: a run that had not happened happens on the
        # retry, once; one that had is not repeated (a safe one may be, once).
        allowed = 2 if self.kind == "again" and self.unknown else 1
        if self.status_after != "executed" or not 1 <= self.ran_after <= allowed:
            found.append(
                f"after the retry: status {self.status_after!r}, ran {self.ran_after} times"
                f" (expected executed, {'at most twice' if allowed == 2 else 'once'})"
            )
        return found

    def describe(self) -> str:
        return (
            f"trial {self.number} ({self.kind}, {self.channel}, aimed {self.aim},"
            f" +{self.delay * 1000:.1f} ms,"
            f" {'answered' if self.answered else 'unanswered'}): {self.where};"
            f" status {self.landed!r} -> {self.status!r} -> {self.status_after!r},"
            f" ran {self.ran_before}"
            f" -> {self.ran_after}, retry {self.retry_code} {self.retry_replies}"
        )


async def kill_after(
    aim: str,
    server: SoniServer,
    approving: asyncio.Task[httpx.Response],
    *,
    executions: Executions,
    key: str,
    token: str,
    rng: random.Random,
) -> float:
    """SIGKILL the server at a random point drawn after ``aim``; returns the random delay.

    The delay after the aim's event is the random part: sleeping it is the kill
    point itself, not a wait for something to happen.
    """
    deadline = time.monotonic() + _WAIT
    if aim == "at once":
        delay = rng.uniform(0, 0.004)
    elif aim == "after the decision":
        # A long poll answers as soon as a decision is recorded.
        async with _client(server) as watcher:
            with contextlib.suppress(httpx.TransportError):
                await watcher.get(f"/confirmations/{token}", params={"wait": _WAIT})
        delay = rng.uniform(0, 0.01)
    elif aim == "in the handler":
        # The handler's line is on disk: its side effect happened; it now dawdles.
        while executions.count(key) == 0 and not approving.done():
            assert time.monotonic() < deadline, "the handler never ran"
            await asyncio.sleep(0.001)  # polling the executions file, with a deadline
        delay = rng.uniform(0, 0.02)
    else:
        delay = rng.uniform(0, 0.08)
    await asyncio.sleep(delay)
    server.kill()
    return delay


async def interrupted_ids(cli: CliWorker, server: SoniServer) -> set[str] | None:
    """The ids ``soni confirmations list --status interrupted`` shows; None if it refuses."""
    result = await asyncio.to_thread(
        cli.run, "confirmations", "list", "--status", "interrupted", "--json", "--db",
        str(server.db),
    )  # fmt: skip
    if result.exit != 0:
        return None
    return {record["id"] for record in result.json()}


async def run_approval_trial(
    server: SoniServer,
    cli: CliWorker,
    executions: Executions,
    *,
    number: int,
    channel: Channel,
    aim: str,
    rng: random.Random,
    kind: Kind = "once",
) -> ApprovalTrial:
    """One trial on a running server; the server runs again (restarted) when it returns."""
    trial = ApprovalTrial(number, channel, aim, f"{kind}-{channel}-{number}", kind)
    flow = FLOWS[kind][0]
    paths = f"/conversations/{trial.conversation}/messages"
    async with _client(server) as client:
        asked = await client.post(paths, json={"text": f'/{flow}{{"amount": {number + 1}}}'})
        assert asked.status_code == 200, asked.text
        pending = asked.json()["pending"]
        assert len(pending) == 1, asked.text
        trial.confirmation_id, trial.token = pending[0]["id"], pending[0]["token"]
        if channel == "http":
            approval = client.post(f"/confirmations/{trial.token}/approve")
        else:
            approval = client.post(paths, json={"text": "yes"})
        approving = asyncio.ensure_future(approval)
        trial.delay = await kill_after(
            aim,
            server,
            approving,
            executions=executions,
            key=trial.confirmation_id,
            token=trial.token,
            rng=rng,
        )
        try:
            answer = await approving
            trial.answered = answer.status_code == 200
        except httpx.TransportError:
            trial.answered = False

    # Where the kill landed, read before anything could change it: whatever a
    # restarted soni does at start-up (marking runs interrupted, running safe ones
    # again) comes after.
    shown = await asyncio.to_thread(
        cli.run, "confirmations", "show", trial.confirmation_id, "--json", "--db", str(server.db)
    )
    trial.landed = shown.json()["status"] if shown.exit == 0 else ""
    trial.ran_before = executions.count(trial.confirmation_id)

    await asyncio.to_thread(server.start)
    async with _client(server) as client:
        seen = await client.get(f"/confirmations/{trial.token}")
        trial.readable = seen.status_code == 200
        trial.status = seen.json().get("status", "") if trial.readable else ""
        listed = await interrupted_ids(cli, server)
        trial.listed_interrupted = None if listed is None else trial.confirmation_id in listed
        # What a user who never saw an answer does: the same thing again.
        if channel == "http":
            retry = await client.post(f"/confirmations/{trial.token}/approve")
        else:
            retry = await client.post(paths, json={"text": "yes"})
        trial.retry_code, trial.retry_replies = retry.status_code, _texts(retry)
        after = await client.get(f"/confirmations/{trial.token}")
        trial.status_after = after.json().get("status", "") if after.status_code == 200 else ""
        trial.ran_after = executions.count(trial.confirmation_id)
    return trial


def summary(name: str, trials: Sequence[ApprovalTrial], doubles: int, lost: int) -> str:
    """The headline figure: counts, the invariants, and where the kills landed.

    Interrupted runs (claimed, no outcome recorded) count as handled when their
    trial found no problem: told as unknown (``once``, ``routed``), or run again or
    checked and then told as done (``again``, ``checked``).
    """
    unknown = [t for t in trials if t.unknown]
    handled = sum(1 for t in unknown if not t.problems())
    told = (
        "unknown reported"
        if {t.kind for t in trials} <= {"once", "routed"}
        else "interrupted recovered"
    )
    landed = Counter(t.where for t in trials)
    places = ", ".join(f"{where} {landed.get(where, 0)}" for where in WHERE)
    odd = sorted(set(landed) - set(WHERE))
    if odd:
        places += ", " + ", ".join(f"{where} {landed[where]}" for where in odd)
    return (
        f"{name}: {len(trials)}, lost {lost}, double {doubles},"
        f" {told} {handled}/{len(unknown)} ({places})"
    )
