"""Confirmation tokens: capabilities derived from a record's id under a secret.

A token is an HMAC of the confirmation's id under the deployment's secret, so any
process holding that secret can show an open confirmation's token again — after a
restart, or on another worker sharing the database. The store keeps only the
token's SHA-256: a copy of the database without the secret decides nothing.

An id made under a secret ends in a tag (another HMAC, of the rest of the id), so
whoever holds only an id can still tell whether its token is theirs to derive.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time

__all__ = (
    "SECRET_BYTES",
    "TOKEN_BYTES",
    "derive_token",
    "hash_token",
    "is_well_formed",
    "made_under",
    "new_confirmation_id",
    "new_secret",
    "new_token",
)

TOKEN_BYTES = 24
"""192 bits, 32 URL-safe characters."""

SECRET_BYTES = 32
"""The least a secret may hold: as many bytes as HMAC-SHA256's output."""

# Binds the HMAC to this one use: the same secret may key other things one day
# without any of them producing a confirmation token.
_TOKEN_DOMAIN = b"soni/confirmation-token/v1\x00"
_ID_DOMAIN = b"soni/confirmation-id/v1\x00"

_TAG_DIGITS = 8
"""32 bits: one id in four billion passes for another secret's."""

# Accept any URL-safe token of at least 128 bits, so tokens of a future, longer
# format stay valid; reject everything else before touching the store.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{22,128}")


def derive_token(secret: bytes, confirmation_id: str) -> str:
    """The token of ``confirmation_id`` under ``secret``.

    HMAC-SHA256 over the id (domain-separated), cut to ``TOKEN_BYTES`` and written in
    URL-safe base64 without padding. Cutting an HMAC keeps it a PRF; 192 bits
    leave the token unguessable, and 32 characters fit the decision messages.
    """
    digest = hmac.digest(secret, _TOKEN_DOMAIN + confirmation_id.encode("utf-8"), "sha256")
    return base64.urlsafe_b64encode(digest[:TOKEN_BYTES]).decode("ascii")


def new_secret() -> bytes:
    """A random secret, for a registry whose tokens no other process needs to derive."""
    return secrets.token_bytes(SECRET_BYTES)


def new_token() -> str:
    """A random well-formed token that belongs to no confirmation (benchmarks, tests)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def is_well_formed(token: object) -> bool:
    return isinstance(token, str) and _TOKEN.fullmatch(token) is not None


def new_confirmation_id(secret: bytes | None = None) -> str:
    """A 32-hex-digit id that sorts by creation time (the layout of a UUIDv7).

    48 bits of milliseconds, then 80 bits: random ones, or, under ``secret``, 48
    random bits and a 32-bit tag that ``made_under`` checks. Time order keeps the
    store's indexes append-mostly: inserting and sweeping touch few B-tree pages,
    where random ids would touch a different page for nearly every record. An id
    grants nothing — only the token does — so revealing the creation time is
    harmless, and the tag tells nothing about the token (another domain).
    """
    stem = f"{time.time_ns() // 1_000_000:012x}"
    if secret is None:
        return stem + secrets.token_hex(10)
    stem += secrets.token_hex(6)
    return stem + _tag(secret, stem)


def made_under(secret: bytes, confirmation_id: str) -> bool:
    """Whether ``new_confirmation_id(secret)`` made this id (up to one chance in 2**32)."""
    stem, tag = confirmation_id[:-_TAG_DIGITS], confirmation_id[-_TAG_DIGITS:]
    return len(confirmation_id) == 32 and hmac.compare_digest(_tag(secret, stem), tag)


def _tag(secret: bytes, stem: str) -> str:
    return hmac.digest(secret, _ID_DOMAIN + stem.encode("utf-8"), "sha256").hex()[:_TAG_DIGITS]
