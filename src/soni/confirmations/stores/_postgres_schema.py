"""The PostgreSQL store's tables, and the statements that read and change them.

Times are ``timestamptz``: microseconds, as SQLite's integers, but readable as
times in ``psql`` and ``pg_dump`` by whoever operates the database, and compared by
the server with no conversion. Actions and results are the canonical JSON text the
SQLite store keeps, not ``jsonb``: ``jsonb`` would reorder keys, respell numbers and
refuse ``\\u0000`` in a string, so an action's arguments would not come back exactly
as they were registered on one backend and as they do on the other.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from soni.confirmations.records import (
    TERMINAL,
    ActionCall,
    Actor,
    HistoryEntry,
    PendingConfirmation,
    Status,
    canonical_json,
)
from soni.confirmations.stores.base import Change
from soni.postgres import RELAXED, Schema

__all__ = (
    "COLUMNS",
    "EXPIRE",
    "FIND",
    "INSERT",
    "OPEN_SQL",
    "PURGE",
    "SCHEMA",
    "history_entry",
    "to_record",
    "to_row",
    "transition_sql",
)

OPEN_SQL = "('pending', 'shown')"
SAFE_TO_LOSE = frozenset({Status.EXECUTED, Status.FAILED})
"""Outcomes whose loss cannot make an action run twice (as the SQLite store's)."""
TERMINAL_SQL = "(" + ", ".join(f"'{s.value}'" for s in sorted(TERMINAL)) + ")"

_CREATE = (
    """
    CREATE TABLE IF NOT EXISTS confirmations (
        id               text PRIMARY KEY,
        token_hash       text NOT NULL UNIQUE,
        idempotency_key  text,
        conversation_id  text NOT NULL,
        user_id          text,
        kind             text NOT NULL,
        actions          text NOT NULL,
        prompt           text NOT NULL,
        created_at       timestamptz NOT NULL,
        expires_at       timestamptz NOT NULL,
        status           text NOT NULL,
        chosen           text,
        decided_user     text,
        decided_channel  text,
        decided_at       timestamptz,
        result           text,
        error            text,
        updated_at       timestamptz NOT NULL,
        runner           text
    )
    """,
    # At most one open confirmation per key: the database, not the caller, enforces it.
    f"""
    CREATE UNIQUE INDEX IF NOT EXISTS confirmations_open_key ON confirmations (idempotency_key)
        WHERE idempotency_key IS NOT NULL AND status IN {OPEN_SQL}
    """,
    # Sweeps touch only open records, however many closed ones accumulate.
    f"""
    CREATE INDEX IF NOT EXISTS confirmations_open_expiry ON confirmations (expires_at)
        WHERE status IN {OPEN_SQL}
    """,
    """
    CREATE INDEX IF NOT EXISTS confirmations_by_conversation
        ON confirmations (conversation_id, created_at)
    """,
    f"""
    CREATE INDEX IF NOT EXISTS confirmations_purge ON confirmations (updated_at)
        WHERE status IN {TERMINAL_SQL}
    """,
    # Runs whose outcome is not recorded: what start-up recovery and operators look at.
    """
    CREATE INDEX IF NOT EXISTS confirmations_unsettled ON confirmations (status)
        WHERE status IN ('executing', 'interrupted')
    """,
    """
    CREATE TABLE IF NOT EXISTS confirmation_history (
        seq              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        confirmation_id  text NOT NULL,
        from_status      text,
        to_status        text NOT NULL,
        actor_user       text,
        actor_channel    text NOT NULL,
        at               timestamptz NOT NULL
    )
    """,
    """
    CREATE INDEX IF NOT EXISTS confirmation_history_by_id
        ON confirmation_history (confirmation_id, seq)
    """,
)

SCHEMA = Schema(
    component="confirmations",
    version=1,
    create=_CREATE,
    # Version n's entry brings a database from n to n + 1 (as the SQLite store's).
    migrations={},
    tables=("confirmations", "confirmation_history"),
)

COLUMNS = (
    "id, token_hash, idempotency_key, conversation_id, user_id, kind, actions, prompt, "
    "created_at, expires_at, status, chosen, decided_user, decided_channel, decided_at, "
    "result, error, updated_at, runner"
)
_C_COLUMNS = ", ".join(f"c.{name.strip()}" for name in COLUMNS.split(","))

FIND = f"SELECT {COLUMNS} FROM confirmations WHERE "

_INSERT_INTO = (
    "INSERT INTO confirmations (id, token_hash, idempotency_key, conversation_id, user_id,"
    " kind, actions, prompt, created_at, expires_at, status, updated_at)"
)
_ROW = "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s"

# The record and its creation entry in one statement, not flushed on its own (see
# ``RELAXED``: lost, it leaves a token nobody can use, and the user is asked again).
# A clash on the open-key index (and only there: a clash of id or token hash still
# raises) inserts nothing, and the statement then reports no row, instead of an
# error in the server's log.
INSERT = f"""
WITH added AS (
    {_INSERT_INTO} SELECT {_ROW} FROM {RELAXED}
    ON CONFLICT (idempotency_key)
        WHERE idempotency_key IS NOT NULL AND status IN {OPEN_SQL} DO NOTHING
    RETURNING id, status, created_at
)
INSERT INTO confirmation_history
    (confirmation_id, from_status, to_status, actor_user, actor_channel, at)
SELECT id, NULL, status, NULL, 'system', created_at FROM added
"""

# Due open records, the earliest first, that no other sweeper holds: workers
# sweeping at once each take different ones and never wait for each other. The
# lock re-reads a row changed since the statement began, so one decided meanwhile
# is left out.
EXPIRE = f"""
WITH due AS (
    SELECT id, status FROM confirmations
    WHERE status IN {OPEN_SQL} AND expires_at <= %(now)s
    ORDER BY expires_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
), changed AS (
    UPDATE confirmations AS c SET status = 'expired', updated_at = %(now)s
    FROM due WHERE c.id = due.id
    RETURNING c.id, c.conversation_id, c.user_id, due.status AS before
), logged AS (
    INSERT INTO confirmation_history
        (confirmation_id, from_status, to_status, actor_user, actor_channel, at)
    SELECT id, before, 'expired', %(user)s, %(channel)s, %(now)s FROM changed
)
SELECT id, conversation_id, user_id, before FROM changed
"""

# One batch of a purge, through the index on closed records' last change. Each
# batch is a transaction of its own, so a large purge never holds locks for long.
# The batch's ids go as one array: its rows are then looked up by index whatever
# the tables' sizes (joined to the batch instead, the planner scans the whole
# history table for each batch up to a few million rows).
PURGE = f"""
WITH doomed AS MATERIALIZED (
    SELECT ARRAY(
        SELECT id FROM confirmations
        WHERE status IN {TERMINAL_SQL} AND updated_at < %(before)s
        ORDER BY updated_at
        LIMIT %(batch)s
        FOR UPDATE SKIP LOCKED
    ) AS ids
), history AS (
    DELETE FROM confirmation_history
    WHERE confirmation_id = ANY((SELECT ids FROM doomed)::text[])
)
DELETE FROM confirmations WHERE id = ANY((SELECT ids FROM doomed)::text[])
"""


def _utc(moment: datetime | None) -> datetime | None:
    # psycopg answers in the session's time zone; records are in UTC everywhere.
    return None if moment is None else moment.astimezone(UTC)


def to_record(row: Sequence[Any]) -> PendingConfirmation:
    (cid, token_hash, key, conversation_id, user_id, kind, actions, prompt, created_at,
     expires_at, status, chosen, decided_user, decided_channel, decided_at, result, error,
     updated_at, runner) = row[:19]  # fmt: skip
    return PendingConfirmation(
        id=cid,
        token_hash=token_hash,
        conversation_id=conversation_id,
        user_id=user_id,
        kind=kind,
        actions=tuple(ActionCall.from_json(a) for a in json.loads(actions)),
        prompt=prompt,
        created_at=created_at.astimezone(UTC),
        expires_at=expires_at.astimezone(UTC),
        status=Status(status),
        key=key,
        chosen=chosen,
        decided_by=None if decided_channel is None else Actor(decided_user, decided_channel),
        decided_at=_utc(decided_at),
        result=None if result is None else json.loads(result),
        error=error,
        updated_at=_utc(updated_at),
        runner=runner,
    )


def to_row(record: PendingConfirmation) -> tuple[Any, ...]:
    return (
        record.id,
        record.token_hash,
        record.key,
        record.conversation_id,
        record.user_id,
        record.kind,
        record.actions_json(),
        record.prompt,
        record.created_at,
        record.expires_at,
        record.status.value,
        record.updated_at or record.created_at,
    )


def history_entry(confirmation_id: str, row: Sequence[Any]) -> HistoryEntry:
    from_status, to_status, actor_user, actor_channel, at = row
    return HistoryEntry(
        confirmation_id,
        None if from_status is None else Status(from_status),
        Status(to_status),
        Actor(actor_user, actor_channel),
        at.astimezone(UTC),
    )


def transition_sql(
    confirmation_id: str,
    change: Change,
    *,
    unexpired: bool,
    expired: bool,
    claimed_by: str | None,
) -> tuple[str, dict[str, Any]]:
    """One statement for a whole compare-and-set: the record, its previous status, history.

    ``old`` locks the row first and reads its status: a writer that got there first
    has committed by then, so the status read is the one the ``UPDATE``'s
    conditions are checked against — the previous status, with no race. The
    ``UPDATE`` writes the chain of changes at once (each field as its last step
    leaves it, as applying them one by one would) and the history gets one row per
    step, in order. One statement is one transaction: nothing of it is written
    unless all of it is.

    An action's outcome is not flushed on its own (see ``RELAXED``): lost, the
    record stays ``executing``, an unknown outcome, never run again.
    """
    steps = change.chain()
    last = steps[-1]
    params: dict[str, Any] = {
        "id": confirmation_id,
        "expected": [status.value for status in change.expected],
        "status": last.status.value,
        "updated_at": last.at,
        "now": change.at,
        "froms": [None, *(step.status.value for step in steps[:-1])],
        "tos": [step.status.value for step in steps],
        "users": [step.actor.user_id for step in steps],
        "channels": [step.actor.channel for step in steps],
        "ats": [step.at for step in steps],
    }
    sets = ["status = %(status)s", "updated_at = %(updated_at)s"]
    decisions = [step for step in steps if step.decided]
    if decisions:
        decided = decisions[-1]
        sets += [
            "decided_user = %(decided_user)s",
            "decided_channel = %(decided_channel)s",
            "decided_at = %(decided_at)s",
        ]
        params |= {
            "decided_user": decided.actor.user_id,
            "decided_channel": decided.actor.channel,
            "decided_at": decided.at,
        }
    latest = {
        "chosen": _last(step.chosen for step in steps),
        "result": _last(
            None if step.result is None else canonical_json(dict(step.result)) for step in steps
        ),
        "error": _last(step.error for step in steps),
        "runner": _last(step.runner for step in steps),
    }
    for name, value in latest.items():
        if value is not None:
            sets.append(f"{name} = %({name})s")
            params[name] = value

    conditions = ["c.id = old.id", "c.status = ANY(%(expected)s::text[])"]
    if unexpired:
        conditions.append("c.expires_at > %(now)s")
    if expired:
        conditions.append("c.expires_at <= %(now)s")
    if claimed_by is not None:
        conditions.append("coalesce(c.runner, '') = %(claimed_by)s")
        params["claimed_by"] = claimed_by

    sources = f"old, {RELAXED}" if change.status in SAFE_TO_LOSE else "old"
    sql = f"""
    WITH old AS MATERIALIZED (
        SELECT id, status FROM confirmations WHERE id = %(id)s FOR UPDATE
    ), changed AS (
        UPDATE confirmations AS c SET {", ".join(sets)}
        FROM {sources}
        WHERE {" AND ".join(conditions)}
        RETURNING {_C_COLUMNS}, old.status AS before
    ), logged AS (
        INSERT INTO confirmation_history
            (confirmation_id, from_status, to_status, actor_user, actor_channel, at)
        SELECT changed.id, coalesce(step.from_status, changed.before), step.to_status,
               step.actor_user, step.actor_channel, step.at
        FROM changed, unnest(
            %(froms)s::text[], %(tos)s::text[], %(users)s::text[], %(channels)s::text[],
            %(ats)s::timestamptz[]
        ) WITH ORDINALITY AS step(from_status, to_status, actor_user, actor_channel, at, n)
        ORDER BY step.n
    )
    SELECT * FROM changed
    """
    return sql, params


def _last(values: Any) -> Any:
    """The last of ``values`` that is not ``None``."""
    found = None
    for value in values:
        if value is not None:
            found = value
    return found
