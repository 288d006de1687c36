"""The errors of the session registry."""

from __future__ import annotations

from soni.errors import SoniError

__all__ = ("SessionCommandError",)


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
