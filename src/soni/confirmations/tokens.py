"""Confirmation tokens: random capabilities of which only a hash is ever stored."""

from __future__ import annotations

import hashlib
import re
import secrets
import time

__all__ = ("TOKEN_BYTES", "hash_token", "is_well_formed", "new_confirmation_id", "new_token")

TOKEN_BYTES = 24
"""192 random bits, 32 URL-safe characters."""

# Accept any URL-safe token of at least 128 bits, so tokens of a future, longer
# format stay valid; reject everything else before touching the store.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{22,128}")


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def is_well_formed(token: object) -> bool:
    return isinstance(token, str) and _TOKEN.fullmatch(token) is not None


def new_confirmation_id() -> str:
    """A 32-hex-digit id that sorts by creation time (the layout of a UUIDv7).

    48 bits of milliseconds, then 80 random bits. Time order keeps the store's
    indexes append-mostly: inserting and sweeping touch few B-tree pages, where
    random ids would touch a different page for nearly every record. An id grants
    nothing — only the token does — so revealing the creation time is harmless.
    """
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(10)}"
