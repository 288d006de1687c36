"""Who claimed the run of an action, and whether that runner can still finish it.

A run claimed by a process that died before recording its outcome must not look
like a run still in progress (it never finishes) nor like a failure (its side
effect may well have happened): it is *interrupted*, its outcome unknown. To tell
the three apart, every claim is stamped with the claiming ``Runner``'s id, and a
runner proves it is alive by holding a lock that the operating system releases
when the process dies, however it dies (SIGKILL included): an exclusive ``flock``
on its own file in a folder beside the database. Asking "is runner R alive?" is
trying a shared lock on that file without blocking: refused means alive.

Within one process a runner also knows which of its own runs are in flight: those
marked ``running`` while their handler runs, and those whose claiming task is still
alive (a caller of ``begin_execution`` between the claim and its result). A run it
claimed but no longer runs (the claiming task ended without an outcome, a bug
escaped) is interrupted too.

Without ``fcntl`` (Windows), or for stores that live in memory, only this process's
runners are known: a runner of another process counts as dead. That is right for
one process per database, the rule on such systems.

On PostgreSQL the lock is the database's own: a runner holds a session advisory
lock on a connection of its own, which the server releases when that connection
ends — the process died, or its host stopped answering (``soni.storage.postgres``).
Whatever holds the lock, it is a ``Liveness``: something that keeps this runner's
lock and asks about others'.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import re
import secrets
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ("FileLiveness", "Liveness", "Runner", "runners_folder")

logger = logging.getLogger("soni.confirmations")

_ID = re.compile(r"[0-9a-f]{24}")

# Runners of this process that are not closed, by id: a memory store's records can
# only have been claimed by one of them.
_LIVE: weakref.WeakValueDictionary[str, Runner] = weakref.WeakValueDictionary()
_LIVE_LOCK = threading.Lock()


def runners_folder(database: str | os.PathLike[str]) -> Path:
    """Where the runners of a database hold their locks: ``state.db`` → ``state.runners/``.

    The path is resolved first: a database reached through a link, or by a relative
    path from another folder, has the same runners as the file itself.
    """
    path = Path(database).resolve()
    return path.with_name(f"{path.stem}.runners")


class Liveness(Protocol):
    """How runners of one database prove they are alive, and learn whether others are."""

    def hold(self, runner_id: str) -> None:
        """Take ``runner_id``'s lock, for as long as this process lives or until ``release``."""
        ...

    def release(self, runner_id: str) -> None:
        """Give ``runner_id``'s lock back."""
        ...

    async def alive(self, runner_id: str) -> bool:
        """Whether some process holds ``runner_id``'s lock."""
        ...


class FileLiveness:
    """Runner locks as ``flock`` locks on files in a folder beside a SQLite database."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self._held: dict[str, int] = {}

    def hold(self, runner_id: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.folder / f"{runner_id}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._held[runner_id] = fd

    def release(self, runner_id: str) -> None:
        fd = self._held.pop(runner_id, None)
        if fd is None:
            return
        with contextlib.suppress(OSError):
            (self.folder / f"{runner_id}.lock").unlink()
        os.close(fd)

    async def alive(self, runner_id: str) -> bool:
        return self.probe(runner_id)

    def probe(self, runner_id: str) -> bool:
        """``alive``, without a loop (a quick, non-blocking system call)."""
        path = self.folder / f"{runner_id}.lock"
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            return False
        try:
            try:
                # Shared: two processes asking at once must not take each other's
                # probe for the runner's own (exclusive) lock.
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    return True
                raise
            # We got its lock: its process is gone. Tidy its file up.
            with contextlib.suppress(OSError):
                path.unlink()
            return False
        finally:
            os.close(fd)


class Runner:
    """This process's identity as the runner of actions, and a check on other runners.

    Args:
        folder: Where runners of the same database hold their lock files; ``None``
            for a runner known only inside this process (memory stores, tests).
        liveness: How runners of the database hold and probe their locks, instead
            of ``folder`` (PostgreSQL's advisory locks).
        runner_id: The id, when its lock was taken before (24 hex digits); a new
            random one by default.
    """

    def __init__(
        self,
        folder: str | os.PathLike[str] | None = None,
        *,
        liveness: Liveness | None = None,
        runner_id: str | None = None,
    ) -> None:
        if runner_id is not None and not _ID.fullmatch(runner_id):
            raise ValueError(f"a runner id is 24 hex digits, got {runner_id!r}")
        self.id = runner_id or secrets.token_hex(12)
        if liveness is None and folder is not None and fcntl is not None:
            liveness = FileLiveness(folder)
        self._liveness = liveness
        self._in_flight: set[str] = set()
        # Claims by the task that made them, until their outcome is recorded; a
        # task that is garbage collected takes its entries with it.
        self._claims: weakref.WeakValueDictionary[str, asyncio.Task[Any]] = (
            weakref.WeakValueDictionary()
        )
        self._closed = False
        if self._liveness is not None:
            self._liveness.hold(self.id)
        with _LIVE_LOCK:
            _LIVE[self.id] = self

    def __repr__(self) -> str:
        return f"<Runner {self.id}{' closed' if self._closed else ''}>"

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Stop being a runner: claims stamped with this id now count as interrupted."""
        if self._closed:
            return
        self._closed = True
        with _LIVE_LOCK:
            _LIVE.pop(self.id, None)
        if self._liveness is not None:
            self._liveness.release(self.id)

    @contextlib.contextmanager
    def running(self, key: str) -> Iterator[None]:
        """Mark the run ``key`` as in flight here while the block runs."""
        self._in_flight.add(key)
        try:
            yield
        finally:
            self._in_flight.discard(key)

    def claimed(self, key: str) -> None:
        """The current task claimed the run ``key``: in flight while the task lives."""
        with contextlib.suppress(RuntimeError):  # no running loop: nothing to tie it to
            task = asyncio.current_task()
            if task is not None:
                self._claims[key] = task

    def released(self, key: str) -> None:
        """The run ``key`` has its outcome recorded (or was settled)."""
        self._claims.pop(key, None)

    async def in_flight(self, runner_id: str | None, key: str) -> bool:
        """Whether the run ``key``, claimed by ``runner_id``, may still record its outcome.

        ``False`` means nobody will ever finish it: its outcome is unknown.
        """
        if runner_id is None:
            # Claimed before runners were recorded (an older soni): that process
            # is not this one, and the claim has outlived it.
            return False
        if runner_id == self.id:
            if self._closed:
                return False
            claimant = self._claims.get(key)
            return key in self._in_flight or (claimant is not None and not claimant.done())
        return await self.alive(runner_id)

    async def alive(self, runner_id: str) -> bool:
        """Whether the runner ``runner_id`` is still running, in this process or another."""
        with _LIVE_LOCK:
            local = _LIVE.get(runner_id)
        if local is not None:
            return not local.closed
        if self._liveness is None or not _ID.fullmatch(runner_id):
            return False
        return await self._liveness.alive(runner_id)
