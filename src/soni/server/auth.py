"""API keys: who is calling, and whether a token alone may decide."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from soni.server.errors import NotAuthenticated

__all__ = ("ANONYMOUS", "Caller", "Keys", "bearer_key")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who makes a request.

    Attributes:
        user_id: The user the API key belongs to; ``None`` without a key.
        checked: Whether the caller has a namespace of its own: API keys are on
            and the caller gave one (``soni.server.namespace``). A caller without
            a key reaches only what a token opens (``decide_by_token_alone``), or
            everything when keys are off.
    """

    user_id: str | None
    checked: bool


ANONYMOUS = Caller(None, False)


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


class Keys:
    """The configured API keys, looked up by digest.

    A dict keyed by the keys themselves would compare the presented key with
    stored ones character by character; comparing digests tells an attacker
    nothing about a real key.
    """

    def __init__(self, keys: Mapping[str, str]) -> None:
        self._users = {_digest(key): user for key, user in keys.items()}

    @property
    def enabled(self) -> bool:
        return bool(self._users)

    def user_of(self, key: str | None) -> str | None:
        """The user (or worker name) ``key`` stands for, or ``None``."""
        return None if key is None or not self._users else self._users.get(_digest(key))

    def caller(self, key: str | None, *, optional: bool = False) -> Caller:
        """The caller a key stands for.

        Args:
            key: The presented key, if any.
            optional: Whether a missing key is allowed (for a route a token opens).

        Raises:
            NotAuthenticated: keys are on and the key is missing (unless
                ``optional``) or unknown.
        """
        if not self._users:
            return ANONYMOUS
        if key is None:
            if optional:
                return ANONYMOUS
            raise NotAuthenticated("this server needs an API key: Authorization: Bearer <key>")
        user = self._users.get(_digest(key))
        if user is None:
            raise NotAuthenticated("unknown API key")
        return Caller(user, True)


def bearer_key(authorization: str | None) -> str | None:
    """The key of an ``Authorization: Bearer <key>`` header, if that is what it is.

    Raises:
        NotAuthenticated: the header is there but is not a bearer credential.
    """
    if authorization is None:
        return None
    scheme, _, credential = authorization.strip().partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential:
        raise NotAuthenticated("the Authorization header must be 'Bearer <key>'")
    return credential
