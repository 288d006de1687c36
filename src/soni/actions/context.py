"""What a handler learns about the call it serves."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

__all__ = ("ActionContext", "ActionSession")

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _new_key() -> str:
    return uuid.uuid4().hex


@runtime_checkable
class ActionSession(Protocol):
    """The session of a command a worker runs (``soni.worker``): a handler talks to the
    server through it while it runs. See docs/workers.md.

    ``send`` a payload (an ``event`` the conversation's subscribers see as
    ``action_progress``, or an ``instruction`` the server answers); ``recv`` the next
    payload the server sends in the session; ``async for`` them.
    """

    session_id: str

    async def send(self, payload: Mapping[str, Any]) -> None: ...

    async def recv(self) -> dict[str, Any]: ...

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]: ...


@dataclass(frozen=True, slots=True, eq=False)
class ActionContext:
    """The call a handler serves.

    A handler receives it by declaring a parameter named ``ctx`` or annotated
    ``ActionContext``.

    Attributes:
        conversation_id: The conversation the action runs for.
        user_id: The user who spoke last, when known.
        flow: The flow whose step called the action.
        step: The step id that called the action.
        idempotency_key: Stable for one logical call. For an approved confirmation it
            is the confirmation's token, so a handler can pass it to an external API
            and a retried call is recognised there. A fresh random key when the
            caller gives none.
        confirmation_token: The token of the confirmation that approved this call.
        logger: A logger to write through; ``soni.actions`` by default.
        extras: Anything else the caller wants to hand over (read-only).
        session: The command's session when a worker runs the handler (progress
            events, questions to the server); ``None`` in the server's own process.
    """

    conversation_id: str = ""
    user_id: str | None = None
    flow: str | None = None
    step: str | None = None
    # Kept out of repr: they identify (or, for the token, grant) a decision.
    idempotency_key: str = field(default_factory=_new_key, repr=False)
    confirmation_token: str | None = field(default=None, repr=False)
    logger: logging.Logger | logging.LoggerAdapter[logging.Logger] = field(
        default_factory=lambda: logging.getLogger("soni.actions"), repr=False, compare=False
    )
    extras: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    session: ActionSession | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        # A caller's dict must not be changed behind the handler's back, nor by it;
        # a read-only view of the caller's dict would still show their changes.
        object.__setattr__(self, "extras", MappingProxyType(dict(self.extras)))
