"""The errors of pending confirmations: unknown or expired tokens, decisions
already taken, closed confirmations, refused decisions.
"""

from __future__ import annotations

from collections.abc import Sequence

from soni.errors import SoniError

__all__ = (
    "AlreadyDecided",
    "ConfirmationClosed",
    "ConfirmationError",
    "ConfirmationExpired",
    "ConfirmationNotApproved",
    "InvalidDecision",
    "InvalidDecisionMessage",
    "UnknownConfirmation",
)


class ConfirmationError(SoniError):
    """Base class of errors about pending confirmations."""


class UnknownConfirmation(ConfirmationError, LookupError):
    """The token is malformed or matches no confirmation.

    Deliberately says nothing more: whether a token ever existed is not revealed.
    """

    def __init__(self) -> None:
        super().__init__("unknown or invalid confirmation token")


class ConfirmationExpired(ConfirmationError):
    """The confirmation's time ran out before a decision arrived."""

    def __init__(self, confirmation_id: str, expired_at: object) -> None:
        self.confirmation_id = confirmation_id
        self.expired_at = expired_at
        super().__init__(f"confirmation {confirmation_id} expired at {expired_at}")


class AlreadyDecided(ConfirmationError):
    """A different decision was already recorded; it carries the recorded one.

    Attributes:
        confirmation_id: The confirmation.
        status: Its status now (``approved``, ``executed``, ``skipped``, …).
        decision: The recorded decision: ``"skip"`` or the chosen option's name.
        decided_by: Who decided (an ``Actor``), when known.
        decided_at: When.
    """

    def __init__(
        self,
        confirmation_id: str,
        status: str,
        decision: str | None,
        decided_by: object = None,
        decided_at: object = None,
    ) -> None:
        self.confirmation_id = confirmation_id
        self.status = status
        self.decision = decision
        self.decided_by = decided_by
        self.decided_at = decided_at
        by = f" by {decided_by}" if decided_by is not None else ""
        super().__init__(
            f"confirmation {confirmation_id} was already decided{by}: {decision!r} ({status})"
        )


class ConfirmationClosed(ConfirmationError):
    """The confirmation was withdrawn without a decision: superseded or cancelled."""

    def __init__(self, confirmation_id: str, status: str) -> None:
        self.confirmation_id = confirmation_id
        self.status = status
        reason = {
            "superseded": "was replaced by a newer confirmation",
            "cancelled": "was cancelled with its flow",
        }.get(status, f"is {status}")
        super().__init__(f"confirmation {confirmation_id} {reason}")


class InvalidDecision(ConfirmationError, ValueError):
    """The decision names no offered option, or is not allowed in this state."""

    def __init__(self, message: str, options: Sequence[str] = ()) -> None:
        self.options = tuple(options)
        super().__init__(message)


class InvalidDecisionMessage(ConfirmationError, ValueError):
    """A text is not a decision message (``EXECUTE:<token>``, …)."""


class ConfirmationNotApproved(ConfirmationError):
    """Execution was asked for a confirmation that is not (yet) approved."""

    def __init__(self, confirmation_id: str, status: str) -> None:
        self.confirmation_id = confirmation_id
        self.status = status
        super().__init__(f"confirmation {confirmation_id} is {status}, not approved")
