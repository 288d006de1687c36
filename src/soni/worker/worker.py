"""``Worker``: serves a process's action handlers to a soni server (docs/workers.md).

It connects to the server's ``/ws``, announces every action of its registry, and
runs the ``run_action`` commands the server sends until it is stopped. A lost
connection (or one refused) is retried with exponential backoff and jitter, and
the actions are announced again; a refused *key* is not retried — it would be
refused again — and neither are refused actions.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import random
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from soni.actions import ActionRegistry
from soni.remote import (
    CommandTimeout,
    MessageAdaptor,
    RemoteError,
    ResponseRegistry,
    ThreadSafeEventLoop,
)
from soni.worker.announce import announcement
from soni.worker.commands import CommandRunner
from soni.worker.errors import (
    AnnounceRefused,
    WorkerError,
    WorkerStartTimeout,
    WorkerUnauthorized,
)
from soni.worker.recent import RecentKeys

__all__ = ("Announced", "Backoff", "Worker")

logger = logging.getLogger("soni.worker")


@dataclass(frozen=True, slots=True)
class Announced:
    """What ``on_announce`` is told each time the server took the worker's actions.

    Attributes:
        url: The server.
        worker_id: The worker's id (the same on every connection).
        actions: The action names the server took.
        connection: 1 for the first connection, 2 for the first reconnection, ...
    """

    url: str
    worker_id: str
    actions: tuple[str, ...]
    connection: int

    @property
    def reconnected(self) -> bool:
        return self.connection > 1


class Backoff:
    """Delays between connection attempts: ``first`` doubling up to ``cap``, with jitter.

    Each delay is drawn between half and all of the current step ("equal jitter"),
    so workers that lost one server together do not all come back at once.
    """

    def __init__(
        self, first: float, cap: float, *, rng: Callable[[], float] = random.random
    ) -> None:
        if not 0 < first <= cap:
            raise ValueError(f"backoff needs 0 < first <= cap, got ({first!r}, {cap!r})")
        self.first = first
        self.cap = cap
        self._rng = rng
        self._step = first

    def next(self) -> float:
        """The delay before the next attempt (and the step doubles)."""
        step = self._step
        self._step = min(self.cap, step * 2)
        return step / 2 + self._rng() * step / 2

    def reset(self) -> None:
        """Back to ``first``: the connection worked."""
        self._step = self.first


class _Lost(Exception):
    """The connection failed or ended; retried after a delay."""


class Worker:
    """Serves the actions of a registry to a soni server, from this process.

    Example:
        >>> with Worker("ws://127.0.0.1:8000/ws", api_key="wk-1"):  # doctest: +SKIP
        ...     input("serving; press Enter to stop")

    ``await worker.run()`` serves on the caller's loop until ``stop()``;
    ``start()`` / ``stop()`` (or ``with``) serve on a loop thread of the worker's
    own; ``async with`` runs it as a task of the caller's loop. A worker runs once:
    a stopped worker stays stopped.
    """

    def __init__(
        self,
        url: str,
        *,
        registry: ActionRegistry | None = None,
        api_key: str | None = None,
        concurrency: int = 16,
        name: str | None = None,
        remember: float = 3600.0,
        remember_max: int = 10_000,
        backoff: tuple[float, float] = (0.1, 10.0),
        open_timeout: float = 10.0,
        stop_timeout: float = 30.0,
        on_announce: Callable[[Announced], object] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Prepare a worker; nothing connects until it runs.

        Args:
            url: The server's WebSocket endpoint, ``ws://host:port/ws``.
            registry: Whose actions to serve (local and global); the process's
                default registry if ``None``.
            api_key: The worker key, sent as ``Authorization: Bearer <key>``.
            concurrency: How many actions run at once; more wait for a slot.
            name: The start of the worker's id (``worker`` if ``None``).
            remember: Seconds an idempotency key's outcome is remembered.
            remember_max: How many keys' outcomes are remembered at most.
            backoff: The first delay between connection attempts and its cap, in
                seconds; it doubles from one to the other, with jitter.
            open_timeout: Seconds for the handshake, and for the answer to announce.
            stop_timeout: Seconds ``stop`` lets running actions finish before
                cancelling them.
            on_announce: Called (on the worker's loop) each time the server took
                the actions: after the first connection and after each reconnection.
            clock: Seconds, for the remembered keys (``time.monotonic``).

        Raises:
            ValueError: a concurrency below 1 or a backoff that does not grow.
        """
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency!r}")
        self.url = url
        self.registry = registry if registry is not None else ActionRegistry.get_default()
        self.api_key = api_key
        self.concurrency = concurrency
        self.name = name or "worker"
        self.worker_id = f"{self.name}-{secrets.token_hex(6)}"
        self.open_timeout = open_timeout
        self.stop_timeout = stop_timeout
        self.on_announce = on_announce
        self._backoff = Backoff(*backoff)
        self._recent = RecentKeys(ttl=remember, limit=remember_max, clock=clock)
        self._responses = ResponseRegistry()
        self._runner: CommandRunner | None = None
        self._connected = False
        self._connections = 0
        self._ran = False
        # stop() may come from any thread; the loop is woken through _wake.
        self._stop_requested = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._announced = threading.Event()
        self._announced_future: asyncio.Future[None] | None = None
        # start()'s loop thread and run(), or async with's task.
        self._thread: ThreadSafeEventLoop | None = None
        self._run_future: concurrent.futures.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None

    # -- state ------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether the worker is connected and its actions announced."""
        return self._connected

    @property
    def in_flight(self) -> int:
        """Commands received and not answered yet (running, or waiting for a slot)."""
        runner = self._runner
        return runner.in_flight if runner is not None else 0

    @property
    def stopping(self) -> bool:
        """Whether ``stop()`` was called."""
        return self._stop_requested.is_set()

    # -- running on the caller's loop -----------------------------------------------

    async def run(self) -> None:
        """Connect, announce, and serve commands until ``stop()``; reconnect when lost.

        Raises:
            WorkerUnauthorized: the server refused the worker key (not retried).
            AnnounceRefused: the server refused the actions (not retried).
            WorkerError: the worker already ran.
        """
        if self._ran:
            raise WorkerError("this worker already ran; a stopped worker stays stopped")
        self._ran = True
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        if self._stop_requested.is_set():
            self._wake.set()
        runner = self._runner = CommandRunner(
            self.registry,
            concurrency=self.concurrency,
            recent=self._recent,
            stopping=self._stop_requested.is_set,
        )
        try:
            while not self._stop_requested.is_set():
                try:
                    await self._connect_and_serve(runner, self._wake)
                except _Lost as exc:
                    if self._stop_requested.is_set():
                        break
                    delay = self._backoff.next()
                    logger.warning("%s; reconnecting in %.2f s", exc, delay)
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(delay):
                            await self._wake.wait()
            # Commands of a connection lost earlier may still run.
            await runner.drain(self.stop_timeout)
        finally:
            self._connected = False
            self._loop = None
            logger.info("worker %s stopped", self.worker_id)

    async def aclose(self) -> None:
        """Stop, and wait until ``run()`` (``async with``'s task) has returned."""
        self.stop()
        if self._task is not None:
            with contextlib.suppress(WorkerError):
                await self._task

    async def __aenter__(self) -> Self:
        loop = asyncio.get_running_loop()
        self._announced_future = loop.create_future()
        self._task = loop.create_task(self.run(), name=f"soni-worker {self.worker_id}")
        await asyncio.wait(
            {self._task, self._announced_future}, return_when=asyncio.FIRST_COMPLETED
        )
        if self._task.done():
            self._announced_future.cancel()
            self._task.result()  # raises what stopped it
            raise WorkerError("the worker stopped before it connected")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- running on a thread of its own ---------------------------------------------

    def start(self, timeout: float | None = 30.0) -> Self:
        """Run on a loop thread of the worker's own; returns once announced the first time.

        Raises:
            WorkerUnauthorized, AnnounceRefused: what stopped the worker.
            WorkerStartTimeout: not announced within ``timeout`` seconds (the worker
                is stopped).
        """
        if self._ran or self._thread is not None:
            raise WorkerError("this worker already ran; a stopped worker stays stopped")
        thread = self._thread = ThreadSafeEventLoop(name=f"soni-worker {self.worker_id}").start()
        future = self._run_future = thread.submit(self.run())
        future.add_done_callback(lambda _: self._announced.set())
        if self._announced.wait(timeout) and not future.done():
            return self
        if future.done():
            self._thread = self._run_future = None
            thread.stop()
            future.result()  # raises what stopped it
            raise WorkerError("the worker stopped before it connected")
        self.stop()
        raise WorkerStartTimeout(self.url, timeout if timeout is not None else 0.0)

    def stop(self, timeout: float | None = None) -> None:
        """Stop gracefully: take no more commands (they are answered ``worker-stopping``),
        let running ones finish (up to ``stop_timeout``), close the connection.

        From any thread. When the worker runs on its own thread (``start()``) it
        returns once stopped; otherwise it asks, and ``run()`` returns soon after.

        Args:
            timeout: Seconds to wait for the stop, beyond ``stop_timeout``
                (``start()`` only); ``None``: ``stop_timeout`` plus ``open_timeout``.
        """
        self._stop_requested.set()
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop just closed
                loop.call_soon_threadsafe(wake.set)
        thread, future = self._thread, self._run_future
        if thread is None or future is None or thread.in_loop_thread:
            return
        self._thread = self._run_future = None
        if timeout is None:
            timeout = self.stop_timeout + self.open_timeout
        try:
            future.result(timeout)
        except concurrent.futures.TimeoutError:
            logger.warning("worker %s did not stop within %g s", self.worker_id, timeout)
        except Exception:
            logger.debug("the worker had stopped with an error", exc_info=True)
        with contextlib.suppress(RemoteError):
            thread.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- one connection ---------------------------------------------------------------

    async def _connect_and_serve(self, runner: CommandRunner, wake: asyncio.Event) -> None:
        websocket = await self._connect()
        adaptor = MessageAdaptor(websocket.send, responses=self._responses)
        adaptor.on("run_action", runner)
        reader = asyncio.create_task(self._read(websocket, adaptor), name="soni-worker-reader")
        try:
            actions = await self._announce(adaptor)
            self._on_announced(actions)
            stop = asyncio.create_task(wake.wait())
            try:
                await asyncio.wait({reader, stop}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stop.cancel()
            if not reader.done():
                # Stopping: new commands are refused from now on; the connection
                # stays open while the running ones finish and answer.
                logger.info("stopping: %d command(s) to finish", runner.in_flight)
                await runner.drain(self.stop_timeout)
                await websocket.close(1001, "worker stopping")
                return
            raise _Lost(f"lost the connection to {self.url} ({_why(websocket)})")
        finally:
            self._connected = False
            adaptor.close()
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
            await websocket.close()

    async def _connect(self) -> ClientConnection:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else None
        try:
            return await connect(
                self.url, additional_headers=headers, open_timeout=self.open_timeout
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            if status in (401, 403):
                raise WorkerUnauthorized(self.url, status, "check the worker key") from exc
            raise _Lost(f"{self.url} refused the connection (HTTP {status})") from exc
        except TimeoutError as exc:
            raise _Lost(f"no handshake with {self.url} within {self.open_timeout:g} s") from exc
        except (OSError, WebSocketException) as exc:
            raise _Lost(f"cannot connect to {self.url}: {type(exc).__name__}: {exc}") from exc

    async def _read(self, websocket: ClientConnection, adaptor: MessageAdaptor) -> None:
        try:
            async for message in websocket:
                await adaptor.receive(message)
        except ConnectionClosed:
            pass
        finally:
            adaptor.close()
            self._responses.fail_where(
                lambda handle: handle.owner is adaptor,
                _Lost(f"lost the connection to {self.url} ({_why(websocket)})"),
            )

    async def _announce(self, adaptor: MessageAdaptor) -> tuple[str, ...]:
        args = announcement(self.worker_id, self.concurrency, self.registry)
        handle = self._responses.register(
            f"announce-{secrets.token_hex(8)}", timeout=self.open_timeout, owner=adaptor
        )
        try:
            await adaptor.send(
                handle.command_id, {"type": "instruction", "name": "announce", "args": args}
            )
            payload = await self._responses.wait(handle)
        except CommandTimeout as exc:
            raise _Lost(
                f"{self.url} did not answer announce within {self.open_timeout:g} s"
            ) from exc
        except RemoteError as exc:  # the connection closed before it was sent
            raise _Lost(f"lost the connection to {self.url} while announcing") from exc
        finally:
            self._responses.cancel(handle.command_id)
        if payload.get("ok") is True:
            result = payload.get("result")
            names = result.get("actions") if isinstance(result, dict) else None
            if isinstance(names, list):
                return tuple(str(name) for name in names)
            return tuple(action["name"] for action in args["actions"])
        error = payload.get("error")
        problem = error if isinstance(error, dict) else {}
        status = problem.get("status")
        if status in (401, 403):
            detail = str(problem.get("detail") or problem.get("title") or "refused")
            raise WorkerUnauthorized(self.url, int(status), detail)
        raise AnnounceRefused(problem)

    def _on_announced(self, actions: tuple[str, ...]) -> None:
        self._connected = True
        self._connections += 1
        self._backoff.reset()
        logger.info(
            "%s to %s as %s: %d action(s)",
            "reconnected" if self._connections > 1 else "connected",
            self.url,
            self.worker_id,
            len(actions),
        )
        self._announced.set()
        if self._announced_future is not None and not self._announced_future.done():
            self._announced_future.set_result(None)
        if self.on_announce is not None:
            try:
                self.on_announce(Announced(self.url, self.worker_id, actions, self._connections))
            except Exception:
                logger.exception("on_announce failed")


def _why(websocket: ClientConnection) -> str:
    code, reason = websocket.close_code, websocket.close_reason
    if code is None:
        return "no close frame"
    return f"code {code}{': ' + reason if reason else ''}"
