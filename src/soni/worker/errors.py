"""The errors of ``soni.worker``: a worker the server will not take, or one that
never got going."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from soni.errors import SoniError

__all__ = ("AnnounceRefused", "WorkerError", "WorkerStartTimeout", "WorkerUnauthorized")


class WorkerError(SoniError):
    """Base class of the errors ``soni.worker`` raises (and of a worker used wrongly)."""


class WorkerUnauthorized(WorkerError):
    """The server refused the worker key: HTTP 401/403 at the handshake, or 403 to
    ``announce`` (a chat key). Not retried: the same key would be refused again.

    Attributes:
        url: The server's address.
        status: 401 or 403.
    """

    def __init__(self, url: str, status: int, detail: str) -> None:
        self.url = url
        self.status = status
        super().__init__(f"{url} refused the worker (HTTP {status}): {detail}")


class AnnounceRefused(WorkerError):
    """The server refused the worker's ``announce`` (an action name or entry it does
    not take). Not retried: the same actions would be refused again.

    Attributes:
        problem: The error object the server answered with.
    """

    def __init__(self, problem: Mapping[str, Any]) -> None:
        self.problem = dict(problem)
        status = self.problem.get("status")
        detail = self.problem.get("detail") or self.problem.get("title") or "no reason given"
        super().__init__(f"the server refused the worker's actions ({status}): {detail}")


class WorkerStartTimeout(WorkerError, TimeoutError):
    """``start()`` gave up: the worker had not connected and announced within its timeout.

    Attributes:
        url: The server's address.
        timeout: The seconds waited.
    """

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.timeout = timeout
        super().__init__(f"the worker did not connect to {url} within {timeout:g} s")
