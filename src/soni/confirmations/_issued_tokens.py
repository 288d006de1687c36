"""The tokens a registry issued, kept in memory so a re-registration can hand one back."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime

__all__ = ("IssuedTokens",)


class IssuedTokens:
    """Tokens of the open confirmations this process issued, by confirmation id.

    Never persisted: the store keeps only their hashes, so after a restart a
    token is unknown here and re-registering its key issues a fresh one.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[str, datetime]] = {}

    def remember(self, confirmation_id: str, token: str, expires_at: datetime) -> None:
        with self._lock:
            self._tokens[confirmation_id] = (token, expires_at)

    def get(self, confirmation_id: str) -> str | None:
        with self._lock:
            known = self._tokens.get(confirmation_id)
        return None if known is None else known[0]

    def forget(self, confirmation_id: str) -> None:
        with self._lock:
            self._tokens.pop(confirmation_id, None)

    def forget_all(self, confirmation_ids: Iterable[str]) -> None:
        with self._lock:
            for confirmation_id in confirmation_ids:
                self._tokens.pop(confirmation_id, None)

    def forget_expired(self, now: datetime) -> None:
        with self._lock:
            stale = [cid for cid, (_, expires_at) in self._tokens.items() if expires_at <= now]
            for cid in stale:
                del self._tokens[cid]
