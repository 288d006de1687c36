"""Pending confirmations as immutable records.

A record is what a store keeps; it never holds the token itself, only its hash.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Literal

__all__ = (
    "OPEN",
    "SYSTEM",
    "TERMINAL",
    "ActionCall",
    "Actor",
    "Expired",
    "HistoryEntry",
    "PendingConfirmation",
    "Status",
    "canonical_json",
)


class Status(StrEnum):
    """Where a confirmation is in its life, as ``lifecycle.TRANSITIONS`` moves it (the
    same drawing is in docs/confirmations.md)::

             register
                │
                ▼
            ┌────────┐  SHOWN   ┌───────┐
            │pending │ ───────► │ shown │
            └────────┘          └───────┘
                │  │               │  │
    approve /   │  └──────┬────────┘  │
    choose      ▼         ▼           ▼
           ┌─────────┐  skipped · expired · superseded · cancelled   (closed, no action)
           │approved │
           └─────────┘
                │ begin_execution (exactly once)
                ▼
           ┌──────────┐  record_result
           │executing │ ──────────────► executed | failed
           └──────────┘
                │ its runner died (or its task ended) before recording the outcome
                ▼
           ┌───────────┐  resolve (a reconcile check, an operator)
           │interrupted│ ─────────────────────────────────────────► executed | failed
           └───────────┘  retry_execution (the action did not happen, or is
                          idempotent) ─► executing
    """

    PENDING = "pending"
    SHOWN = "shown"
    APPROVED = "approved"
    EXECUTING = "executing"
    EXECUTED = "executed"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    SKIPPED = "skipped"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"
    CANCELLED = "cancelled"


OPEN: frozenset[Status] = frozenset({Status.PENDING, Status.SHOWN})
"""Statuses that still wait for a decision."""

TERMINAL: frozenset[Status] = frozenset(
    {
        Status.EXECUTED,
        Status.FAILED,
        Status.SKIPPED,
        Status.EXPIRED,
        Status.SUPERSEDED,
        Status.CANCELLED,
    }
)
"""Statuses a confirmation never leaves.

``interrupted`` is not among them: its outcome may still be learned (and it is never
purged until it is).
"""


def canonical_json(value: Any) -> str:
    """One spelling per value: sorted keys, no spaces, no NaN.

    Raises:
        TypeError: the value is not JSON-serialisable.
        ValueError: it contains NaN or infinity.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping if isinstance(mapping, MappingProxyType) else MappingProxyType(dict(mapping))


@dataclass(frozen=True, slots=True)
class ActionCall:
    """One action a confirmation offers: a name, its arguments and an optional label.

    ``option`` names the offer when several run the same action with different
    arguments (one per item of a list: ``book_time.1``, ``book_time.2``); a decision
    chooses it by that name. Without it the offer is named by its action.
    """

    name: str
    args: Mapping[str, Any] = field(default_factory=dict)
    label: str | None = None
    option: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "args", _frozen(self.args))

    @property
    def key(self) -> str:
        """What a decision names to choose this offer: ``option``, else the action."""
        return self.option or self.name

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "args": dict(self.args)}
        if self.label is not None:
            data["label"] = self.label
        if self.option is not None:
            data["option"] = self.option
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ActionCall:
        return cls(
            name=data["name"],
            args=data.get("args") or {},
            label=data.get("label"),
            option=data.get("option"),
        )


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a transition: a user (or ``None`` for soni itself) and a channel.

    Channels in use: ``chat``, ``http``, ``ws``, ``cli``, ``api``, ``system``.
    """

    user_id: str | None
    channel: str = "api"

    def __str__(self) -> str:
        return f"{self.user_id or '-'} via {self.channel}"


SYSTEM = Actor(None, "system")


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One transition in a confirmation's audit trail. ``from_status`` is ``None`` at creation."""

    confirmation_id: str
    from_status: Status | None
    to_status: Status
    actor: Actor
    at: datetime


@dataclass(frozen=True, slots=True)
class Expired:
    """A confirmation that a sweep just expired: enough to tell who was waiting.

    Sweeps may expire a great many records at once, so stores report them in this
    slim form instead of reading every full record back.
    """

    id: str
    conversation_id: str
    user_id: str | None
    from_status: Status


@dataclass(frozen=True, slots=True)
class PendingConfirmation:
    """A confirmation as the store records it.

    Attributes:
        id: A random identifier, safe to log and show (it grants nothing).
        token_hash: SHA-256 of the token, hex. The token itself is never stored.
        conversation_id: The conversation that waits.
        user_id: The user who is asked.
        kind: ``single`` (approve or skip one action) or ``choice`` (pick one of several).
        actions: The offered calls.
        prompt: The question shown to the user.
        created_at: When it was registered.
        expires_at: When it expires unless decided.
        status: Where it is in its life.
        key: The idempotency key it was registered with (one step of one conversation).
        chosen: The name of the approved offer (:attr:`ActionCall.key`), once approved.
        decided_by: Who decided (approve, skip, or the system for expiry/supersede/cancel).
        decided_at: When.
        result: The action's normalised result, once executed.
        error: The action's error, once failed.
        updated_at: Time of the last transition.
        runner: The ``Runner`` that claimed the run (``executing``), so that a run
            whose runner died is told from one still in progress.
    """

    id: str
    token_hash: str
    conversation_id: str
    user_id: str | None
    kind: Literal["single", "choice"]
    actions: tuple[ActionCall, ...]
    prompt: str
    created_at: datetime
    expires_at: datetime
    status: Status = Status.PENDING
    key: str | None = None
    chosen: str | None = None
    decided_by: Actor | None = None
    decided_at: datetime | None = None
    result: Mapping[str, Any] | None = None
    error: str | None = None
    updated_at: datetime | None = None
    runner: str | None = None

    @property
    def options(self) -> tuple[str, ...]:
        """The names of the offers, in order: each action's name, or the option's own
        name where several run one action (:attr:`ActionCall.key`)."""
        return tuple(call.key for call in self.actions)

    def option_named(self, text: str) -> str | None:
        """The offer ``text`` names, as written: its name, else its label."""
        if text in self.options:
            return text
        return next((call.key for call in self.actions if call.label == text), None)

    @property
    def is_open(self) -> bool:
        """Still waiting for a decision."""
        return self.status in OPEN

    @property
    def chosen_action(self) -> ActionCall | None:
        """The approved call, once a decision approved one."""
        for call in self.actions:
            if call.key == self.chosen:
                return call
        return None

    @property
    def decision(self) -> str | None:
        """The recorded decision: ``"skip"``, the chosen option, or ``None`` if undecided."""
        if self.status is Status.SKIPPED:
            return "skip"
        return self.chosen

    def actions_json(self) -> str:
        return canonical_json([call.to_json() for call in self.actions])
