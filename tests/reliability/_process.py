"""``soni serve`` as a real process: started on a free port, SIGKILLed, restarted.

The server is ``python -m soni serve BOT --port 0 --db D``: the OS picks a free
port and uvicorn's start-up line says which, so tests in parallel never collide
and no port is guessed. Every wait is bounded, and whatever happens the process
is killed when the test ends (``SoniServer`` is a context manager).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

import httpx

__all__ = ("STARTUP_TIMEOUT", "SoniServer", "soni_env")

STARTUP_TIMEOUT = 60.0
"""Seconds a server may take to be ready: generous, the machine is shared."""

_LEVEL = re.compile(r"(DEBUG|INFO|WARNING|CRITICAL)\b")
_RUNNING = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")


def soni_env(**extra: str) -> dict[str, str]:
    """The environment of a child soni process: no API keys, no settings of the caller's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SONI_")}
    return {**env, **extra}


class SoniServer:
    """One ``soni serve`` on a database; ``start`` again after ``kill`` to restart it.

    Args:
        bot: The bot folder.
        db: The SQLite file, or a PostgreSQL URL; it outlives the process, which is
            the point.
        env: Extra environment variables (the executions file, say).
        cwd: Where the process runs; by default the SQLite file's folder.
        options: More options of ``soni serve`` (``--no-local-actions``, say).
    """

    def __init__(
        self,
        bot: Path,
        db: Path | str,
        env: Mapping[str, str] | None = None,
        *,
        cwd: Path | None = None,
        options: Sequence[str] = (),
    ) -> None:
        self.bot = bot
        self.options = tuple(options)
        self.db = db
        if cwd is None:
            assert isinstance(db, Path), "give cwd with a PostgreSQL URL"
            cwd = db.parent
        self.cwd = cwd
        self.env = soni_env(**dict(env or {}))
        self.process: subprocess.Popen[str] | None = None
        self.url = ""
        self._log: deque[str] = deque(maxlen=200)
        self.errors: list[str] = []
        """Every error the server logged (each with its traceback), over all its runs."""

    # -- life cycle -----------------------------------------------------------------

    def start(self, timeout: float = STARTUP_TIMEOUT) -> SoniServer:
        """Start the server and return once it is ready (the bot loaded, recovery done)."""
        assert self.process is None or self.process.poll() is not None, "already running"
        command = [
            sys.executable, "-m", "soni", "serve", str(self.bot),
            "--host", "127.0.0.1", "--port", "0", "--db", str(self.db), "--log-level", "info",
            *self.options,
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
            cwd=self.cwd,
        )
        port: list[int] = []
        ready = threading.Event()
        # The log is read to its end in a thread: the port comes from it, and a
        # pipe nobody drains would block the server once it fills.
        threading.Thread(target=self._drain, args=(self.process, port, ready), daemon=True).start()
        if not ready.wait(timeout) or not port:
            self._end()
            raise RuntimeError(f"soni serve did not start:\n{self.log()}")
        self.url = f"http://127.0.0.1:{port[0]}"
        deadline = time.monotonic() + timeout
        while not self._ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self._end()
                raise RuntimeError(f"soni serve did not become ready:\n{self.log()}")
            time.sleep(0.01)  # polling /ready, with a deadline
        return self

    def _drain(
        self, process: subprocess.Popen[str], port: list[int], ready: threading.Event
    ) -> None:
        assert process.stderr is not None
        in_error = False
        with process.stderr:  # closed at the end of the log: when the process ends
            for line in process.stderr:
                self._log.append(line.rstrip())
                # An error and its traceback: indented lines and "Traceback" go with it.
                if line.startswith(("ERROR", "Traceback")):
                    self.errors.append(line.rstrip())
                    in_error = True
                elif in_error and not _LEVEL.match(line):
                    self.errors[-1] += "\n" + line.rstrip()
                else:
                    in_error = False
                if not ready.is_set() and (found := _RUNNING.search(line)):
                    port.append(int(found[1]))
                    ready.set()
        ready.set()  # the process ended before it ever listened

    def _ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/ready", timeout=2, trust_env=False).status_code == 200
        except httpx.TransportError:
            return False

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, no clean-up — what a crash or an OOM kill does."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGKILL)
        # Killed by this signal, not ended some other way before it landed.
        assert process.wait(timeout=30) == -signal.SIGKILL, self.log()

    def _end(self) -> None:
        """Make sure the process is gone: SIGKILL if it still runs (one that failed to
        start may be exiting by itself, which ``kill`` would take for a fault)."""
        process = self.process
        if process is not None and process.poll() is None:
            process.kill()
        if process is not None:
            process.wait(timeout=30)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        """The last lines the server logged, for a failure message."""
        return "\n".join(self._log)

    def __enter__(self) -> SoniServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._end()
