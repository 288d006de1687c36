# ruff: noqa: E402
"""What running an action in a worker costs, next to running it in the server.

A real server — ``soni.server.create_app`` on uvicorn, in a thread of this process,
serving a one-action bot without its handlers — and a real ``soni.worker.Worker`` in
a process of its own (``--concurrency 64``), connected over loopback. The calls are
made on the server's event loop, at the level that isolates the round trip:

(a) One call at a time: ``ActionRegistry.run`` on the bot's registry, whose entry is
    remote (what the engine calls: the spec's handler sends ``run_action`` to the
    worker and waits for its answer), and ``RemoteActions.call`` itself, next to
    ``ActionRegistry.run`` on a registry holding the same handler locally — the
    floor. Median and p95 in µs, and the difference. Target: the remote round trip
    adds <= 1 ms at the median, on loopback. A second floor tells what of that no
    protocol can save: a bare ``websockets`` round trip of a frame of the same size
    to an echo server in another process, over loopback. Measured in interleaved rounds (a batch
    of each in turn), so machine noise hits them alike; the handler is an async one
    and a sync one (a sync handler runs in a thread, in the worker as in the server).
(b) Commands per second through the one worker connection with 64 calls in flight
    (64 tasks, each calling again as soon as it is answered), next to the local
    registry's calls per second with 64 in flight.

Run: ``make bench`` or ``python bench/remote.py [--calls 2000] [--seconds 2]``.
"""

from __future__ import annotations

# This folder holds http.py (the HTTP benchmark): run as a script, it would shadow
# the standard library's http package. Keep the folder, but after the library.
import sys  # isort: skip
from pathlib import Path  # isort: skip

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE] + [str(_HERE)]

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from _harness import banner, row
from soni import ActionContext, ActionRegistry
from soni.server import ServerSettings, create_app
from soni.server.transport import uvicorn_options

IN_FLIGHT = 64

BOT = """
version: "1.0"
settings:
  nlu: {engine: rules}
slots:
  n: {type: integer}
actions:
  echo_async: {description: "answers with its argument (async)", inputs: [n]}
  echo_sync: {description: "answers with its argument (sync)", inputs: [n]}
flows:
  echo:
    description: "echo"
    steps:
      - {step: a, type: action, call: echo_async}
      - {step: b, type: action, call: echo_sync}
"""


async def echo_async(n: int) -> dict[str, int]:
    return {"n": n}


def echo_sync(n: int) -> dict[str, int]:
    return {"n": n}


def handlers() -> ActionRegistry:
    """The same two handlers, for the worker and for the local floor."""
    registry = ActionRegistry()
    registry.register_local("echo_async", echo_async)
    registry.register_local("echo_sync", echo_sync)
    return registry


# -- the worker's process ---------------------------------------------------------------


def serve_worker(url: str) -> None:
    """Run a Worker serving ``handlers()`` until SIGTERM; says "announced" once it is."""
    from soni.worker import Worker

    async def run() -> None:
        worker = Worker(
            url,
            registry=handlers(),
            concurrency=IN_FLIGHT,
            name="bench",
            on_announce=lambda _: print("announced", flush=True),
        )
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, worker.stop)
        await worker.run()

    asyncio.run(run())


def serve_echo() -> None:
    """A bare WebSocket echo server on a free port of 127.0.0.1; prints the port."""
    from websockets.asyncio.server import ServerConnection, serve

    async def echo(connection: ServerConnection) -> None:
        async for message in connection:
            await connection.send(message)

    async def run() -> None:
        async with serve(echo, "127.0.0.1", 0) as listening:
            print(listening.sockets[0].getsockname()[1], flush=True)
            stop = asyncio.Event()
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
            await stop.wait()

    asyncio.run(run())


@contextlib.contextmanager
def helper_process(option: str, *args: str) -> Iterator[str]:
    """This script run with ``option`` in a process of its own; its first line."""
    process = subprocess.Popen(
        [sys.executable, __file__, option, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()  # blocks until it is ready
        if not line:
            raise SystemExit(f"bench/remote.py: {option} did not start")
        yield line
    finally:
        process.terminate()
        process.wait(timeout=60)


class EchoClient:
    """A WebSocket client of the echo server: one frame out, the same frame back."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.connection: ClientConnection | None = None
        # The size of a run_action frame of the benchmark's calls.
        self.frame = json.dumps(
            {"session_id": f"cmd-{'0' * 32}", "local_timestamp": None, "payload": {
                "type": "instruction", "name": "run_action", "args": {
                    "action": "echo_async", "reconcile": False, "slots": {"n": 0},
                    "context": dict.fromkeys(("conversation_id", "user_id", "flow", "step",
                                              "confirmation_token"), None)
                    | {"idempotency_key": "0" * 32},
                    "deadline": 300.0}}}
        )  # fmt: skip

    async def open(self) -> None:
        self.connection = await connect(self.url)

    async def close(self) -> None:
        if self.connection is not None:
            await self.connection.close()

    async def __call__(self, n: int) -> dict[str, int]:
        assert self.connection is not None
        await self.connection.send(self.frame)
        json.loads(await self.connection.recv())
        return {"n": n}


# -- the server, in a thread of this process ----------------------------------------------


class ThreadedServer(uvicorn.Server):
    """uvicorn on a thread; ``loop`` is its event loop once it serves."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.settled = threading.Event()
        self.loop: asyncio.AbstractEventLoop | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        try:
            await super().startup(sockets)
        finally:
            self.settled.set()

    def submit(self, coro: Awaitable[Any]) -> Any:
        """Run ``coro`` on the server's loop; its result."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()  # type: ignore[arg-type]


@contextlib.contextmanager
def server(folder: Path) -> Iterator[tuple[ThreadedServer, Any]]:
    (folder / "bot.yaml").write_text(BOT)
    settings = ServerSettings()
    app = create_app(
        folder, settings, db=str(folder / "state.db"), local_actions=False, remote_actions=True
    )
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="on",
        **uvicorn_options(settings),
    )  # fmt: skip
    served = ThreadedServer(config)
    thread = threading.Thread(target=served.run, name="uvicorn", daemon=True)
    thread.start()
    if not served.settled.wait(60) or not served.started:
        raise SystemExit("bench/remote.py: the server did not start")
    try:
        yield served, app
    finally:
        served.should_exit = True
        thread.join(30)


# -- measuring, on the server's loop ----------------------------------------------------


Call = Callable[[int], Awaitable[Any]]


async def latencies(calls: dict[str, Call], total: int, batch: int = 50) -> dict[str, list[float]]:
    """Microseconds per call of each, ``total`` calls each, in interleaved batches."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for name, call in calls.items():  # warm up (connections, threads, caches), and check
        for n in range(50):
            answer = await call(n)
            assert answer == {"n": n}, f"{name}: {answer!r}"
    clock = time.perf_counter_ns
    for start in range(0, total, batch):
        for name, call in calls.items():
            taken = samples[name]
            for n in range(start, min(total, start + batch)):
                began = clock()
                await call(n)
                taken.append((clock() - began) / 1e3)
    return samples


async def rate(call: Call, in_flight: int, seconds: float) -> float:
    """Calls per second with ``in_flight`` tasks calling for ``seconds``."""
    stop = time.perf_counter() + seconds
    counts = [0] * in_flight

    async def caller(i: int) -> None:
        n = 0
        while time.perf_counter() < stop:
            await call(n)
            n += 1
        counts[i] = n

    began = time.perf_counter()
    await asyncio.gather(*(caller(i) for i in range(in_flight)))
    return sum(counts) / (time.perf_counter() - began)


def quantile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000, help="calls of each kind in (a)")
    parser.add_argument("--seconds", type=float, default=2.0, help="each measurement of (b)")
    parser.add_argument("--rounds", type=int, default=3, help="of (b); the best is shown")
    parser.add_argument("--serve-worker", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--serve-echo", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_worker:
        serve_worker(args.serve_worker)
        return
    if args.serve_echo:
        serve_echo()
        return
    # The server's notes (actions waiting for a worker, the worker leaving at the end).
    logging.getLogger("soni").setLevel(logging.ERROR)

    local = handlers()
    with tempfile.TemporaryDirectory() as tmp, server(Path(tmp)) as (served, app):
        url = f"ws://127.0.0.1:{served.servers[0].sockets[0].getsockname()[1]}/ws"
        with helper_process("--serve-worker", url), helper_process("--serve-echo") as port:
            echo = EchoClient(f"ws://127.0.0.1:{port}")
            served.submit(echo.open())
            state = app.state.soni
            registry: ActionRegistry = state.bot.actions
            remote = state.remote
            assert registry.list_remote() == ["echo_async", "echo_sync"], registry.list_remote()

            # A context per call: a worker answers a key it has seen from its record.
            def calls(name: str) -> dict[str, Call]:
                return {
                    "registry": lambda n: registry.run(name, {"n": n}, ActionContext("bench")),
                    "remote": lambda n: remote.call(name, {"n": n}, ActionContext("bench")),
                    "local": lambda n: local.run(name, {"n": n}, ActionContext("bench")),
                    "websocket": echo,
                }

            for kind in ("async", "sync"):
                name = f"echo_{kind}"
                banner(
                    f"(a) one {kind} action call at a time, µs ({args.calls} calls each, "
                    "interleaved batches; worker in its own process, over loopback)"
                )
                samples = served.submit(latencies(calls(name), args.calls))
                for q, label in ((0.5, "median"), (0.95, "p95")):
                    floor = quantile(samples["local"], q)
                    wire = quantile(samples["websocket"], q)
                    for what, title in (
                        ("registry", "remote, ActionRegistry.run"),
                        ("remote", "remote, RemoteActions.call"),
                    ):
                        value = quantile(samples[what], q)
                        row(
                            f"{title}, {label}", value, "µs", floor,
                            f"local ActionRegistry.run, {label}",
                        )  # fmt: skip
                    row(
                        f"remote, ActionRegistry.run, {label}",
                        quantile(samples["registry"], q), "µs", wire,
                        f"bare WebSocket round trip, {label}",
                    )  # fmt: skip
                    added = quantile(samples["registry"], q) - floor
                    target = " (target <= 1000)" if q == 0.5 else ""
                    row(f"the round trip adds, {label}{target}", added, "µs")

            served.submit(echo.close())
            banner(f"(b) calls per second, {IN_FLIGHT} in flight (best of {args.rounds} rounds)")
            for kind in ("async", "sync"):
                name = f"echo_{kind}"
                remote_rate = local_rate = 0.0
                for _ in range(args.rounds):
                    remote_rate = max(
                        remote_rate,
                        served.submit(rate(calls(name)["registry"], IN_FLIGHT, args.seconds)),
                    )
                    local_rate = max(
                        local_rate,
                        served.submit(rate(calls(name)["local"], IN_FLIGHT, args.seconds)),
                    )
                row(
                    f"remote {kind} action, one worker connection",
                    remote_rate, "calls/s", local_rate, f"local {kind} handler",
                )  # fmt: skip


if __name__ == "__main__":
    main()
