"""The SQLite store's tables, and how records and changes map to their rows.

Times are stored as integer microseconds since the Unix epoch (UTC), so they sort
and compare in SQL exactly as the datetimes do in Python.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
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

__all__ = (
    "COLUMNS",
    "INSERT",
    "INSERT_HISTORY",
    "MIGRATIONS",
    "OPEN_SQL",
    "SCHEMA",
    "SCHEMA_VERSION",
    "TERMINAL_SQL",
    "history_entry",
    "micros",
    "to_record",
    "to_row",
    "update_sql",
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

SCHEMA_VERSION = 2
OPEN_SQL = "('pending', 'shown')"
TERMINAL_SQL = "(" + ", ".join(f"'{s.value}'" for s in sorted(TERMINAL)) + ")"

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS confirmations (
    id               TEXT PRIMARY KEY,
    token_hash       TEXT NOT NULL UNIQUE,
    idempotency_key  TEXT,
    conversation_id  TEXT NOT NULL,
    user_id          TEXT,
    kind             TEXT NOT NULL,
    actions          TEXT NOT NULL,
    prompt           TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    status           TEXT NOT NULL,
    chosen           TEXT,
    decided_user     TEXT,
    decided_channel  TEXT,
    decided_at       INTEGER,
    result           TEXT,
    error            TEXT,
    updated_at       INTEGER NOT NULL,
    runner           TEXT
);
-- At most one open confirmation per key: the database, not the caller, enforces it.
CREATE UNIQUE INDEX IF NOT EXISTS confirmations_open_key
    ON confirmations (idempotency_key)
    WHERE idempotency_key IS NOT NULL AND status IN {OPEN_SQL};
-- Sweeps touch only open records, however many closed ones accumulate.
CREATE INDEX IF NOT EXISTS confirmations_open_expiry
    ON confirmations (expires_at) WHERE status IN {OPEN_SQL};
CREATE INDEX IF NOT EXISTS confirmations_by_conversation
    ON confirmations (conversation_id, created_at);
CREATE INDEX IF NOT EXISTS confirmations_purge
    ON confirmations (updated_at) WHERE status IN {TERMINAL_SQL};
-- Runs whose outcome is not recorded: what start-up recovery and operators look at.
CREATE INDEX IF NOT EXISTS confirmations_unsettled
    ON confirmations (status) WHERE status IN ('executing', 'interrupted');
CREATE TABLE IF NOT EXISTS confirmation_history (
    seq              INTEGER PRIMARY KEY,
    confirmation_id  TEXT NOT NULL,
    from_status      TEXT,
    to_status        TEXT NOT NULL,
    actor_user       TEXT,
    actor_channel    TEXT NOT NULL,
    at               INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS confirmation_history_by_id
    ON confirmation_history (confirmation_id, seq);
"""

MIGRATIONS: dict[int, tuple[str, ...]] = {
    # 1 → 2: claims record their runner; unsettled runs get an index.
    1: (
        "ALTER TABLE confirmations ADD COLUMN runner TEXT",
        "CREATE INDEX IF NOT EXISTS confirmations_unsettled"
        " ON confirmations (status) WHERE status IN ('executing', 'interrupted')",
    ),
}
"""The statements that bring a database from each version to the next."""

COLUMNS = (
    "id, token_hash, idempotency_key, conversation_id, user_id, kind, actions, prompt, "
    "created_at, expires_at, status, chosen, decided_user, decided_channel, decided_at, "
    "result, error, updated_at, runner"
)


INSERT = (
    "INSERT INTO confirmations (id, token_hash, idempotency_key, conversation_id, user_id,"
    " kind, actions, prompt, created_at, expires_at, status, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_HISTORY = (
    "INSERT INTO confirmation_history"
    " (confirmation_id, from_status, to_status, actor_user, actor_channel, at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)


def micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


def _moment(value: int | None) -> datetime | None:
    return None if value is None else _EPOCH + value * _MICROSECOND


def to_record(row: tuple[Any, ...]) -> PendingConfirmation:
    (cid, token_hash, key, conversation_id, user_id, kind, actions, prompt, created_at,
     expires_at, status, chosen, decided_user, decided_channel, decided_at, result, error,
     updated_at, runner) = row  # fmt: skip
    return PendingConfirmation(
        id=cid,
        token_hash=token_hash,
        conversation_id=conversation_id,
        user_id=user_id,
        kind=kind,
        actions=tuple(ActionCall.from_json(a) for a in json.loads(actions)),
        prompt=prompt,
        created_at=_EPOCH + created_at * _MICROSECOND,
        expires_at=_EPOCH + expires_at * _MICROSECOND,
        status=Status(status),
        key=key,
        chosen=chosen,
        decided_by=None if decided_channel is None else Actor(decided_user, decided_channel),
        decided_at=_moment(decided_at),
        result=None if result is None else json.loads(result),
        error=error,
        updated_at=_moment(updated_at),
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
        micros(record.created_at),
        micros(record.expires_at),
        record.status.value,
        micros(record.updated_at or record.created_at),
    )


def update_sql(change: Change) -> tuple[str, list[Any]]:
    """The UPDATE statement (without the id) that writes one change."""
    assignments = ["status = ?", "updated_at = ?"]
    values: list[Any] = [change.status.value, micros(change.at)]
    if change.decided:
        assignments += ["decided_user = ?", "decided_channel = ?", "decided_at = ?"]
        values += [change.actor.user_id, change.actor.channel, micros(change.at)]
    if change.chosen is not None:
        assignments.append("chosen = ?")
        values.append(change.chosen)
    if change.result is not None:
        assignments.append("result = ?")
        values.append(canonical_json(dict(change.result)))
    if change.error is not None:
        assignments.append("error = ?")
        values.append(change.error)
    if change.runner is not None:
        assignments.append("runner = ?")
        values.append(change.runner)
    return f"UPDATE confirmations SET {', '.join(assignments)} WHERE id = ?", values


def history_entry(confirmation_id: str, row: tuple[Any, ...]) -> HistoryEntry:
    from_status, to_status, actor_user, actor_channel, at = row
    return HistoryEntry(
        confirmation_id,
        None if from_status is None else Status(from_status),
        Status(to_status),
        Actor(actor_user, actor_channel),
        _EPOCH + at * _MICROSECOND,
    )
