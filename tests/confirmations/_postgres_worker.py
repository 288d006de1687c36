"""Processes that race on one PostgreSQL database, started together.

Run as a script, this is one worker: it opens its own pool, connects, prints
``ready``, waits for a line on stdin, does one thing and prints what happened as
one line of JSON. Imported, ``race`` starts several, waits until every one is
ready, then releases them all at once — a start barrier with no sleeps.

Commands (``python _postgres_worker.py COMMAND URL ARGS…``):

- ``decide TOKEN DECISION WORKER``: decide as ``worker-N`` via ``cli``; reports the
  outcome (``decided:<status>``, ``same``, ``already:<status>``) and the record
  as the worker reads it back afterwards.
- ``begin TOKEN``: ``begin_execution``; reports ``should_run`` and the record.
- ``claim KEY WORKER``: an action journal claim as runner ``worker-N``.
- ``setup``: set up the confirmation store and the journal on the database.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ("race",)

_SCRIPT = Path(__file__).resolve()


def race(commands: Sequence[Sequence[str]], timeout: float = 120) -> list[dict[str, Any]]:
    """Start one worker per command, release them together, return their reports in order.

    Blocking: call it through ``asyncio.to_thread``.
    """
    children = [
        subprocess.Popen(
            [sys.executable, str(_SCRIPT), *command],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in commands
    ]
    try:
        for child in children:
            assert child.stdout is not None
            line = child.stdout.readline().strip()
            if line != "ready":
                _, err = child.communicate(timeout=timeout)
                raise AssertionError(f"a worker did not get ready: {line!r}\n{err}")
        for child in children:  # the barrier opens
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        reports = []
        for child in children:
            out, err = child.communicate(timeout=timeout)
            assert child.returncode == 0, err
            reports.append(json.loads(out.strip().splitlines()[-1]))
        return reports
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.communicate()


# -- the worker ----------------------------------------------------------------------


def _record(record: Any) -> dict[str, Any]:
    decided_by = record.decided_by
    return {
        "status": str(record.status),
        "decided_by": None if decided_by is None else [decided_by.user_id, decided_by.channel],
        "runner": record.runner,
    }


async def _work(command: str, url: str, args: list[str]) -> dict[str, Any]:
    from psycopg_pool import AsyncConnectionPool

    from soni.confirmations import (
        Actor,
        AlreadyDecided,
        ConfirmationRegistry,
        PostgresConfirmationStore,
    )
    from soni.storage.journal import PostgresActionJournal

    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        url, min_size=1, max_size=2, open=False,
        kwargs={"autocommit": True, "prepare_threshold": 0},
    )  # fmt: skip
    await pool.open(wait=True, timeout=30)
    store = PostgresConfirmationStore(pool)
    journal = PostgresActionJournal(pool)
    registry = ConfirmationRegistry(store)
    try:
        # Connected, and the first statements run, before the race.
        if command in ("decide", "begin"):
            await registry.get(args[0])
        elif command == "claim":
            await journal.generation("warm-up")
        await _barrier()
        if command == "setup":
            return {"store_found": await store.setup(), "journal_found": await journal.setup()}
        if command == "claim":
            key, worker = args
            entry = await journal.claim(key, f"worker-{worker}")
            return {"claim": None if entry is None else entry.status}
        if command == "begin":
            run = await registry.begin_execution(args[0])
            return {"should_run": run.should_run, "record": _record(run.confirmation)}
        if command == "decide":
            token, decision, worker = args
            me = Actor(f"worker-{worker}", "cli")
            try:
                record = await registry.decide(token, decision, actor=me)
                outcome = f"decided:{record.status}" if record.decided_by == me else "same"
            except AlreadyDecided as exc:
                outcome = f"already:{exc.status}"
            return {"outcome": outcome, "seen": _record(await registry.get(token))}
        raise SystemExit(f"unknown command {command!r}")
    finally:
        await registry.aclose()
        await journal.close()
        await pool.close()


async def _barrier() -> None:
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)


if __name__ == "__main__":
    command, url, *rest = sys.argv[1:]
    print(json.dumps(asyncio.run(_work(command, url, rest))), flush=True)
