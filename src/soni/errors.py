"""The soni error hierarchy.

Errors are grouped by audience: the bot author gets configuration errors that name
the file and line; the runtime raises errors that carry the offending name, token
or cause as attributes so callers can react without parsing messages.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = (
    "ActionArgumentError",
    "ActionError",
    "ActionFailed",
    "ActionLoadError",
    "ActionNotFound",
    "ActionRegistrationError",
    "ActionTimeout",
    "AlreadyDecided",
    "ClientError",
    "ConfigError",
    "ConfigErrors",
    "ConfirmationClosed",
    "ConfirmationError",
    "ConfirmationExpired",
    "ConfirmationNotApproved",
    "Conflict",
    "ConnectFailed",
    "ConnectionClosed",
    "ConversationBusy",
    "ExpressionError",
    "Gone",
    "InvalidDecision",
    "InvalidDecisionMessage",
    "InvalidRequest",
    "NluSettingsError",
    "NotFound",
    "PatternError",
    "ProtocolError",
    "RequestTimeout",
    "SchemaTooNew",
    "SessionCommandError",
    "SlotValueError",
    "SoniError",
    "StoreClosed",
    "StructuredMessageError",
    "TemplateError",
    "Unauthorized",
    "UnknownConfirmation",
    "ValidatorNotFound",
    "ValidatorRegistrationError",
    "did_you_mean",
    "format_location",
)


class SoniError(Exception):
    """Base class of every error soni raises on purpose."""


def did_you_mean(
    word: str, candidates: Iterable[str], *, limit: int = 1, cutoff: float = 0.6
) -> str:
    """`` (did you mean 'x'?)`` for the candidates closest to ``word``, or ``""``.

    The end of every message about a misspelt name: ``unknown flow 'tranfer' (did you
    mean 'transfer'?)``. Up to ``limit`` candidates are named, best first; ``cutoff``
    is how alike (0 to 1, as :func:`difflib.get_close_matches` measures) one must be.
    """
    return _suggesting(difflib.get_close_matches(word, list(candidates), n=limit, cutoff=cutoff))


def format_location(path: str, line: int | None = None, column: int | None = None) -> str:
    """``path:line:col``, ``path:line`` or ``path``, as far as known.

    The compiler convention, so editors and terminals can jump to the place: every
    error, warning and source location in a bot file is written this way.
    """
    if line is None:
        return path
    if column is None:
        return f"{path}:{line}"
    return f"{path}:{line}:{column}"


def _suggesting(suggestions: Sequence[str]) -> str:
    if not suggestions:
        return ""
    return " (did you mean " + ", ".join(repr(s) for s in suggestions) + "?)"


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
        hint = _suggesting(self.suggestions)
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
    """A handler module could not be imported.

    Attributes:
        target: The module as it was asked for (a file, folder or dotted name).
        cause: What the import raised.
        path: The file of the user code that raised, when known.
        line: Its line, when known.
    """

    def __init__(
        self,
        target: str,
        cause: BaseException,
        path: str | None = None,
        line: int | None = None,
    ) -> None:
        self.target = target
        self.cause = cause
        self.path = path
        self.line = line
        where = self.file or target
        super().__init__(f"cannot load actions from {where}: {type(cause).__name__}: {cause}")

    @property
    def file(self) -> str | None:
        """``path:line`` (or the path alone) of the user code that raised."""
        if self.path is None:
            return None
        return format_location(self.path, self.line)


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


class ConversationBusy(SoniError):
    """A turn of the conversation could not start in time: another one runs (and this
    one would not wait, or waited too long), or — with ``reason`` — the process had
    no room for it (every database connection for turns in use)."""

    def __init__(self, conversation_id: str, reason: str | None = None) -> None:
        self.conversation_id = conversation_id
        self.reason = reason
        why = reason or "is processing another message"
        super().__init__(f"conversation {conversation_id!r} {why}; retry later")


class SchemaTooNew(SoniError, RuntimeError):
    """The database was written by a newer soni: this one will not touch it."""


class StoreClosed(SoniError, RuntimeError):
    """A store was used after ``close()``."""


class ConfirmationNotApproved(ConfirmationError):
    """Execution was asked for a confirmation that is not (yet) approved."""

    def __init__(self, confirmation_id: str, status: str) -> None:
        self.confirmation_id = confirmation_id
        self.status = status
        super().__init__(f"confirmation {confirmation_id} is {status}, not approved")


class StructuredMessageError(SoniError, ValueError):
    """A message that starts like a structured command (``/...``) is malformed."""


def _excerpt(text: str, limit: int = 80) -> str:
    """``text`` quoted for a message, shortened when long (the full text stays an attribute)."""
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


class ExpressionError(SoniError, ValueError):
    """An expression is malformed, or an operation in it failed while it was evaluated.

    Attributes:
        text: The expression's source.
        position: 0-based offset in ``text`` of the offending token or operator.
        message: What is wrong, without the location.
    """

    def __init__(self, text: str, position: int, message: str) -> None:
        self.text = text
        self.position = position
        self.message = message
        super().__init__(f"{message} at position {position} in expression {_excerpt(text)}")


class TemplateError(SoniError, ValueError):
    """A message template has a malformed placeholder or an unescaped brace.

    Attributes:
        text: The template's source.
        position: 0-based offset in ``text`` of the offending brace.
        message: What is wrong, without the location.
    """

    def __init__(self, text: str, position: int, message: str) -> None:
        self.text = text
        self.position = position
        self.message = message
        super().__init__(f"{message} at position {position} in template {_excerpt(text)}")


class PatternError(SoniError, ValueError):
    """A ``branch`` case pattern is malformed (``>`` without a number, ``=x``, ...).

    Attributes:
        pattern: The pattern as written.
        message: What is wrong.
    """

    def __init__(self, pattern: str, message: str) -> None:
        self.pattern = pattern
        self.message = message
        super().__init__(f"invalid case pattern {pattern!r}: {message}")


class ConfigError(SoniError):
    """A mistake in a bot file, for the bot author: where it is and what is wrong.

    ``str()`` is ``path:line:col: message`` (the compiler convention, so editors and
    terminals can jump to it); the line and column are left out when unknown.

    Attributes:
        path: The file (or, for a problem with the bot as a whole, the path given to
            the loader).
        line: 1-based line, or ``None``.
        column: 1-based column, or ``None``.
        message: What is wrong, starting with the element it concerns
            (``flows.transfer.steps[2]: ...``).
    """

    def __init__(self, path: str, line: int | None, column: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.message = message
        super().__init__(f"{self.location}: {message}")

    @property
    def location(self) -> str:
        """``path:line:col``, ``path:line`` or ``path``, as far as known."""
        return format_location(self.path, self.line, self.column)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.path, self.line, self.column, self.message))


class ConfigErrors(SoniError):
    """Every mistake found in a bot, raised together so the author can fix them at once.

    Attributes:
        errors: The individual errors, ordered by file, line and column.
    """

    def __init__(self, errors: Sequence[ConfigError]) -> None:
        self.errors = tuple(errors)
        count = len(self.errors)
        header = f"{count} error{'' if count == 1 else 's'} in the bot configuration:"
        super().__init__("\n".join([header, *(f"  {error}" for error in self.errors)]))

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.errors,))


class SlotValueError(SoniError, ValueError):
    """A value cannot be read as the slot's type (``"abc"`` for an integer slot).

    Attributes:
        slot_kind: The slot's normalised type (``integer``, ``date``, ...).
        value: The rejected value, as given.
        message: Why, in words fit to show the bot author or log.
    """

    def __init__(self, slot_kind: str, value: object, message: str) -> None:
        self.slot_kind = slot_kind
        self.value = value
        self.message = message
        super().__init__(message)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.slot_kind, self.value, self.message))


class ValidatorRegistrationError(SoniError):
    """A slot validator could not be registered: bad name, not callable, bad signature."""

    def __init__(self, validator: object, reason: str) -> None:
        self.validator = validator
        self.reason = reason
        super().__init__(f"cannot register validator {validator!r}: {reason}")


class ValidatorNotFound(SoniError, LookupError):
    """No slot validator is registered under the name."""

    def __init__(self, name: str, suggestions: Sequence[str] = ()) -> None:
        self.name = name
        self.suggestions = tuple(suggestions)
        hint = _suggesting(self.suggestions)
        super().__init__(f"unknown validator {name!r}{hint}")


class NluSettingsError(SoniError, ValueError):
    """A ``settings.nlu`` value the chosen understanding engine cannot use.

    ``str()`` names the setting first (``settings.nlu.timeout: ...``), as a
    ``ConfigError`` message does; the loader, which knows the file, can wrap it in one.

    Attributes:
        key: The setting under ``settings.nlu`` (``timeout``, ``model``, ...).
        message: What is wrong, without the setting's name.
    """

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        self.message = message
        super().__init__(f"settings.nlu.{key}: {message}")

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.key, self.message))


class SessionCommandError(SoniError):
    """The session registry refused a call.

    Raised for wrong arguments (an empty conversation id, a negative pending
    count, ...) or a registry that is not running. A refused call changes nothing;
    the registry keeps serving.

    Attributes:
        command: The command: ``record_turn``, ``publish``, ``remove``, ``get``, ...
        reason: What is wrong, without the command's name.
    """

    def __init__(self, command: str, reason: str) -> None:
        self.command = command
        self.reason = reason
        super().__init__(f"session command {command!r}: {reason}")

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.command, self.reason))


class ClientError(SoniError):
    """Base class of the errors ``soni.client`` raises.

    An error the server answered (``"ok": false``) carries its problem details; an
    error of the connection itself (lost, timed out, refused) has no ``status``.

    Attributes:
        status: The HTTP-style status the server gave (404, 409, ...), or ``None``.
        title: The problem's short title, when the server gave one.
        detail: The problem's explanation, when the server gave one.
        problem: The whole error object as received (empty when there was none), so
            fields this client does not know are not lost.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        title: str | None = None,
        detail: str | None = None,
        problem: Mapping[str, Any] | None = None,
    ) -> None:
        self.status = status
        self.title = title
        self.detail = detail
        self.problem = dict(problem or {})
        super().__init__(message)


class NotFound(ClientError, LookupError):
    """404: no such conversation or confirmation token (or not yours to see)."""


class Conflict(ClientError):
    """409: the confirmation was already decided differently, or the conversation is busy.

    Attributes:
        recorded: The decision recorded first, as the server reported it (``None``
            when it did not say, as for a busy conversation). Who decided and when
            are in ``problem`` when the server sent them.
    """

    def __init__(
        self,
        message: str,
        *,
        recorded: Any = None,
        status: int | None = 409,
        title: str | None = None,
        detail: str | None = None,
        problem: Mapping[str, Any] | None = None,
    ) -> None:
        self.recorded = recorded
        super().__init__(message, status=status, title=title, detail=detail, problem=problem)


class Gone(ClientError):
    """410: the confirmation expired before the decision arrived."""


class InvalidRequest(ClientError, ValueError):
    """422: the server refused the instruction's arguments (or could not read the frame)."""


class Unauthorized(ClientError):
    """401 or 403: the server refused the API key, or none was given where one is needed."""


class ConnectFailed(ClientError):
    """The WebSocket connection could not be opened: refused, timed out or rejected.

    Attributes:
        url: The address tried.
    """

    def __init__(self, url: str, message: str, *, status: int | None = None) -> None:
        self.url = url
        super().__init__(f"cannot connect to {url}: {message}", status=status)


class ConnectionClosed(ClientError):
    """The connection is closed: lost, closed by the server, or closed by ``aclose()``.

    Every request still waiting fails with it, and so does every later one.

    Attributes:
        code: The WebSocket close code, when one was received.
        reason: The close reason the server gave (often empty).
    """

    def __init__(self, message: str, *, code: int | None = None, reason: str = "") -> None:
        self.code = code
        self.reason = reason
        super().__init__(message)


class RequestTimeout(ClientError, TimeoutError):
    """The server did not answer an instruction in time.

    The instruction may still take effect on the server; a late answer is dropped.

    Attributes:
        instruction: The instruction's name (``message``, ``decide``, ...).
        timeout: The time waited, in seconds.
    """

    def __init__(self, instruction: str, timeout: float) -> None:
        self.instruction = instruction
        self.timeout = timeout
        super().__init__(f"no answer to {instruction!r} within {timeout:g} s")


class ProtocolError(ClientError):
    """The server's answer does not follow the protocol (a field missing or mistyped)."""
