"""The errors of the action layer: registering, finding, loading and running
handlers and slot validators.
"""

from __future__ import annotations

from collections.abc import Sequence

from soni.errors import SoniError, format_location, suggesting

__all__ = (
    "ActionArgumentError",
    "ActionError",
    "ActionFailed",
    "ActionLoadError",
    "ActionNotFound",
    "ActionRegistrationError",
    "ActionTimeout",
    "ValidatorNotFound",
    "ValidatorRegistrationError",
)


class ActionError(SoniError):
    """Base class of errors about actions: registering, loading, finding or running them."""


class ActionRegistrationError(ActionError):
    """An action could not be registered: bad name, bad handler, or a refused overwrite."""

    def __init__(self, action: object, reason: str) -> None:
        self.action = action
        self.reason = reason
        super().__init__(f"cannot register action {action!r}: {reason}")


class ActionNotFound(ActionError, LookupError):
    """No handler is registered under the name, locally or globally, and no action
    worker announced it (``detail`` then says what the connected workers offer)."""

    def __init__(
        self, name: str, suggestions: Sequence[str] = (), detail: str | None = None
    ) -> None:
        self.name = name
        self.suggestions = tuple(suggestions)
        self.detail = detail
        hint = suggesting(self.suggestions)
        super().__init__(f"unknown action {name!r}{hint}" + (f" ({detail})" if detail else ""))

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.name, self.suggestions, self.detail))


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
        hint = suggesting(self.suggestions)
        super().__init__(f"unknown validator {name!r}{hint}")
