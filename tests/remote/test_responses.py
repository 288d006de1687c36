"""The command response registry: every waiter gets its own response, exactly once,
whichever thread hands it in and whenever it arrives."""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from soni.remote import CommandTimeout, DuplicateCommand, PendingCommand, ResponseRegistry


class FakeClock:
    """Time as a dependency: tests move it instead of sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_response_that_arrives_before_the_caller_awaits_is_not_lost() -> None:
    registry = ResponseRegistry()
    handle = registry.register("cmd-1")

    assert registry.resolve("cmd-1", {"ok": True, "result": 1})

    assert await registry.wait(handle) == {"ok": True, "result": 1}
    assert registry.pending == 0


async def test_a_waiter_gets_the_response_resolved_while_it_waits() -> None:
    registry = ResponseRegistry()
    handle = registry.register(timeout=5)
    waiter = asyncio.create_task(registry.wait(handle))
    await asyncio.sleep(0)  # the waiter is parked on the future

    assert registry.resolve(handle.command_id, {"ok": True})

    assert await waiter == {"ok": True}


async def test_register_makes_fresh_ids_and_refuses_one_already_waiting() -> None:
    registry = ResponseRegistry()
    first, second = registry.register(), registry.register()

    assert first.command_id != second.command_id
    assert first.command_id.startswith("cmd-")
    with pytest.raises(DuplicateCommand, match="already waiting"):
        registry.register(first.command_id)
    assert registry.pending == 2


async def test_fail_raises_the_exception_in_the_waiter() -> None:
    registry = ResponseRegistry()
    handle = registry.register("cmd-1")

    assert registry.fail("cmd-1", ConnectionError("worker gone"))

    with pytest.raises(ConnectionError, match="worker gone"):
        await registry.wait(handle)
    assert registry.pending == 0


async def test_cancel_cancels_the_waiter_and_removes_the_entry() -> None:
    registry = ResponseRegistry()
    handle = registry.register("cmd-1")
    waiter = asyncio.create_task(registry.wait(handle))
    await asyncio.sleep(0)

    assert registry.cancel("cmd-1")
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert registry.pending == 0
    assert not registry.cancel("cmd-1")


async def test_a_cancelled_waiter_removes_its_entry() -> None:
    registry = ResponseRegistry()
    handle = registry.register("cmd-1")
    waiter = asyncio.create_task(registry.wait(handle))
    await asyncio.sleep(0)

    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter

    assert registry.pending == 0
    assert "cmd-1" not in registry


async def test_wait_times_out_with_a_typed_error_and_forgets_the_command() -> None:
    registry = ResponseRegistry()
    handle = registry.register("cmd-1", timeout=0.01)

    with pytest.raises(CommandTimeout, match=r"no response to command 'cmd-1' within 0.01 s"):
        await registry.wait(handle)

    assert registry.pending == 0
    assert not registry.resolve("cmd-1", {"late": True})


async def test_cleanup_expired_fails_only_the_commands_past_their_deadline() -> None:
    clock = FakeClock()
    registry = ResponseRegistry(clock=clock)
    short = registry.register("short", timeout=5)
    long = registry.register("long", timeout=60)
    forever = registry.register("forever")

    clock.now += 10
    assert registry.cleanup_expired() == 1

    with pytest.raises(CommandTimeout) as caught:
        await registry.wait(short)
    assert caught.value.command_id == "short" and caught.value.timeout == 5
    assert registry.pending == 2
    assert registry.cleanup_expired(now=clock.now + 100) == 1  # long; forever never expires
    with pytest.raises(CommandTimeout):
        await registry.wait(long)
    assert registry.pending == 1
    registry.resolve("forever", {"ok": True})
    assert await registry.wait(forever) == {"ok": True}


async def test_pending_counts_the_commands_waiting() -> None:
    registry = ResponseRegistry()
    handles = [registry.register() for _ in range(5)]
    assert registry.pending == 5

    registry.resolve(handles[0].command_id, {})
    registry.fail(handles[1].command_id, RuntimeError("x"))
    registry.cancel(handles[2].command_id)

    assert registry.pending == 2


async def test_a_response_for_a_command_never_sent_is_ignored_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry = ResponseRegistry()
    handle = registry.register("cmd-1")
    caplog.set_level(logging.DEBUG, logger="soni.remote")

    assert not registry.resolve("cmd-never", {"ok": True})
    assert not registry.fail("cmd-never-either", RuntimeError())

    assert "'cmd-never', which was never sent" in caplog.text
    assert registry.pending == 1
    registry.resolve("cmd-1", {"ok": True})
    assert await registry.wait(handle) == {"ok": True}


async def test_a_second_response_for_a_finished_command_is_ignored_at_debug_level(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry = ResponseRegistry()
    handle = registry.register("cmd-1")
    caplog.set_level(logging.DEBUG, logger="soni.remote")

    assert registry.resolve("cmd-1", {"n": 1})
    assert not registry.resolve("cmd-1", {"n": 2})

    assert await registry.wait(handle) == {"n": 1}
    stray = [r for r in caplog.records if "cmd-1" in r.getMessage()]
    assert [r.levelno for r in stray] == [logging.DEBUG]
    assert "already finished" in stray[0].getMessage()


async def test_fail_where_fails_every_command_of_one_owner_only() -> None:
    registry = ResponseRegistry()
    lost = [registry.register(owner="worker-a") for _ in range(3)]
    kept = registry.register(owner="worker-b")

    failed = registry.fail_where(
        lambda handle: handle.owner == "worker-a", ConnectionError("worker-a disconnected")
    )

    assert failed == 3
    for handle in lost:
        with pytest.raises(ConnectionError, match="worker-a disconnected"):
            await registry.wait(handle)
    assert registry.pending == 1
    registry.resolve(kept.command_id, {"ok": True})
    assert await registry.wait(kept) == {"ok": True}


async def test_resolving_from_another_thread_reaches_the_waiter_on_its_loop() -> None:
    registry = ResponseRegistry()
    handle = registry.register(timeout=5)
    answered = threading.Event()

    def answer() -> None:
        answered.set()
        registry.resolve(handle.command_id, {"from": threading.current_thread().name})

    thread = threading.Thread(target=answer, name="answerer")
    thread.start()
    payload = await registry.wait(handle)
    thread.join()

    assert payload == {"from": "answerer"}


async def test_thousands_of_commands_resolved_from_many_tasks_each_get_their_own_payload() -> None:
    registry = ResponseRegistry()
    handles = [registry.register(timeout=30) for _ in range(3000)]

    async def answer(handle: PendingCommand) -> None:
        await asyncio.sleep(0)
        assert registry.resolve(handle.command_id, {"id": handle.command_id})

    waiters = [asyncio.create_task(registry.wait(h)) for h in handles]
    # Answered in reverse, half of them before their waiter first runs.
    await asyncio.gather(*(answer(h) for h in reversed(handles)))
    payloads = await asyncio.gather(*waiters)

    assert [p["id"] for p in payloads] == [h.command_id for h in handles]
    assert registry.pending == 0


async def test_thousands_of_commands_resolved_from_many_threads_each_get_their_own_payload() -> (
    None
):
    registry = ResponseRegistry()
    handles = [registry.register(timeout=30) for _ in range(4000)]
    waiters = [asyncio.create_task(registry.wait(h)) for h in handles]
    start = threading.Barrier(8)

    def answer(chunk: list[PendingCommand]) -> int:
        start.wait()
        return sum(registry.resolve(h.command_id, {"id": h.command_id}) for h in chunk)

    chunks = [handles[i::8] for i in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        resolved = await asyncio.gather(
            *(asyncio.wrap_future(pool.submit(answer, chunk)) for chunk in chunks)
        )
    payloads = await asyncio.gather(*waiters)

    assert sum(resolved) == 4000
    assert [p["id"] for p in payloads] == [h.command_id for h in handles]
    assert registry.pending == 0


async def test_two_threads_racing_to_answer_one_command_resolve_it_once() -> None:
    registry = ResponseRegistry()
    handles = [registry.register(timeout=30) for _ in range(500)]

    def answer(tag: str) -> int:
        return sum(registry.resolve(h.command_id, {"by": tag}) for h in handles)

    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = await asyncio.gather(
            asyncio.wrap_future(pool.submit(answer, "a")),
            asyncio.wrap_future(pool.submit(answer, "b")),
        )
    payloads = await asyncio.gather(*(registry.wait(h) for h in handles))

    assert sum(counts) == 500
    by_a = sum(p["by"] == "a" for p in payloads)
    assert by_a == counts[0]


def test_register_outside_an_event_loop_is_an_error() -> None:
    with pytest.raises(RuntimeError):
        ResponseRegistry().register()


def test_resolving_a_command_whose_loop_has_closed_is_harmless() -> None:
    registry = ResponseRegistry()

    async def register() -> PendingCommand:
        return registry.register("cmd-1")

    asyncio.run(register())

    assert not registry.resolve("cmd-1", {"late": True})
    assert registry.pending == 0
