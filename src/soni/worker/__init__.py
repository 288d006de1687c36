"""Action workers: a process that serves its action handlers to a soni server over
the WebSocket protocol (docs/workers.md). A worker runs no bot: it imports only
the action layer and what both ends of the protocol share (``soni.remote``).
"""

from soni.worker.errors import (
    AnnounceRefused,
    WorkerError,
    WorkerStartTimeout,
    WorkerUnauthorized,
)
from soni.worker.worker import Announced, Backoff, Worker

__all__ = (
    "AnnounceRefused",
    "Announced",
    "Backoff",
    "Worker",
    "WorkerError",
    "WorkerStartTimeout",
    "WorkerUnauthorized",
)
