"""Worker.start() / stop() and ``with``: the worker on a loop thread of its own, for
programs that are not async. The server runs on another loop thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http import HTTPStatus

import pytest

from soni.actions import ActionRegistry
from soni.remote import ThreadSafeEventLoop
from soni.worker import Worker, WorkerError, WorkerStartTimeout, WorkerUnauthorized

from ._server import FakeServer


@pytest.fixture
def server_loop() -> Iterator[ThreadSafeEventLoop]:
    with ThreadSafeEventLoop(name="test-server") as loop:
        yield loop


@pytest.fixture
def server(server_loop: ThreadSafeEventLoop) -> Iterator[FakeServer]:
    started = FakeServer()
    server_loop.run(started.start(), timeout=5)
    yield started
    server_loop.run(started.stop(), timeout=5)


@pytest.fixture
def registry() -> ActionRegistry:
    registry = ActionRegistry()
    registry.register_local("add", lambda a, b: {"sum": a + b})
    return registry


def test_with_starts_on_its_own_thread_once_announced_and_stops_at_the_end(
    server: FakeServer, server_loop: ThreadSafeEventLoop, registry: ActionRegistry
) -> None:
    with Worker(server.url, registry=registry) as worker:
        assert worker.connected  # start() returned only once announced
        answer = server_loop.run(server.run("add", {"a": 1, "b": 2}), timeout=5)
        assert answer["result"] == {"sum": 3}

    assert not worker.connected
    assert not any(t.name.startswith("soni-worker") for t in threading.enumerate())
    with pytest.raises(WorkerError, match="already ran"):
        worker.start()


def test_start_raises_what_stopped_the_worker(server: FakeServer, registry: ActionRegistry) -> None:
    server.refuse_with = HTTPStatus.UNAUTHORIZED
    worker = Worker(server.url, registry=registry, api_key="nope", backoff=(0.01, 0.05))

    with pytest.raises(WorkerUnauthorized, match="HTTP 401"):
        worker.start(timeout=5)
    assert server.handshakes == 1


def test_start_gives_up_after_its_timeout_when_no_server_answers(
    server: FakeServer, server_loop: ThreadSafeEventLoop, registry: ActionRegistry
) -> None:
    server_loop.run(server.stop(), timeout=5)  # nothing listens there any more
    worker = Worker(server.url, registry=registry, backoff=(0.01, 0.02))

    with pytest.raises(WorkerStartTimeout, match=r"did not connect to .* within 0\.2 s"):
        worker.start(timeout=0.2)
    assert worker.stopping and not worker.connected
