"""ThreadSafeEventLoop: one asyncio loop on its own thread, fed from any thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from soni.remote import LoopError, PendingCommand, ResponseRegistry, ThreadSafeEventLoop


@pytest.fixture
def loop() -> Iterator[ThreadSafeEventLoop]:
    started = ThreadSafeEventLoop(name="test-loop").start()
    yield started
    started.stop()


async def _where() -> str:
    await asyncio.sleep(0)
    return threading.current_thread().name


def test_start_returns_once_the_loop_runs_on_its_own_daemon_thread(
    loop: ThreadSafeEventLoop,
) -> None:
    assert loop.running
    assert loop.loop.is_running()
    assert loop.run(_where()) == "test-loop"
    assert not loop.in_loop_thread


def test_submit_from_many_threads_runs_every_coroutine_on_the_loop(
    loop: ThreadSafeEventLoop,
) -> None:
    async def square(n: int) -> tuple[int, str]:
        await asyncio.sleep(0)
        return n * n, threading.current_thread().name

    with ThreadPoolExecutor(max_workers=16) as pool:
        futures = list(pool.map(lambda n: loop.submit(square(n)), range(500)))
        results = [future.result(timeout=10) for future in futures]

    assert [value for value, _ in results] == [n * n for n in range(500)]
    assert {thread for _, thread in results} == {"test-loop"}


def test_run_raises_the_coroutines_exception_in_the_caller(loop: ThreadSafeEventLoop) -> None:
    async def fail() -> None:
        raise LookupError("no account 'x'")

    with pytest.raises(LookupError, match="no account 'x'"):
        loop.run(fail())
    assert loop.run(_where()) == "test-loop"  # the loop survived it


def test_run_with_a_timeout_cancels_the_task(loop: ThreadSafeEventLoop) -> None:
    cancelled = threading.Event()

    async def hang() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(TimeoutError, match=r"did not finish within 0\.05 s"):
        loop.run(hang(), timeout=0.05)

    assert cancelled.wait(5)


def test_call_soon_runs_a_plain_callback_on_the_loop_thread(loop: ThreadSafeEventLoop) -> None:
    ran_on: list[str] = []
    done = threading.Event()

    def callback(tag: str) -> None:
        ran_on.append(f"{tag}@{threading.current_thread().name}")
        done.set()

    loop.call_soon(callback, "hello")

    assert done.wait(5)
    assert ran_on == ["hello@test-loop"]


def test_stop_cancels_the_tasks_still_running_and_joins_the_thread() -> None:
    loop = ThreadSafeEventLoop(name="stopping-loop").start()
    started, cancelled = threading.Event(), threading.Event()

    async def forever() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    future = loop.submit(forever())
    assert started.wait(5)

    loop.stop(timeout=5)

    assert cancelled.is_set()
    assert future.cancelled()
    assert not loop.running
    assert "stopping-loop" not in {t.name for t in threading.enumerate()}
    loop.stop()  # twice is harmless


def test_run_on_the_loops_own_thread_raises_instead_of_deadlocking(
    loop: ThreadSafeEventLoop,
) -> None:
    async def misuse() -> str:
        try:
            loop.run(_where())
        except LoopError as exc:
            return str(exc)
        return "no error"

    message = loop.run(misuse(), timeout=5)

    assert "own thread" in message and "await the coroutine instead" in message


def test_stop_on_the_loops_own_thread_raises(loop: ThreadSafeEventLoop) -> None:
    async def misuse() -> str:
        try:
            loop.stop()
        except LoopError as exc:
            return str(exc)
        return "no error"

    assert "from another thread" in loop.run(misuse(), timeout=5)
    assert loop.running


def test_a_loop_not_started_or_stopped_refuses_work_with_a_clear_error() -> None:
    loop = ThreadSafeEventLoop(name="idle")
    with pytest.raises(LoopError, match="not running: call start"):
        loop.submit(_where())
    with pytest.raises(LoopError, match="not running"):
        loop.call_soon(print)

    with loop:
        assert loop.run(_where()) == "idle"
    with pytest.raises(LoopError, match="not running"):
        loop.run(_where())


def test_starting_twice_is_an_error(loop: ThreadSafeEventLoop) -> None:
    with pytest.raises(LoopError, match="already running"):
        loop.start()


def test_commands_waiting_on_the_loop_are_resolved_from_other_threads(
    loop: ThreadSafeEventLoop,
) -> None:
    registry = ResponseRegistry()

    async def register(n: int) -> list[PendingCommand]:
        return [registry.register(timeout=10) for _ in range(n)]

    handles = loop.run(register(200))
    waiters = [loop.submit(registry.wait(handle)) for handle in handles]
    with ThreadPoolExecutor(max_workers=8) as pool:
        resolved = list(
            pool.map(lambda h: registry.resolve(h.command_id, {"id": h.command_id}), handles)
        )

    assert all(resolved)
    assert [w.result(timeout=10)["id"] for w in waiters] == [h.command_id for h in handles]
    assert registry.pending == 0
