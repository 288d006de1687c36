"""Retention: a conversation keeps its latest checkpoint, on SQLite and on PostgreSQL.

Histories as soni kept them before retention (one checkpoint per turn) are made by
suspending the in-write pruning and copying a conversation's latest checkpoint
under older ids, with its writes (and, on PostgreSQL, its blobs under older
versions): what the sweeper and a reset then have to remove.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import psycopg
import pytest

from soni.actions import ActionSpec
from soni.engine import Bot
from soni.storage import Storage
from soni.storage.retention import CheckpointRetention

from ..engine.conftest import EXAMPLES
from ..engine.test_banking import IBAN, sent_in

SECRET = "a deployment secret for the retention tests"
Opened = Callable[[], Awaitable[Bot]]


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "state.db")
    return str(request.getfixturevalue("postgres_database"))


@pytest.fixture
async def open_bot(handlers: Mapping[str, ActionSpec], db: str) -> AsyncIterator[Opened]:
    bots: list[Bot] = []

    async def start() -> Bot:
        bot = await Bot.load(EXAMPLES / "banking", db=db, secret=SECRET)
        bots.append(bot)
        return bot

    yield start
    for bot in bots:
        await bot.aclose()


# -- the tables, read and written behind the bot's back --------------------------------


def is_postgres(db: str) -> bool:
    return db.startswith("postgresql://")


def counts(db: str, thread_id: str) -> dict[str, int]:
    """The conversation's rows: checkpoints, writes and (PostgreSQL) blobs."""
    if is_postgres(db):
        tables = {"checkpoints": "checkpoints", "writes": "checkpoint_writes"}
        tables["blobs"] = "checkpoint_blobs"
        with psycopg.connect(db, autocommit=True) as conn:
            return {
                name: conn.execute(
                    f"SELECT count(*) FROM {table} WHERE thread_id = %s", (thread_id,)
                ).fetchone()[0]  # type: ignore[index]
                for name, table in tables.items()
            }
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return {
            table: conn.execute(
                f"SELECT count(*) FROM {table} WHERE thread_id = ?", (thread_id,)
            ).fetchone()[0]
            for table in ("checkpoints", "writes")
        }


@contextlib.contextmanager
def history_kept(db: str) -> Iterator[None]:
    """Suspend the pruning in each turn's write, as before retention existed."""
    if is_postgres(db):
        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute("ALTER TABLE checkpoints DISABLE TRIGGER soni_keep_latest_checkpoint")
        try:
            yield
        finally:
            with psycopg.connect(db, autocommit=True) as conn:
                conn.execute("ALTER TABLE checkpoints ENABLE TRIGGER soni_keep_latest_checkpoint")
        return
    with contextlib.closing(sqlite3.connect(db)) as conn:
        (trigger,) = conn.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'soni_keep_latest_checkpoint'"
        ).fetchone()
        conn.execute("DROP TRIGGER soni_keep_latest_checkpoint")
        conn.commit()
    try:
        yield
    finally:
        with contextlib.closing(sqlite3.connect(db)) as conn:
            conn.execute(trigger)
            conn.commit()


def grow_history(db: str, thread_id: str, count: int) -> None:
    """Give the conversation ``count`` older checkpoints: copies of its latest, with its writes."""
    with history_kept(db):
        if is_postgres(db):
            _grow_postgres(db, thread_id, count)
        else:
            _grow_sqlite(db, thread_id, count)


def _grow_sqlite(db: str, thread_id: str, count: int) -> None:
    with contextlib.closing(sqlite3.connect(db)) as conn:
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


def _grow_postgres(db: str, thread_id: str, count: int) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute(
            """
            INSERT INTO checkpoints
            SELECT c.thread_id, c.checkpoint_ns, '0-' || lpad(n::text, 8, '0'), NULL,
                   c.type, c.checkpoint, c.metadata
            FROM checkpoints AS c, generate_series(1, %s) AS n WHERE c.thread_id = %s
            """,
            (count, thread_id),
        )
        conn.execute(
            """
            INSERT INTO checkpoint_writes
            SELECT w.thread_id, w.checkpoint_ns, c.checkpoint_id, w.task_id, w.idx,
                   w.channel, w.type, w.blob, w.task_path
            FROM checkpoint_writes AS w JOIN checkpoints AS c USING (thread_id)
            WHERE w.thread_id = %s AND c.checkpoint_id LIKE '0-%%'
            """,
            (thread_id,),
        )
        # Each channel's value under older versions, as each turn left one.
        conn.execute(
            """
            INSERT INTO checkpoint_blobs
            SELECT b.thread_id, b.checkpoint_ns, b.channel,
                   repeat('0', 32) || '.' || lpad(n::text, 16, '0'),
                   b.type, b.blob
            FROM checkpoint_blobs AS b, generate_series(1, %s) AS n WHERE b.thread_id = %s
            """,
            (count, thread_id),
        )


def retention_of(bot: Bot) -> CheckpointRetention:
    assert bot.storage.retention is not None
    return bot.storage.retention


async def walk_to_confirmation(bot: Bot, conversation_id: str, amount: int = 50) -> None:
    for text in ["I want to send money", "Bob", str(amount)]:
        await bot.handle(conversation_id, text, user_id="u1")
    asked = await bot.handle(conversation_id, IBAN, user_id="u1")
    assert asked.status == "awaiting_confirmation"


# -- one checkpoint per conversation ----------------------------------------------------


async def test_after_many_turns_a_conversation_holds_one_checkpoint(
    open_bot: Opened, db: str
) -> None:
    bot = await open_bot()
    turns = ["/check_balance", "savings", "I want to send money", "Bob", "never mind"]
    for _ in range(6):
        for text in turns:
            await bot.handle("long", text, user_id="u1")
    await bot.handle("long", "I want to send money", user_id="u1")  # paused on a question

    rows = counts(db, "long")
    assert rows["checkpoints"] == 1
    assert rows["writes"] <= 2  # the pause's own: what it waits for
    if "blobs" in rows:  # one value per channel, not one per turn
        assert rows["blobs"] <= 8
    config: Any = {"configurable": {"thread_id": "long"}}
    history = [c async for c in bot.storage.checkpointer.alist(config)]
    assert len(history) == 1
    # What a user sees is the latest state, unchanged.
    state = await bot.state("long")
    assert state["waiting"]["kind"] == "slot"
    assert (await bot.handle("long", "Bob", user_id="u1")).texts == [
        "How much do you want to send?"
    ]


async def test_a_paused_conversation_resumes_after_its_history_is_pruned(
    open_bot: Opened, db: str
) -> None:
    bot = await open_bot()
    sent_before = len(sent_in("paused"))  # the banking example's record is the process's
    await walk_to_confirmation(bot, "paused")
    grow_history(db, "paused", 300)
    assert counts(db, "paused")["checkpoints"] == 301

    await bot.storage.maintain(time.time())

    assert counts(db, "paused")["checkpoints"] == 1
    (pending,) = await bot.pending("paused")
    assert pending.token is not None
    done = await bot.handle("paused", "yes", user_id="u1")
    assert done.texts[0].startswith("Done: 50 EUR sent to Bob.")
    assert [t["amount"] for t in sent_in("paused")[sent_before:]] == [50.0]


async def test_a_turn_writing_a_long_history_prunes_a_few_checkpoints_and_the_sweeper_the_rest(
    open_bot: Opened, db: str
) -> None:
    bot = await open_bot()
    await bot.handle("old", "/check_balance", user_id="u1")
    grow_history(db, "old", 50)

    await bot.handle("old", "savings", user_id="u1")
    left = counts(db, "old")["checkpoints"]
    assert 1 < left < 51  # the parent and a few more, never a long delete in a turn
    await bot.storage.maintain(time.time())
    assert counts(db, "old")["checkpoints"] == 1
    if is_postgres(db):
        assert counts(db, "old")["blobs"] <= 8


# -- never under a turn in flight -------------------------------------------------------


async def test_the_sweeper_skips_a_conversation_whose_turn_is_running(
    open_bot: Opened, db: str
) -> None:
    bot = await open_bot()
    for conversation in ("busy", "idle"):
        await walk_to_confirmation(bot, conversation)
        grow_history(db, conversation, 20)

    async with bot.storage.turn("busy"):
        pruned = await retention_of(bot).prune(bot.storage.turn)
        assert counts(db, "busy")["checkpoints"] == 21  # its turn holds it: untouched
        assert counts(db, "idle")["checkpoints"] == 1
    assert pruned == 1

    assert await retention_of(bot).prune(bot.storage.turn) == 1
    assert counts(db, "busy")["checkpoints"] == 1
    assert (await bot.handle("busy", "yes", user_id="u1")).texts[0].startswith("Done: 50 EUR")


@pytest.mark.slow  # six conversations against a sweeper
async def test_turns_and_the_sweeper_at_once_lose_nothing(open_bot: Opened, db: str) -> None:
    bot = await open_bot()
    conversations = [f"c{n}" for n in range(6)]
    sent_before = {c: len(sent_in(c)) for c in conversations}
    for conversation in conversations:
        await bot.handle(conversation, "I want to send money", user_id="u1")
        grow_history(db, conversation, 40)
    script = ["Bob", "7", IBAN, "yes", "/check_balance", "savings"]
    stop = asyncio.Event()

    async def talk(conversation: str) -> list[list[str]]:
        return [(await bot.handle(conversation, text, user_id="u1")).texts for text in script]

    async def sweep() -> int:
        rounds = 0
        while not stop.is_set():
            await retention_of(bot).prune(bot.storage.turn)
            rounds += 1
            await asyncio.sleep(0)
        return rounds

    sweeper = asyncio.create_task(sweep())
    try:
        answers = await asyncio.gather(*(talk(c) for c in conversations))
    finally:
        stop.set()
    assert await sweeper > 0

    for conversation, texts in zip(conversations, answers, strict=True):
        assert texts[:3] == [
            ["How much do you want to send?"],
            ["What is their IBAN?"],
            [f"Send 7 EUR to Bob ({IBAN})?"],
        ], conversation
        assert texts[3][0].startswith("Done: 7 EUR sent to Bob.")
        assert texts[5] == ["Your savings balance is 8000 EUR."]
        assert [t["amount"] for t in sent_in(conversation)[sent_before[conversation] :]] == [7.0]
    await retention_of(bot).prune(bot.storage.turn)
    assert all(counts(db, c)["checkpoints"] == 1 for c in conversations)


# -- deleting a long conversation ------------------------------------------------------


async def test_deleting_a_long_conversation_lets_other_conversations_turns_go(
    open_bot: Opened, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await open_bot()
    await walk_to_confirmation(bot, "long")
    grow_history(db, "long", 2_000)
    others = [f"other-{n}" for n in range(3)]
    for conversation in others:
        await bot.handle(conversation, "/check_balance", user_id="u1")

    # The delete stops after its first batch until the other conversations' turns
    # are through: were it holding anything they need (the checkpointer, a write
    # transaction), they could not finish, and neither could it.
    retention = retention_of(bot)
    first_batch, others_done = asyncio.Event(), asyncio.Event()
    drop_older = retention._drop_older

    async def drop_then_wait(thread_id: str, namespace: str) -> int:
        deleted = await drop_older(thread_id, namespace)
        if thread_id == "long" and not first_batch.is_set():
            first_batch.set()
            await others_done.wait()
        return deleted

    monkeypatch.setattr(retention, "_drop_older", drop_then_wait)
    reset = asyncio.create_task(bot.reset("long"))
    async with asyncio.timeout(60):
        await first_batch.wait()
        answers = await asyncio.gather(*(bot.handle(c, "savings", user_id="u1") for c in others))
    still_there = counts(db, "long")["checkpoints"]
    others_done.set()
    await reset

    assert all(a.texts == ["Your savings balance is 8000 EUR."] for a in answers)
    assert still_there > 1  # they ran while the delete was under way
    assert counts(db, "long") == dict.fromkeys(counts(db, "long"), 0)
    assert await bot.state("long") == {}
    assert await bot.pending("long") == []
    assert (await bot.handle("long", "hello", user_id="u1")).status != "awaiting_confirmation"


async def test_a_reset_conversation_reads_as_new_at_once(open_bot: Opened, db: str) -> None:
    bot = await open_bot()
    await walk_to_confirmation(bot, "gone")
    grow_history(db, "gone", 250)

    await bot.reset("gone")

    assert counts(db, "gone") == dict.fromkeys(counts(db, "gone"), 0)
    answer = await bot.handle("gone", "I want to send money", user_id="u1")
    assert answer.texts == ["Who should receive the money?"]


# -- free pages back to the file system (SQLite) ---------------------------------------


def pages(path: str) -> tuple[int, int]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        total = conn.execute("PRAGMA page_count").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    return int(total), int(free)


@pytest.mark.slow  # writes and vacuums a large file
async def test_the_sqlite_file_shrinks_after_a_delete_and_the_sweepers_vacuum(
    handlers: Mapping[str, ActionSpec], tmp_path: Path
) -> None:
    path = str(tmp_path / "state.db")
    bot = await Bot.load(EXAMPLES / "banking", db=path, secret=SECRET)
    try:
        await walk_to_confirmation(bot, "big")
        await bot.handle("small", "/check_balance", user_id="u1")
        grow_history(path, "big", 2_000)
        grown, _ = pages(path)

        await bot.reset("big")
        total, free = pages(path)
        assert total == grown and free > grown * 0.8  # freed, not given back yet

        await bot.storage.maintain(time.time())
        total, free = pages(path)
        assert free == 0
        assert total < grown * 0.1
        assert Path(f"{path}-wal").stat().st_size == 0  # the log emptied too
        assert (await bot.handle("small", "savings", user_id="u1")).texts == [
            "Your savings balance is 8000 EUR."
        ]
    finally:
        await bot.aclose()


async def test_a_file_made_before_incremental_vacuum_is_left_whole_and_keeps_working(
    handlers: Mapping[str, ActionSpec], tmp_path: Path
) -> None:
    path = str(tmp_path / "old.db")
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE made_before (x)")  # auto_vacuum can no longer change
    bot = await Bot.load(EXAMPLES / "banking", db=path, secret=SECRET)
    try:
        await walk_to_confirmation(bot, "big")
        grow_history(path, "big", 500)
        await bot.reset("big")
        before = pages(path)

        await bot.storage.maintain(time.time())

        assert pages(path) == before  # its free pages wait for later writes
        assert (await bot.handle("big", "/check_balance", user_id="u1")).texts == [
            "Which account: checking or savings?"
        ]
    finally:
        await bot.aclose()


# -- the bot's own memory of conversations --------------------------------------------


async def test_the_bot_forgets_its_shortcut_to_a_conversation_idle_for_an_hour(
    open_bot: Opened,
) -> None:
    bot = await open_bot()
    await bot.handle("seen", "I want to send money", user_id="u1")
    assert "seen" in bot._known

    bot._forget_idle(time.monotonic() + 1_800)
    assert "seen" in bot._known
    bot._forget_idle(time.monotonic() + 3_601)
    assert "seen" not in bot._known
    # Forgotten, it is read from its checkpoint: the conversation goes on.
    assert (await bot.handle("seen", "Bob", user_id="u1")).texts == [
        "How much do you want to send?"
    ]


async def test_the_memory_backend_keeps_no_retention(handlers: Mapping[str, ActionSpec]) -> None:
    bot = await Bot.load(EXAMPLES / "banking", db=":memory:")
    try:
        storage: Storage = bot.storage
        assert storage.retention is None
        await bot.handle("m", "I want to send money")
        await bot.reset("m")
        assert await bot.state("m") == {}
    finally:
        await bot.aclose()
