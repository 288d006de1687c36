"""What both ends of the action-worker protocol share (docs/workers.md): the envelope
of a frame, the routing of one connection's frames, the registry where commands
wait for their responses, and an event loop on a thread of its own.

It imports nothing of soni but its errors, so the server and a worker — which
runs no bot — build on the same pieces.
"""

from soni.remote.adaptor import EventHandler, InstructionHandler, MessageAdaptor
from soni.remote.errors import (
    CommandTimeout,
    DuplicateCommand,
    FrameError,
    LoopError,
    RemoteError,
    SessionClosed,
)
from soni.remote.frames import Frame, decode, encode, problem
from soni.remote.loop import ThreadSafeEventLoop
from soni.remote.responses import PendingCommand, ResponseRegistry
from soni.remote.session import RemoteSession

__all__ = (
    "CommandTimeout",
    "DuplicateCommand",
    "EventHandler",
    "Frame",
    "FrameError",
    "InstructionHandler",
    "LoopError",
    "MessageAdaptor",
    "PendingCommand",
    "RemoteError",
    "RemoteSession",
    "ResponseRegistry",
    "SessionClosed",
    "ThreadSafeEventLoop",
    "decode",
    "encode",
    "problem",
)
