# ruff: noqa: E402
"""Storage that stays flat however long a conversation runs, and never stalls a turn.

(a) Bytes per conversation at turn 10, 100, 1,000 and 10,000 of one conversation of
    the banking bot (a balance check, a transfer started and cancelled, again and
    again; every measured turn leaves it paused on a question), on SQLite: the
    conversation's rows (its checkpoints and their writes) and the file's pages in
    use, each next to the same figure at turn 10. Target: <= 1.1x. For contrast,
    the rows the same conversation kept before retention (the pruning suspended);
    and what the pruning costs a turn: its time next to the same turn on a file
    whose pruning is suspended, the two interleaved turn by turn.
    A turn's time at turn 1,000 of a conversation next to its time at turn 10
    (target: <= 1.1x): the median and p90 of turns 996-1,005 of a few conversations
    walked in step, next to their turns 6-15, and next to turns 6-15 of new
    conversations timed interleaved with them (the machine's drift hits both);
    and the process's CPU time per turn, which the machine's load hardly moves.
(b) The same on PostgreSQL at turn 10 and 1,000 (its checkpoints, writes and
    blobs; a turn's time), in a throwaway database on the server at ``--postgres``
    (default ``$SONI_BENCH_POSTGRES``, else the local one as ``postgres``); one
    line says why when there is none.
(c) Turn latency of other conversations while a conversation of 10,000
    checkpoints — as kept before retention, the worst a reset meets — is deleted,
    and while the action journal purges 1,000,000 old entries: median, p99 and
    max, each next to the median of the same turns with nothing else going on,
    measured in the same run, in windows between the busy ones and as long as
    them. Target: no turn slower than 3x that median. Turns are sent one after
    another by one client, so each figure is a turn's own time. (With retention a
    conversation of 10,000 turns holds one checkpoint: (a) times its reset.)
    Then what the turns over 3x the median waited for, probed around each turn
    (``bench/_probe.py``): the garbage collector, a core (this process's threads,
    or any task of the machine), the disk — or none of these: soni's own work.
(d) The same as (c) on PostgreSQL, with the same server as (b).

Run: ``make bench`` or ``python bench/storage.py [--turns 10,100,1000,10000]``.
"""

from __future__ import annotations

# This folder holds http.py (the HTTP benchmark): run as a script, it would shadow
# the standard library's http package. Keep the folder, but after the library.
import sys  # isort: skip
from pathlib import Path  # isort: skip

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE] + [str(_HERE)]

import argparse
import asyncio
import contextlib
import gc
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Iterator, Sequence
from typing import Any

from _harness import banner, row
from _postgres import throwaway_database, unreachable
from _probe import Probe, Sample, explain
from soni import Bot
from soni.storage.journal import RETENTION
from soni.storage.local import journal_path

BANKING = Path(__file__).resolve().parent.parent / "examples" / "banking"
POSTGRES = os.environ.get("SONI_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
SECRET = "the storage benchmark's secret, 32 characters or more"
TRIGGER = "soni_keep_latest_checkpoint"

# Five turns that leave the conversation where it was: every fifth turn it is
# paused on "How much do you want to send?", with the pause's write beside it.
CYCLE = ("never mind", "/check_balance", "savings", "I want to send money", "Bob")
# What the other conversations say while something else goes on: two turns, a
# question and its answer, each a read and a write of the checkpoint.
OTHERS = (("/check_balance", "Which account: checking or savings?"),
          ("savings", "Your savings balance is 8000 EUR."))  # fmt: skip


def check(condition: bool, what: str) -> None:
    if not condition:
        raise SystemExit(f"bench/storage.py: unexpected behaviour: {what}")


# -- (a), (b): bytes per conversation ------------------------------------------------


def sqlite_bytes(path: str, thread_id: str) -> tuple[int, int, int]:
    """The conversation's row bytes and checkpoints, and the file's bytes in use."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        checkpoints, row_bytes = conn.execute(
            "SELECT count(*), coalesce(sum(length(checkpoint) + length(metadata)), 0)"
            " FROM checkpoints WHERE thread_id = ?",
            (thread_id,),
        ).fetchone()
        (write_bytes,) = conn.execute(
            "SELECT coalesce(sum(length(value)), 0) FROM writes WHERE thread_id = ?",
            (thread_id,),
        ).fetchone()
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    return row_bytes + write_bytes, checkpoints, (pages - free) * size


def postgres_bytes(url: str, thread_id: str) -> tuple[int, int]:
    """The conversation's row bytes (checkpoints, writes, blobs) and checkpoints."""
    import psycopg

    total = 0
    with psycopg.connect(url, autocommit=True) as conn:
        for table in ("checkpoints", "checkpoint_writes", "checkpoint_blobs"):
            row_ = conn.execute(
                f"SELECT coalesce(sum(pg_column_size(t.*)), 0), count(*) FROM {table} AS t"
                " WHERE thread_id = %s",
                (thread_id,),
            ).fetchone()
            assert row_ is not None
            total += int(row_[0])
            if table == "checkpoints":
                checkpoints = int(row_[1])
    return total, checkpoints


async def talk(bot: Bot, thread_id: str, start: int, stop: int) -> None:
    """Turns ``start + 1`` to ``stop`` of the conversation's cycle."""
    for turn in range(start, stop):
        result = await bot.handle(thread_id, CYCLE[turn % len(CYCLE)], user_id="u1")
        if turn % len(CYCLE) == len(CYCLE) - 1:
            check(result.texts == ["How much do you want to send?"], str(result.texts))


@contextlib.contextmanager
def sqlite_history_kept(path: str) -> Iterator[None]:
    """Retention's pruning in the write suspended: one checkpoint kept per turn."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (TRIGGER,)).fetchone()
        conn.execute(f"DROP TRIGGER {TRIGGER}")
        conn.commit()
    try:
        yield
    finally:
        with contextlib.closing(sqlite3.connect(path)) as conn:
            conn.execute(sql)
            conn.commit()


async def sqlite_sizes(folder: Path, marks: Sequence[int], before: int) -> None:
    path = str(folder / "bytes.db")
    bot = await Bot.load(BANKING, db=path, secret=SECRET)
    try:
        measured: dict[int, tuple[int, int, int]] = {}
        done = 0
        for mark in marks:
            await talk(bot, "long", done, mark)
            done = mark
            await bot.storage.maintain(time.time())  # what the sweeper does hourly
            measured[mark] = sqlite_bytes(path, "long")
        kept = 0
        if before:
            with sqlite_history_kept(path):
                await talk(bot, "kept", 0, before)
            kept, kept_checkpoints, _ = sqlite_bytes(path, "kept")
            check(kept_checkpoints == before, f"{kept_checkpoints} checkpoints kept")
        started = time.perf_counter()
        await bot.reset("long")
        reset_seconds = time.perf_counter() - started
    finally:
        await bot.aclose()

    first = marks[0]
    banner(f"(a) one conversation's storage on SQLite, turn {first:,} to {marks[-1]:,}")
    for mark, (rows, checkpoints, _) in measured.items():
        label = f"rows at turn {mark:,} ({checkpoints} checkpoint(s))"
        row(label, rows, "B", measured[first][0], f"turn {first:,}")
    for mark, (_, _, used) in measured.items():
        row(f"file bytes in use at turn {mark:,}", used, "B", measured[first][2], f"turn {first:,}")
    if before:
        row(f"before retention: rows at turn {before:,}", kept, "B", measured[first][0],
            f"turn {first:,}, with retention")  # fmt: skip
    row(f"reset of the {marks[-1]:,}-turn conversation", reset_seconds * 1e3, "ms")


async def write_cost(folder: Path, turns: int) -> None:
    """A turn whose write prunes its parent, next to the same turn keeping it (interleaved)."""
    paths = {"pruned": str(folder / "pruned.db"), "kept": str(folder / "kept.db")}
    bots = {name: await Bot.load(BANKING, db=path, secret=SECRET) for name, path in paths.items()}
    times: dict[str, list[float]] = {name: [] for name in bots}
    try:
        with sqlite_history_kept(paths["kept"]):
            for bot in bots.values():
                await talk(bot, "cost", 0, 2 * len(CYCLE))  # warm
            gc.collect()
            for turn in range(2 * len(CYCLE), 2 * len(CYCLE) + turns):
                order = list(bots) if turn % 2 else list(reversed(bots))
                for name in order:
                    started = time.perf_counter()
                    await talk(bots[name], "cost", turn, turn + 1)
                    times[name].append(time.perf_counter() - started)
            check(sqlite_bytes(paths["pruned"], "cost")[1] == 1, "the pruned kept history")
    finally:
        for bot in bots.values():
            await bot.aclose()
    banner(f"(a) a turn's cost with the pruning in its write, {turns} turns each, interleaved")
    floor_label = "the same turn, the pruning suspended"
    for label, pick in (("median", statistics.median), ("p90", _p90)):
        row(f"turn, {label}", pick(times["pruned"]) * 1e3, "ms",
            pick(times["kept"]) * 1e3, floor_label)  # fmt: skip


def _p90(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=10)[8]


# -- (a), (b): a turn's time at turn 10 and at turn 1,000 ---------------------------

EARLY = 10  # the turn whose time is the floor
WINDOW = 10  # turns timed around each: 6-15 around turn 10, 996-1,005 around 1,000


async def turn_times(
    section: str, backend: str, bot: Bot, late: int, conversations: int
) -> None:  # fmt: skip
    """A turn's time around turn 10 and around turn ``late`` of the same conversations.

    The conversations walk in step (turn n of each, then turn n + 1), so each window
    holds ``conversations`` times ``WINDOW`` turns, and whatever grows with the
    turns of the process (not only of one conversation) is in the later window.
    The two windows are measured seconds apart, so a second floor is measured
    interleaved with the later one: the first turns of conversations started then,
    each beside an old conversation's turn of the same kind (``CYCLE``).
    """
    early = range(EARLY - WINDOW // 2, EARLY + WINDOW // 2)  # turn n + 1 for n in it
    late_turns = range(late - WINDOW // 2, late + WINDOW // 2)
    old = [f"latency-{n}" for n in range(conversations)]
    new = [f"latency-new-{n}" for n in range(conversations)]
    times: dict[str, list[float]] = {"early": [], "late": [], "new": []}
    cpu: dict[str, list[float]] = {"early": [], "late": [], "new": []}

    async def timed(conversation: str, turn: int, into: str | None) -> None:
        started, used = time.perf_counter(), time.process_time()
        await talk(bot, conversation, turn, turn + 1)
        if into is not None:
            times[into].append(time.perf_counter() - started)
            cpu[into].append(time.process_time() - used)

    for turn in range(late_turns.start):
        for conversation in old:
            await timed(conversation, turn, "early" if turn in early else None)
    for turn in range(early.start):
        for conversation in new:
            await timed(conversation, turn, None)
    for turn, late_turn in zip(early, late_turns, strict=True):
        for young, aged in zip(new, old, strict=True):
            pair = [(young, turn, "new"), (aged, late_turn, "late")]
            for conversation, n, into in pair if turn % 2 else reversed(pair):
                await timed(conversation, n, into)

    banner(
        f"({section}) a turn's time at turn {EARLY} and at turn {late:,} of a conversation"
        f" ({backend}); {conversations} conversations in step, turns"
        f" {early.start + 1}-{early.stop} and {late_turns.start + 1:,}-{late_turns.stop:,} of each"
    )
    for floor, floor_label in (
        ("early", f"turn {EARLY}, the same conversations"),
        ("new", f"turn {EARLY} of new ones, interleaved"),
    ):
        for label, pick in (("median", statistics.median), ("p90", _p90)):
            row(f"turn {late:,}, {label}", pick(times["late"]) * 1e3, "ms",
                pick(times[floor]) * 1e3, floor_label)  # fmt: skip
    # The process's CPU time (all its threads; the database server's not counted):
    # what the machine's load hardly moves, so a growth with the turns shows here.
    row(f"turn {late:,}, CPU time, median", statistics.median(cpu["late"]) * 1e3, "ms",
        statistics.median(cpu["early"]) * 1e3, f"turn {EARLY}, the same conversations")  # fmt: skip


async def sqlite_turn_times(folder: Path, late: int, conversations: int) -> None:
    bot = await Bot.load(BANKING, db=str(folder / "latency.db"), secret=SECRET)
    try:
        await turn_times("a", "SQLite", bot, late, conversations)
    finally:
        await bot.aclose()


async def postgres_turn_times(server: str, late: int, conversations: int) -> None:
    if unreachable(server) is not None:
        return  # (b) said why
    with throwaway_database(server) as url:
        bot = await Bot.load(BANKING, db=url, secret=SECRET)
        try:
            await turn_times("b", "PostgreSQL", bot, late, conversations)
        finally:
            await bot.aclose()


async def postgres_sizes(server: str, marks: Sequence[int]) -> None:
    reason = unreachable(server)
    if reason is not None:
        banner("(b) one conversation's storage on PostgreSQL")
        print(f"   PostgreSQL skipped: no server at {server} ({reason})")
        return
    with throwaway_database(server) as url:
        bot = await Bot.load(BANKING, db=url, secret=SECRET)
        try:
            measured: dict[int, tuple[int, int]] = {}
            done = 0
            for mark in marks:
                await talk(bot, "long", done, mark)
                done = mark
                await bot.storage.maintain(time.time())
                measured[mark] = postgres_bytes(url, "long")
        finally:
            await bot.aclose()
    first = marks[0]
    banner(f"(b) one conversation's storage on PostgreSQL, turn {first:,} to {marks[-1]:,}")
    for mark, (rows, checkpoints) in measured.items():
        label = f"rows at turn {mark:,} ({checkpoints} checkpoint(s))"
        row(label, rows, "B", measured[first][0], f"turn {first:,}")


# -- (c): turns while a long conversation is deleted, or the journal purged -----------


def grow_history(path: str, thread_id: str, count: int) -> None:
    """Give the conversation ``count`` older checkpoints, copies of its latest with its writes."""
    with sqlite_history_kept(path), contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute(
            """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
            INSERT INTO checkpoints
            SELECT c.thread_id, c.checkpoint_ns, printf('0-%08d', n.i), NULL, c.type,
                   c.checkpoint, c.metadata
            FROM checkpoints AS c, n WHERE c.thread_id = ?
            """,
            (count, thread_id),
        )
        conn.execute(
            """
            INSERT INTO writes
            SELECT w.thread_id, w.checkpoint_ns, c.checkpoint_id, w.task_id, w.task_path,
                   w.idx, w.channel, w.type, w.value
            FROM writes AS w JOIN checkpoints AS c ON c.thread_id = w.thread_id
            WHERE w.thread_id = ? AND c.checkpoint_id LIKE '0-%'
            """,
            (thread_id,),
        )
        conn.commit()


def fill_journal(path: str, count: int) -> None:
    """``count`` finished runs, older than the journal's retention."""
    old = time.time() - RETENTION - 3600
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.executemany(
            "INSERT INTO soni_action_runs (key, status, result, updated_at) VALUES (?, ?, ?, ?)",
            ((f"old-{n:09d}", "done", '{"ok": true}', old + n * 1e-6) for n in range(count)),
        )
        conn.commit()


class Turns:
    """Other conversations' turns, one after another, each timed and probed (``_probe``)."""

    def __init__(self, bot: Bot, conversations: int) -> None:
        self.bot = bot
        self.conversations = [f"other-{n}" for n in range(conversations)]
        self.sent = 0
        self.probe = Probe()

    async def one(self) -> Sample:
        conversation = self.conversations[(self.sent // 2) % len(self.conversations)]
        text, expected = OTHERS[self.sent % 2]
        self.sent += 1
        before = self.probe.read()  # outside the timing: it costs ~0.1 ms
        started = time.perf_counter()
        result = await self.bot.handle(conversation, text, user_id="u1")
        elapsed = time.perf_counter() - started
        check(result.texts == [expected], str(result.texts))
        return self.probe.sample(elapsed, before)

    async def count(self, n: int) -> list[Sample]:
        return [await self.one() for _ in range(n)]

    async def during(self, work: Awaitable[Any]) -> tuple[list[Sample], float]:
        """Turns for as long as ``work`` runs; the work's own seconds."""
        started = time.perf_counter()
        task = asyncio.ensure_future(work)
        times: list[Sample] = []
        while not task.done():
            times.append(await self.one())
        await task
        return times, time.perf_counter() - started


def _p99(samples: list[Sample]) -> float:
    walls = [s.wall for s in samples]
    return statistics.quantiles(walls, n=100)[98] if len(walls) >= 2 else walls[0]


def _max(samples: list[Sample]) -> float:
    return max(s.wall for s in samples)


def latency_rows(label: str, samples: list[Sample], floor: float) -> None:
    floor_label = "median, nothing else going on"
    median = statistics.median(s.wall for s in samples)
    row(f"{label}, median", median * 1e3, "ms", floor * 1e3, floor_label)
    row(f"{label}, p99", _p99(samples) * 1e3, "ms", floor * 1e3, floor_label)
    row(f"{label}, max", _max(samples) * 1e3, "ms", floor * 1e3, floor_label)


class Backend:
    """How (c) prepares a database behind the bot's back: long histories, an old journal."""

    name = ""

    def grow(self, thread_id: str, count: int) -> None:
        raise NotImplementedError

    def checkpoints(self, thread_id: str) -> int:
        raise NotImplementedError

    def fill_journal(self, count: int) -> None:
        raise NotImplementedError


class SqliteBackend(Backend):
    name = "SQLite"

    def __init__(self, path: str) -> None:
        self.path = path

    def grow(self, thread_id: str, count: int) -> None:
        grow_history(self.path, thread_id, count)

    def checkpoints(self, thread_id: str) -> int:
        return sqlite_bytes(self.path, thread_id)[1]

    def fill_journal(self, count: int) -> None:
        fill_journal(journal_path(self.path), count)


class PostgresBackend(Backend):
    name = "PostgreSQL"

    def __init__(self, url: str) -> None:
        self.url = url

    def _run(self, *statements: tuple[str, tuple[Any, ...]]) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            for sql, params in statements:
                conn.execute(sql, params)

    def grow(self, thread_id: str, count: int) -> None:
        self._run(
            (f"ALTER TABLE checkpoints DISABLE TRIGGER {TRIGGER}", ()),
            ("""INSERT INTO checkpoints
                SELECT c.thread_id, c.checkpoint_ns, '0-' || lpad(n::text, 8, '0'), NULL,
                       c.type, c.checkpoint, c.metadata
                FROM checkpoints AS c, generate_series(1, %s) AS n WHERE c.thread_id = %s""",
             (count, thread_id)),
            ("""INSERT INTO checkpoint_writes
                SELECT w.thread_id, w.checkpoint_ns, c.checkpoint_id, w.task_id, w.idx,
                       w.channel, w.type, w.blob, w.task_path
                FROM checkpoint_writes AS w JOIN checkpoints AS c USING (thread_id)
                WHERE w.thread_id = %s AND c.checkpoint_id LIKE '0-%%'""", (thread_id,)),
            # Each channel's value under older versions, as each turn left one.
            ("""INSERT INTO checkpoint_blobs
                SELECT b.thread_id, b.checkpoint_ns, b.channel,
                       repeat('0', 32) || '.' || lpad(n::text, 16, '0'),
                       b.type, b.blob
                FROM checkpoint_blobs AS b, generate_series(1, %s) AS n
                WHERE b.thread_id = %s""", (count, thread_id)),
            (f"ALTER TABLE checkpoints ENABLE TRIGGER {TRIGGER}", ()),
        )  # fmt: skip

    def checkpoints(self, thread_id: str) -> int:
        return postgres_bytes(self.url, thread_id)[1]

    def fill_journal(self, count: int) -> None:
        self._run(
            ("""INSERT INTO soni_action_runs (key, status, result, updated_at)
                SELECT 'old-' || n, 'done', '{"ok": true}',
                       now() - make_interval(secs => %s) + n * interval '1 microsecond'
                FROM generate_series(1, %s) AS n""", (RETENTION + 3600, count)),
        )  # fmt: skip


async def stalls(
    section: str, bot: Bot, backend: Backend, history: int, deletes: int, journal: int,
    samples: int,
) -> None:  # fmt: skip
    turns = Turns(bot, conversations=20)
    await turns.count(2 * len(turns.conversations))  # each started, warm
    doomed = [f"doomed-{n}" for n in range(deletes)]
    for conversation in doomed:
        await talk(bot, conversation, 0, len(CYCLE))  # paused on a question
        backend.grow(conversation, history)
    backend.fill_journal(journal)
    held = [backend.checkpoints(c) for c in doomed]
    check(held == [history + 1] * deletes, f"the doomed hold {held} checkpoints")

    # Quiet windows between the busy ones, so that the machine's drift hits both;
    # each as long as the busy one before it, so that their tails (the max of as
    # many turns) compare.
    window = max(samples // (deletes + 2), 10)
    gc.collect()
    turns.probe.install()
    try:
        quiet = await turns.count(window)
        deleting: list[Sample] = []
        delete_seconds: list[float] = []
        for conversation in doomed:
            taken, seconds = await turns.during(bot.reset(conversation))
            deleting += taken
            delete_seconds.append(seconds)
            quiet += await turns.count(max(window, len(taken)))
        check(all(backend.checkpoints(c) == 0 for c in doomed), "a deleted conversation stayed")
        purge = bot.storage.journal.purge(time.time() - RETENTION)
        purging, purge_seconds = await turns.during(purge)
        quiet += await turns.count(max(window, len(purging)))
    finally:
        turns.probe.uninstall()

    floor = statistics.median(s.wall for s in quiet)
    banner(
        f"({section}) turns of other conversations ({backend.name}), one client; {len(quiet)}"
        " turns with nothing else going on, in windows before, between and after the others"
    )
    row("nothing else going on, median", floor * 1e3, "ms")
    row("nothing else going on, p99", _p99(quiet) * 1e3, "ms", floor * 1e3, "median")
    row("nothing else going on, max", _max(quiet) * 1e3, "ms", floor * 1e3, "median")
    latency_rows(
        f"while {deletes} conversation(s) of {history:,} checkpoints are deleted"
        f" ({len(deleting)} turns)",
        deleting,
        floor,
    )
    row("  each delete (a reset), median", statistics.median(delete_seconds) * 1e3, "ms")
    latency_rows(
        f"while the journal purges {journal:,} entries ({len(purging)} turns)", purging, floor
    )
    row("  the purge", purge_seconds * 1e3, "ms")
    print(f"   ({section}) what the slow turns waited for (bench/_probe.py):")
    explain("nothing else going on", quiet, floor)
    explain("while deleting", deleting, floor)
    explain("while purging", purging, floor)


async def sqlite_stalls(folder: Path, *args: int) -> None:
    path = str(folder / "stalls.db")
    bot = await Bot.load(BANKING, db=path, secret=SECRET)
    try:
        await stalls("c", bot, SqliteBackend(path), *args)
    finally:
        await bot.aclose()


async def postgres_stalls(server: str, *args: int) -> None:
    reason = unreachable(server)
    if reason is not None:
        banner("(d) turns of other conversations (PostgreSQL)")
        print(f"   PostgreSQL skipped: no server at {server} ({reason})")
        return
    with throwaway_database(server) as url:
        bot = await Bot.load(BANKING, db=url, secret=SECRET)
        try:
            await stalls("d", bot, PostgresBackend(url), *args)
        finally:
            await bot.aclose()


def marks_of(text: str) -> list[int]:
    marks = sorted({int(part) for part in text.split(",") if part.strip()})
    if not marks or any(m <= 0 or m % len(CYCLE) for m in marks):
        raise argparse.ArgumentTypeError(f"turns must be positive multiples of {len(CYCLE)}")
    return marks


def late_turn(text: str) -> int:
    (turn,) = marks_of(text)
    if turn < EARLY + WINDOW:
        raise argparse.ArgumentTypeError(f"the late turn must be {EARLY + WINDOW} or more")
    return turn


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=marks_of, default=[10, 100, 1_000, 10_000],
                        help="turns at which (a) measures, multiples of 5")  # fmt: skip
    parser.add_argument("--pg-turns", type=marks_of, default=[10, 1_000],
                        help="turns at which (b) measures")  # fmt: skip
    parser.add_argument("--before", type=int, default=1_000,
                        help="turns of (a)'s conversation without retention (0: skip)")  # fmt: skip
    parser.add_argument("--cost", type=int, default=500,
                        help="turns of (a)'s cost of the pruning (0: skip)")  # fmt: skip
    parser.add_argument("--latency-at", type=late_turn, default=1_000,
                        help="the turn whose time (a) and (b) compare with turn 10")  # fmt: skip
    parser.add_argument("--latency-conversations", type=int, default=5,
                        help="conversations whose turns (a) and (b) time (0: skip)")  # fmt: skip
    parser.add_argument("--history", type=int, default=10_000,
                        help="checkpoints of each conversation (c) deletes")  # fmt: skip
    parser.add_argument("--deletes", type=int, default=3, help="conversations (c) deletes")
    parser.add_argument("--journal", type=int, default=1_000_000,
                        help="journal entries (c) purges")  # fmt: skip
    parser.add_argument("--samples", type=int, default=300,
                        help="turns with nothing else going on, at least")  # fmt: skip
    parser.add_argument("--postgres", default=POSTGRES, help="a PostgreSQL server's URL")
    parser.add_argument("--no-postgres-stalls", action="store_true", help="skip (d)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        await sqlite_sizes(folder, args.turns, args.before)
        if args.cost:
            await write_cost(folder, args.cost)
        if args.latency_conversations:
            await sqlite_turn_times(folder, args.latency_at, args.latency_conversations)
        await postgres_sizes(args.postgres, args.pg_turns)
        if args.latency_conversations:
            await postgres_turn_times(args.postgres, args.latency_at, args.latency_conversations)
        stalled = (args.history, args.deletes, args.journal, args.samples)
        await sqlite_stalls(folder, *stalled)
        if not args.no_postgres_stalls:
            await postgres_stalls(args.postgres, *stalled)


if __name__ == "__main__":
    started = time.perf_counter()
    asyncio.run(main())
    print(f"\n   (whole run {time.perf_counter() - started:.1f} s)")
