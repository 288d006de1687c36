"""uvicorn on a thread of its own, for the tests that serve an app on a real socket."""

from __future__ import annotations

import socket
import threading

import uvicorn

__all__ = ("ThreadedServer",)


class ThreadedServer(uvicorn.Server):
    """A uvicorn server run on a daemon thread; ``start`` returns once it serves.

    Its start-up sets an event when it is over, served or failed, so starting waits
    for that instead of polling ``started``.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.settled = threading.Event()
        self.thread: threading.Thread | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets)
        finally:  # a failed start-up exits the server (SystemExit): said here too
            self.settled.set()

    def start(self, sockets: list[socket.socket] | None = None, timeout: float = 10) -> None:
        """Serve; raise if the server does not start within ``timeout`` seconds."""
        self.thread = threading.Thread(
            target=self.run, kwargs={"sockets": sockets}, name="uvicorn", daemon=True
        )
        self.thread.start()
        if not self.settled.wait(timeout):
            raise TimeoutError(f"the server did not start within {timeout} s")
        if not self.started:
            raise RuntimeError("the server failed to start")

    def stop(self, timeout: float = 10) -> None:
        """Ask the server to exit and wait for its thread to end."""
        self.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout)
            assert not self.thread.is_alive(), f"the server did not stop within {timeout} s"

    @property
    def port(self) -> int:
        """The port it listens on (the OS picked it when asked for port 0)."""
        port: int = self.servers[0].sockets[0].getsockname()[1]
        return port
