"""The soni error hierarchy.

Errors are grouped by audience: the bot author gets configuration errors that name
the file and line; the runtime raises errors that carry the offending name, token
or cause as attributes so callers can react without parsing messages.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = (
    "ActionArgumentError",
    "ActionError",
    "ActionFailed",
    "ActionLoadError",
    "ActionNotFound",
    "ActionRegistrationError",
    "ActionTimeout",
    "AlreadyDecided",
    "ConfirmationClosed",
    "ConfirmationError",
    "ConfirmationExpired",
    "ConfirmationNotApproved",
    "InvalidDecision",
    "InvalidDecisionMessage",
    "SoniError",
    "StoreClosed",
    "UnknownConfirmation",
)


class SoniError(Exception):
    """Base class of every error soni raises on purpose."""


class ActionError(SoniError):
    """Base class of errors about actions: registering, loading, finding or running them."""


class ActionRegistrationError(ActionError):
    """An action could not be registered: bad name, bad handler, or a refused overwrite."""

    def __init__(self, action: object, reason: str) -> None:
        self.action = action
        self.reason = reason
        super().__init__(f"cannot register action {action!r}: {reason}")


class ActionNotFound(ActionError, LookupError):
    """No handler is registered under the name, locally or globally."""

    def __init__(self, name: str, suggestions: Sequence[str] = ()) -> None:
        self.name = name
        self.suggestions = tuple(suggestions)
        hint = ""
        if self.suggestions:
            hint = " (did you mean " + ", ".join(repr(s) for s in self.suggestions) + "?)"
        super().__init__(f"unknown action {name!r}{hint}")


class ActionArgumentError(ActionError):
    """The handler needs slots that have no value."""

    def __init__(self, action: str, missing: Sequence[str]) -> None:
        self.action = action
        self.missing = tuple(missing)
        names = ", ".join(repr(m) for m in self.missing)
        super().__init__(f"action {action!r} needs slot(s) {names}, which have no value")


class ActionFailed(ActionError):
    """The handler raised. The original exception is ``cause`` (and ``__cause__``)."""

    def __init__(
        self, action: str, cause: BaseException | None, message: str | None = None
    ) -> None:
        self.action = action
        self.cause = cause
        if message is None:
            message = f"action {action!r} failed: {type(cause).__name__}: {cause}"
        super().__init__(message)


class ActionTimeout(ActionFailed):
    """The handler did not finish within its timeout.

    A synchronous handler cannot be interrupted: its worker thread runs to completion
    in the background, but its result is discarded.
    """

    def __init__(self, action: str, timeout: float) -> None:
        self.timeout = timeout
        super().__init__(action, None, f"action {action!r} timed out after {timeout:g} s")


class ActionLoadError(ActionError):
    """A handler module could not be imported."""

    def __init__(self, target: str, cause: BaseException, file: str | None = None) -> None:
        self.target = target
        self.file = file
        self.cause = cause
        where = file or target
        super().__init__(f"cannot load actions from {where}: {type(cause).__name__}: {cause}")


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


class StoreClosed(SoniError, RuntimeError):
    """A store was used after ``close()``."""


class ConfirmationNotApproved(ConfirmationError):
    """Execution was asked for a confirmation that is not (yet) approved."""

    def __init__(self, confirmation_id: str, status: str) -> None:
        self.confirmation_id = confirmation_id
        self.status = status
        super().__init__(f"confirmation {confirmation_id} is {status}, not approved")
