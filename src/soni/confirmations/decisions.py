"""What a decision means for a given confirmation, and the answer once it is closed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from soni.confirmations.errors import (
    AlreadyDecided,
    ConfirmationClosed,
    ConfirmationExpired,
    InvalidDecision,
)
from soni.confirmations.lifecycle import APPROVE, SKIP, Transition
from soni.confirmations.records import ActionCall, PendingConfirmation, Status, canonical_json

__all__ = ("ActionOffer", "interpret", "offered_calls", "settled")

ActionOffer = ActionCall | tuple[str, Mapping[str, Any]] | tuple[str, Mapping[str, Any], str]
"""An offered action: an ``ActionCall``, ``(name, args)`` or ``(name, args, label)``."""


def _offer(action: ActionOffer) -> ActionCall:
    if isinstance(action, ActionCall):
        return action
    if isinstance(action, tuple) and len(action) in (2, 3):
        name, args = action[0], action[1]
        label = action[2] if len(action) == 3 else None
        if isinstance(name, str) and isinstance(args, Mapping):
            return ActionCall(name, args, label)
    raise TypeError(
        f"an offered action is an ActionCall, (name, args) or (name, args, label); got {action!r}"
    )


def offered_calls(
    actions: Sequence[ActionOffer], kind: Literal["single", "choice"] | None
) -> tuple[tuple[ActionCall, ...], Literal["single", "choice"]]:
    """Validate what a confirmation offers.

    Raises:
        ValueError: no actions, duplicate names, non-JSON arguments, or several
            actions for a ``single`` confirmation.
    """
    calls = tuple(_offer(a) for a in actions)
    if not calls:
        raise ValueError("a confirmation needs at least one action")
    names = [c.key for c in calls]
    reserved = sorted({"approve", "skip"} & set(names))
    if reserved:
        # "approve" and "skip" are decisions; an option with such a name could
        # never be chosen (CHOOSE:<token>:skip would read as skipping).
        raise ValueError(f"{reserved[0]!r} is a decision and cannot name an offered action")
    if len(set(names)) != len(names):
        raise ValueError(
            f"offered actions must have distinct names, got {names}; offers that run "
            "one action each need their own 'option' name"
        )
    if kind is None:
        kind = "single" if len(calls) == 1 else "choice"
    elif kind == "single" and len(calls) != 1:
        raise ValueError(f"a single confirmation offers one action, got {len(calls)}")
    for call in calls:
        try:
            canonical_json(dict(call.args))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"arguments of action {call.name!r} are not JSON: {exc}") from exc
    return calls, kind


def interpret(record: PendingConfirmation, decision: str) -> tuple[Transition, str | None]:
    """The transition a decision makes (``APPROVE`` or ``SKIP``), and the chosen option.

    Raises:
        InvalidDecision: the decision names no offered option, or approves a choice
            of several without naming one.
    """
    if decision == "skip":
        return SKIP, None
    if decision == "approve":
        if len(record.actions) == 1:
            return APPROVE, record.actions[0].key
        raise InvalidDecision(
            "this confirmation offers several actions; choose one of "
            + ", ".join(repr(o) for o in record.options),
            record.options,
        )
    if decision in record.options:
        return APPROVE, decision
    raise InvalidDecision(
        f"{decision!r} is not an offered option; choose one of "
        + ", ".join(repr(o) for o in record.options)
        + ", or 'skip'",
        record.options,
    )


def settled(
    record: PendingConfirmation, decided_by: Transition, chosen: str | None
) -> PendingConfirmation:
    """The answer for a decision (``decided_by``: ``APPROVE`` or ``SKIP``, with its
    ``chosen`` option) that found the confirmation no longer open.

    Returns the record when the decision repeats the recorded one.

    Raises:
        ConfirmationExpired: it expired.
        ConfirmationClosed: it was superseded or cancelled.
        AlreadyDecided: a different decision was recorded.
    """
    if record.status is Status.EXPIRED:
        raise ConfirmationExpired(record.id, record.expires_at)
    if record.status in (Status.SUPERSEDED, Status.CANCELLED):
        raise ConfirmationClosed(record.id, record.status.value)
    if decided_by is SKIP:
        same = record.status is Status.SKIPPED
    else:
        same = record.status is not Status.SKIPPED and record.chosen == chosen
    if same:
        return record
    raise AlreadyDecided(
        record.id, record.status.value, record.decision, record.decided_by, record.decided_at
    )
