"""``soni worker`` as a real process, and the line a held handler calls the test on.

A ``WorkerProcess`` is ``python -m soni worker HANDLERS --url URL``: started, it is
ready once its output says it connected (the server took its actions); whatever
happens, it is killed when its block ends. ``Signals`` is a TCP listener on
127.0.0.1 of the test's own loop: a handler that must be held up connects, says
it started, and waits there until the test lets it go (or kills its process).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

__all__ = ("WAIT", "Held", "Signals", "WorkerProcess")

WAIT = 60.0
"""Seconds any one step may take (a process start, an answer, an event): generous,
the machine is shared; never waited out when things work."""


class WorkerProcess:
    """One ``soni worker`` process serving ``handlers`` to the server at ``url``."""

    def __init__(
        self, handlers: Path, url: str, *, name: str, env: Mapping[str, str], cwd: Path
    ) -> None:
        self.command = [
            sys.executable, "-m", "soni", "worker", str(handlers),
            "--url", url, "--name", name, "--log-level", "info",
        ]  # fmt: skip
        self.env = {**env, "PYTHONUNBUFFERED": "1"}
        self.cwd = cwd
        self.process: subprocess.Popen[str] | None = None
        self.worker_id = ""
        self._log: deque[str] = deque(maxlen=200)

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    def start(self, timeout: float = WAIT) -> WorkerProcess:
        """Start it; return once the server took its actions ("connected to ... as ID")."""
        self.process = subprocess.Popen(
            self.command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=self.env,
            cwd=self.cwd,
        )
        connected = threading.Event()
        # Read to its end in a thread: the connected line is in it, and a pipe
        # nobody drains would block the worker once it fills.
        threading.Thread(target=self._drain, args=(self.process, connected), daemon=True).start()
        if not connected.wait(timeout) or not self.worker_id:
            self._end()
            raise RuntimeError(f"soni worker did not connect:\n{self.log()}")
        return self

    def _drain(self, process: subprocess.Popen[str], connected: threading.Event) -> None:
        assert process.stdout is not None
        with process.stdout:
            for line in process.stdout:
                self._log.append(line.rstrip())
                if not connected.is_set() and line.startswith("connected to "):
                    self.worker_id = line.split(" as ", 1)[1].split(":", 1)[0]
                    connected.set()
        connected.set()  # it ended before it connected

    def kill(self) -> None:
        """SIGKILL: no goodbye, no answer to what it runs — a crash, an OOM kill."""
        assert self.process is not None and self.process.poll() is None, "not running"
        os.kill(self.process.pid, signal.SIGKILL)
        assert self.process.wait(timeout=WAIT) == -signal.SIGKILL, self.log()

    def _end(self) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            process.kill()
        if process is not None:
            process.wait(timeout=WAIT)

    def log(self) -> str:
        """The last lines it printed, for a failure message."""
        return "\n".join(self._log)

    def __enter__(self) -> WorkerProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._end()


@dataclass(frozen=True, slots=True)
class Held:
    """A handler that said it started and waits for the test."""

    key: str
    pid: int
    writer: asyncio.StreamWriter

    async def release(self) -> None:
        self.writer.write(b"go\n")
        await self.writer.drain()


class Signals:
    """Held handlers call here (``address``), one connection each, in the order they start."""

    def __init__(self) -> None:
        self._held: asyncio.Queue[Held] = asyncio.Queue()
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None
        self.address = ""

    async def start(self) -> Signals:
        self._server = await asyncio.start_server(self._take, "127.0.0.1", 0)
        self.address = f"127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def _take(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        line = await reader.readline()
        if not line:  # its process died before it said anything
            return
        said = json.loads(line)
        self._held.put_nowait(Held(said["key"], said["pid"], writer))

    async def next(self, timeout: float = WAIT) -> Held:
        """The next handler that started."""
        return await asyncio.wait_for(self._held.get(), timeout)

    @property
    def waiting(self) -> int:
        """Handlers that started and nobody took with ``next`` yet."""
        return self._held.qsize()

    async def close(self) -> None:
        for writer in self._writers:
            writer.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
