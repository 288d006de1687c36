"""Confirmation tokens: random capabilities of which only a hash is ever stored."""

from __future__ import annotations

import hashlib
import re
import secrets

__all__ = ("TOKEN_BYTES", "hash_token", "is_well_formed", "new_token")

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
