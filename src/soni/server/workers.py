"""``soni serve --workers N``: N processes, each a whole soni server, on one listening socket.

The parent binds the socket once and starts N worker processes (``spawn``: a
fresh interpreter each, nothing inherited but the socket); every worker loads the
bot, opens the shared PostgreSQL database and runs uvicorn on the socket, and the
kernel hands each new connection to one of them. The parent only watches:

- SIGINT or SIGTERM stops every worker with SIGTERM (each finishes its requests,
  closes its bot), waits for them, and kills what is still running after
  ``STOP_TIMEOUT`` seconds; a second signal kills at once. Exit status 0.
- A worker that dies is reported at ERROR level, whatever ``--log-level`` says,
  with its pid and exit code or signal, and replaced. One that dies again within
  ``CRASH_LOOP`` seconds of being started, or that cannot start at all, stops
  the whole server with exit status 1 — a crash loop is for the service manager
  (systemd's ``Restart=on-failure``) to back off from, not for a tight respawn.
- A worker whose parent vanished (SIGKILL) stops itself: it never serves on alone.

Why not uvicorn's own ``workers=N``: its supervisor reports a dead worker at INFO
level (hidden by ``--log-level warning``), and exits 0 when its workers could not
start, so a service manager would take a broken deployment for a clean stop; the
versions soni allows also differ in whether they respawn at all. This is the
little of it soni needs, with those answers fixed.

Each response carries ``X-Soni-Worker: <pid>``: which worker answered, for
operators (and the tests) to see the load spread.
"""

from __future__ import annotations

import contextlib
import logging
import logging.config
import multiprocessing
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.context import SpawnProcess

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ("CRASH_LOOP", "STOP_TIMEOUT", "WORKER_HEADER", "WorkerSpec", "serve_workers")

logger = logging.getLogger("uvicorn.error")

WORKER_HEADER = "X-Soni-Worker"
"""The response header naming the pid of the worker that answered."""

STOP_TIMEOUT = 30.0
"""Seconds workers get to stop (open requests: 5; action runs: 10; closing) before SIGKILL."""

CRASH_LOOP = 10.0
"""A replacement worker dying within this many seconds of its start stops the server."""

STARTUP_FAILURE = 3
"""A worker's exit status when it could not start (uvicorn's own for the same)."""


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    """What each worker serves: the bot, its database and uvicorn's log level.

    The server's settings are not here: each worker reads the same ``SONI_*``
    variables, which the parent checked before starting any.
    """

    bot: str
    db: str | None
    log_level: str = "info"
    local_actions: bool = True


def serve_workers(spec: WorkerSpec, *, host: str, port: int, workers: int) -> int:
    """Serve with ``workers`` processes until SIGINT or SIGTERM.

    Returns:
        The exit status: 0 after a signal, 1 when a worker could not start or kept
        dying.

    Raises:
        OSError: the address cannot be listened on.
    """
    _configure_logging(spec.log_level)
    listener = _bind(host, port)
    try:
        bound = listener.getsockname()[1]
        logger.info(
            "soni running on http://%s:%d with %d workers (Press CTRL+C to quit)",
            host,
            bound,
            workers,
        )
        return _Supervisor(spec, listener, workers).run()
    finally:
        listener.close()


def _configure_logging(level: str) -> None:
    """uvicorn's log format and level in the parent too, so its lines read like the workers'."""
    from uvicorn.config import LOG_LEVELS, LOGGING_CONFIG

    logging.config.dictConfig(LOGGING_CONFIG)
    logger.setLevel(LOG_LEVELS[level])


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        # Listening at once: connections made while the workers start wait in the
        # backlog instead of being refused.
        listener.listen(2048)
    except OSError:
        listener.close()
        raise
    return listener


@dataclass(slots=True)
class _Worker:
    slot: int
    process: SpawnProcess
    parent_end: Connection
    started: float
    replacement: bool


class _Supervisor:
    def __init__(self, spec: WorkerSpec, listener: socket.socket, count: int) -> None:
        self._spec = spec
        self._listener = listener
        self._count = count
        self._context = multiprocessing.get_context("spawn")
        self._workers: dict[int, _Worker] = {}

    def run(self) -> int:
        # Signals wake the loop through a socket (set_wakeup_fd), which also says
        # which signal it was: the loop below never polls.
        wake, wake_writer = socket.socketpair()
        wake.setblocking(False)
        wake_writer.setblocking(False)
        handled = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, lambda *_: None) for sig in handled}
        previous_fd = signal.set_wakeup_fd(wake_writer.fileno())
        try:
            for slot in range(self._count):
                self._start(slot, replacement=False)
            status = self._watch(wake)
            self._stop(wake)
            return status
        finally:
            signal.set_wakeup_fd(previous_fd)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            wake.close()
            wake_writer.close()

    def _start(self, slot: int, *, replacement: bool) -> None:
        # The worker's end of a pipe only the parent writes to: when the parent is
        # gone, the worker reads end-of-file and stops itself.
        worker_end, parent_end = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=run_worker,
            args=(self._spec, self._listener, worker_end),
            name=f"soni-worker-{slot + 1}",
        )
        process.start()
        worker_end.close()
        self._workers[slot] = _Worker(slot, process, parent_end, time.monotonic(), replacement)
        logger.info("started worker %d [%d]", slot + 1, process.pid)

    def _watch(self, wake: socket.socket) -> int:
        """Replace workers that die until a signal comes; the exit status."""
        while True:
            by_sentinel = {w.process.sentinel: w for w in self._workers.values()}
            ready = wait([*by_sentinel, wake])
            received = _signals(wake) if wake in ready else []
            if received:
                logger.info(
                    "received %s: stopping %d workers", _name(received[0]), len(self._workers)
                )
                return 0
            dead = [by_sentinel[each] for each in ready if isinstance(each, int)]
            for worker in dead:
                if not self._replace(worker):
                    return 1

    def _replace(self, worker: _Worker) -> bool:
        """Report a dead worker and start another; ``False``: stop the server instead."""
        worker.process.join()
        worker.parent_end.close()
        del self._workers[worker.slot]
        code = worker.process.exitcode
        name = f"worker {worker.slot + 1} [{worker.process.pid}]"
        if code == STARTUP_FAILURE:
            logger.error("%s could not start (its error is above): stopping the server", name)
            return False
        lived = time.monotonic() - worker.started
        if worker.replacement and lived < CRASH_LOOP:
            logger.error(
                "%s died (%s) %.1f s after it replaced another: stopping the server",
                name,
                _exit(code),
                lived,
            )
            return False
        logger.error("%s died (%s); starting another", name, _exit(code))
        self._start(worker.slot, replacement=True)
        return True

    def _stop(self, wake: socket.socket) -> None:
        """SIGTERM to every worker; SIGKILL to those still running after STOP_TIMEOUT."""
        for worker in self._workers.values():
            if worker.process.is_alive():
                worker.process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        while running := [w for w in self._workers.values() if w.process.is_alive()]:
            left = deadline - time.monotonic()
            if left <= 0:
                logger.error(
                    "%d workers still running after %.0f s: killing them",
                    len(running),
                    STOP_TIMEOUT,
                )
                break
            ready = wait([*(w.process.sentinel for w in running), wake], timeout=left)
            if wake in ready and _signals(wake):
                logger.warning("stopping at once: killing %d workers", len(running))
                break
        for worker in self._workers.values():
            if worker.process.is_alive():
                worker.process.kill()
            worker.process.join()
            worker.parent_end.close()
        self._workers.clear()


def _signals(wake: socket.socket) -> list[int]:
    """The signals received since the last call (set_wakeup_fd writes one byte each)."""
    received = b""
    while True:
        try:
            chunk = wake.recv(512)
        except BlockingIOError:
            break
        if not chunk:
            break
        received += chunk
    return list(received)


def _name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _exit(code: int | None) -> str:
    if code is not None and code < 0:
        return f"killed by {_name(-code)}"
    return f"exit status {code}"


# -- in each worker ---------------------------------------------------------------


def run_worker(spec: WorkerSpec, listener: socket.socket, parent: Connection) -> None:
    """A worker process: the bot served by uvicorn on the parent's socket until told to stop."""
    import uvicorn

    from soni.server.app import create_app
    from soni.server.settings import ServerSettings
    from soni.server.transport import uvicorn_options

    threading.Thread(target=_stop_when_orphaned, args=(parent,), daemon=True).start()
    settings = ServerSettings.from_env()
    options: dict[str, object] = {"db": spec.db} if spec.db is not None else {}
    options.update(local_actions=spec.local_actions, remote_actions=True)
    config = uvicorn.Config(
        Tagged(create_app(spec.bot, settings, **options)),
        log_level=spec.log_level,
        # A bot that does not load is a worker that did not start: no "auto".
        lifespan="on",
        timeout_graceful_shutdown=5,
        **uvicorn_options(settings),
    )
    server = uvicorn.Server(config)
    # Ctrl-C in a terminal reaches every worker; the parent stops them anyway.
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[listener])
    if not server.started:
        raise SystemExit(STARTUP_FAILURE)


def _stop_when_orphaned(parent: Connection) -> None:
    """Stop this worker (as SIGTERM would) once the parent's end of the pipe is closed."""
    with contextlib.suppress(EOFError, OSError):
        parent.recv()
    os.kill(os.getpid(), signal.SIGTERM)


class Tagged:
    """An ASGI app whose HTTP responses name the worker process that answered them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._header = (WORKER_HEADER.lower().encode(), str(os.getpid()).encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", ()), self._header]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, tagged)
