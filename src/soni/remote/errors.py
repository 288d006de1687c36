"""The errors of ``soni.remote``: commands that got no answer, frames that cannot be
read, sessions that ended, and an event-loop thread used the wrong way.
"""

from __future__ import annotations

from soni.errors import SoniError

__all__ = (
    "CommandTimeout",
    "DuplicateCommand",
    "FrameError",
    "LoopError",
    "RemoteError",
    "SessionClosed",
)


class RemoteError(SoniError):
    """Base class of the errors of the remote protocol (``soni.remote``)."""


class CommandTimeout(RemoteError, TimeoutError):
    """No response came for a command within its timeout.

    The command may still run on the other side; a late response is ignored.

    Attributes:
        command_id: The command's id (the session it was sent in).
        timeout: The seconds waited, or ``None`` when it was never given one and an
            owner timed it out (``cleanup_expired`` with an earlier ``now``).
    """

    def __init__(self, command_id: str, timeout: float | None) -> None:
        self.command_id = command_id
        self.timeout = timeout
        within = f" within {timeout:g} s" if timeout is not None else ""
        super().__init__(f"no response to command {command_id!r}{within}")


class DuplicateCommand(RemoteError, ValueError):
    """A command id is registered while another command with that id still waits.

    Attributes:
        command_id: The id given twice.
    """

    def __init__(self, command_id: str) -> None:
        self.command_id = command_id
        super().__init__(f"command {command_id!r} is already waiting for its response")


class FrameError(RemoteError, ValueError):
    """A frame that is not an envelope of the protocol (docs/websocket.md#frames).

    Attributes:
        session_id: The session the frame names, when it can be read; an answer
            goes there (``None``: the frame is refused whole).
        detail: What is wrong with it.
    """

    def __init__(self, detail: str, session_id: str | None = None) -> None:
        self.session_id = session_id
        self.detail = detail
        super().__init__(detail)


class SessionClosed(RemoteError):
    """The session ended: its handler finished, or the connection closed.

    Attributes:
        session_id: The session.
    """

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        super().__init__(f"session {session_id!r} is closed")


class LoopError(RemoteError, RuntimeError):
    """A ``ThreadSafeEventLoop`` was used where it cannot serve: not running, or asked to
    block on its own thread (which would wait for itself forever)."""
