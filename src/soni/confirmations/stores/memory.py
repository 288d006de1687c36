"""Confirmations in process memory: for tests and single-process experiments."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Collection
from datetime import datetime

from soni.confirmations.lifecycle import EXPIRE
from soni.confirmations.records import (
    OPEN,
    SYSTEM,
    TERMINAL,
    Actor,
    Expired,
    HistoryEntry,
    PendingConfirmation,
    Status,
)
from soni.confirmations.stores.base import Change
from soni.errors import StoreClosed

__all__ = ("MemoryConfirmationStore", "apply_change")


def apply_change(record: PendingConfirmation, change: Change) -> PendingConfirmation:
    """The record after ``change`` (shared by stores that update in Python)."""
    updates: dict[str, object] = {"status": change.status, "updated_at": change.at}
    if change.decided:
        updates["decided_by"] = change.actor
        updates["decided_at"] = change.at
    if change.chosen is not None:
        updates["chosen"] = change.chosen
    if change.result is not None:
        updates["result"] = change.result
    if change.error is not None:
        updates["error"] = change.error
    if change.runner is not None:
        updates["runner"] = change.runner
    return dataclasses.replace(record, **updates)  # type: ignore[arg-type]


class MemoryConfirmationStore:
    """A ``ConfirmationStore`` in a dict. Safe across threads and event loops of one process.

    Every operation runs under one ``threading.Lock`` and never awaits while
    holding it, which makes each of them atomic.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, PendingConfirmation] = {}
        self._by_hash: dict[str, str] = {}
        self._open_by_key: dict[str, str] = {}
        self._history: dict[str, list[HistoryEntry]] = {}
        self._closed = False

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosed("MemoryConfirmationStore is closed")

    async def insert(self, record: PendingConfirmation) -> bool:
        self._check_open()
        with self._lock:
            if record.key is not None and record.key in self._open_by_key:
                return False
            if record.id in self._records or record.token_hash in self._by_hash:
                raise ValueError(f"confirmation {record.id} already exists")
            self._records[record.id] = record
            self._by_hash[record.token_hash] = record.id
            if record.key is not None:
                self._open_by_key[record.key] = record.id
            entry = HistoryEntry(record.id, None, record.status, SYSTEM, record.created_at)
            self._history[record.id] = [entry]
            return True

    async def get(self, confirmation_id: str) -> PendingConfirmation | None:
        self._check_open()
        return self._records.get(confirmation_id)

    async def find_by_token_hash(self, token_hash: str) -> PendingConfirmation | None:
        self._check_open()
        with self._lock:
            confirmation_id = self._by_hash.get(token_hash)
            return None if confirmation_id is None else self._records[confirmation_id]

    async def find_open_by_key(self, key: str) -> PendingConfirmation | None:
        self._check_open()
        with self._lock:
            confirmation_id = self._open_by_key.get(key)
            return None if confirmation_id is None else self._records[confirmation_id]

    async def transition(
        self,
        confirmation_id: str,
        change: Change,
        *,
        unexpired: bool = False,
        expired: bool = False,
        claimed_by: str | None = None,
    ) -> tuple[PendingConfirmation, Status] | None:
        self._check_open()
        with self._lock:
            record = self._records.get(confirmation_id)
            if record is None or record.status not in change.expected:
                return None
            if claimed_by is not None and (record.runner or "") != claimed_by:
                return None
            if unexpired and record.expires_at <= change.at:
                return None
            if expired and record.expires_at > change.at:
                return None
            return self._apply(record, change), record.status

    def _apply(self, record: PendingConfirmation, change: Change) -> PendingConfirmation:
        # Caller holds the lock.
        updated = record
        for step in change.chain():
            before, updated = updated, apply_change(updated, step)
            self._history[record.id].append(
                HistoryEntry(record.id, before.status, updated.status, step.actor, step.at)
            )
        self._records[record.id] = updated
        if record.key is not None and updated.status not in OPEN:
            self._open_by_key.pop(record.key, None)
        return updated

    async def expire_due(
        self, now: datetime, actor: Actor, limit: int | None = None
    ) -> list[Expired]:
        self._check_open()
        change = Change(EXPIRE, now, actor)
        with self._lock:
            due = [r for r in self._records.values() if r.status in OPEN and r.expires_at <= now]
            due.sort(key=lambda r: r.expires_at)
            expired = []
            for record in due[:limit]:
                self._apply(record, change)
                expired.append(
                    Expired(record.id, record.conversation_id, record.user_id, record.status)
                )
            return expired

    async def purge(self, before: datetime) -> int:
        self._check_open()
        with self._lock:
            old = [
                r
                for r in self._records.values()
                if r.status in TERMINAL and (r.updated_at or r.created_at) < before
            ]
            for record in old:
                del self._records[record.id]
                del self._by_hash[record.token_hash]
                del self._history[record.id]
            return len(old)

    async def query(
        self,
        *,
        conversation_id: str | None = None,
        user_id: str | None = None,
        statuses: Collection[Status] | None = None,
        limit: int | None = None,
        conversation_prefix: str | None = None,
        newest_first: bool = False,
        changed_first: bool = False,
    ) -> list[PendingConfirmation]:
        self._check_open()
        with self._lock:
            records = list(self._records.values())
        found = [
            r
            for r in records
            if (conversation_id is None or r.conversation_id == conversation_id)
            and (user_id is None or r.user_id == user_id)
            and (statuses is None or r.status in statuses)
            and (conversation_prefix is None or r.conversation_id.startswith(conversation_prefix))
        ]
        if changed_first:
            found.sort(key=lambda r: (r.updated_at or r.created_at, r.id), reverse=True)
        else:
            found.sort(key=lambda r: (r.created_at, r.id), reverse=newest_first)
        return found if limit is None else found[:limit]

    async def history(self, confirmation_id: str) -> list[HistoryEntry]:
        self._check_open()
        with self._lock:
            return list(self._history.get(confirmation_id, ()))

    async def close(self) -> None:
        self._closed = True
