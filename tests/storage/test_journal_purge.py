"""Old journal entries go by ``purge``, in indexed batches — never as a claim's side work."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from soni.errors import StoreClosed
from soni.storage.journal import (
    RETENTION,
    JournalEntry,
    MemoryActionJournal,
    SqliteActionJournal,
)

OLD = time.time() - RETENTION - 3600


def add_old_entries(path: Path, count: int) -> None:
    """``count`` finished runs last changed before the retention, written by another connection."""
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO soni_action_runs (key, status, result, updated_at) VALUES (?, ?, ?, ?)",
            [(f"old-{i}", "done", "{}", OLD - i) for i in range(count)],
        )


async def test_a_purge_deletes_only_old_entries_in_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "j.actions.db"
    journal = SqliteActionJournal(str(path), purge_batch=100)
    add_old_entries(path, 1050)
    for fresh in ("a", "b", "c"):
        assert await journal.claim(fresh, "r1") is None
    statements = trace_purge(monkeypatch)

    assert await journal.purge(time.time() - RETENTION) == 1050

    deletes = [s for s in statements if s.startswith("DELETE")]
    assert len(deletes) == 11  # ten full batches of 100, and the last of 50
    with sqlite3.connect(path) as conn:
        left = {key for (key,) in conn.execute("SELECT key FROM soni_action_runs")}
    assert left == {"a", "b", "c"}
    assert await journal.claim("a", "r2") == JournalEntry("running", runner="r1")
    assert await journal.purge(time.time() - RETENTION) == 0
    await journal.close()


async def test_between_two_batches_a_purge_holds_nothing_and_rests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "j.actions.db"
    journal = SqliteActionJournal(str(path), purge_batch=100, purge_pace=2.0)
    add_old_entries(path, 350)
    pausing, go_on = threading.Event(), threading.Event()
    pauses: list[float] = []

    def pause(self: SqliteActionJournal, seconds: float) -> None:
        pauses.append(seconds)
        pausing.set()
        go_on.wait()

    monkeypatch.setattr(SqliteActionJournal, "_pause", pause)
    purge = asyncio.ensure_future(journal.purge(time.time() - RETENTION))
    try:
        await asyncio.to_thread(pausing.wait)

        # A claim made while the purge pauses after its first batch goes at once.
        assert await journal.claim("fresh", "r1") is None
        assert not purge.done()
    finally:
        go_on.set()
    assert await purge == 350
    assert len(pauses) == 3  # after each full batch, none after the last
    assert all(seconds > 0 for seconds in pauses)  # as long as twice the batch
    assert await journal.claim("fresh", "r2") == JournalEntry("running", runner="r1")
    await journal.close()


def test_a_purge_pace_is_not_negative(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="purge_pace not negative"):
        SqliteActionJournal(str(tmp_path / "j.actions.db"), purge_pace=-1)


def trace_purge(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The statements purges run from now on."""
    statements: list[str] = []
    purge = SqliteActionJournal._purge

    def traced(self: SqliteActionJournal, conn: sqlite3.Connection, before: float) -> int:
        conn.set_trace_callback(statements.append)
        try:
            return purge(self, conn, before)
        finally:
            conn.set_trace_callback(None)

    monkeypatch.setattr(SqliteActionJournal, "_purge", traced)
    return statements


async def test_claims_never_purge(tmp_path: Path) -> None:
    path = tmp_path / "j.actions.db"
    journal = SqliteActionJournal(str(path))
    add_old_entries(path, 1)

    for i in range(1_001):  # the old journal purged on every 1,000th claim
        await journal.claim(f"k{i}", "r1")

    assert await journal.claim("old-0", "r1") == JournalEntry("done", {})
    assert await journal.purge(time.time() - RETENTION) == 1
    await journal.close()


async def test_old_entries_are_found_through_an_index_even_in_a_journal_made_before_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.actions.db"
    with sqlite3.connect(path) as conn:  # as soni wrote it before purges had an index
        conn.execute(
            "CREATE TABLE soni_action_runs (key TEXT PRIMARY KEY, status TEXT NOT NULL,"
            " result TEXT, error TEXT, updated_at REAL NOT NULL, runner TEXT)"
        )

    journal = SqliteActionJournal(str(path))

    with sqlite3.connect(path) as conn:
        plan = " ".join(
            row[-1]
            for row in conn.execute(
                "EXPLAIN QUERY PLAN SELECT rowid FROM soni_action_runs"
                " WHERE updated_at < ? ORDER BY updated_at LIMIT ?",
                (time.time(), 1000),
            )
        )
    assert "INDEX soni_action_runs_updated" in plan, plan
    await journal.close()


async def test_a_journal_in_memory_purges_too() -> None:
    journal = SqliteActionJournal(":memory:", purge_batch=2)
    await journal.claim("a", "r1")

    assert await journal.purge(time.time() + 1) == 1
    assert await journal.claim("a", "r2") is None
    await journal.close()


async def test_a_closed_journal_refuses_to_purge(tmp_path: Path) -> None:
    journal = SqliteActionJournal(str(tmp_path / "j.actions.db"))
    await journal.close()

    with pytest.raises(StoreClosed):
        await journal.purge(time.time())


async def test_the_memory_journal_purges_old_entries() -> None:
    journal = MemoryActionJournal()
    await journal.claim("a", "r1")
    await journal.claim("b", "r1")

    assert await journal.purge(time.time() - 60) == 0
    assert await journal.purge(time.time() + 1) == 2
    assert await journal.claim("a", "r2") is None
