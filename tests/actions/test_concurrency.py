"""The concurrency contract: writes never get lost, reads see whole states, runs overlap."""

import asyncio
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from soni import ActionRegistry, ActionSpec


@pytest.fixture(autouse=True)
def _frequent_thread_switches() -> Iterator[None]:
    # Switching threads far more often than the default 5 ms makes a race that
    # exists show up within the few hundred operations each test performs.
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def handler() -> dict:
    return {"ok": True}


def _run_threads(count: int, target: Callable[[int], None]) -> list[BaseException]:
    """Run ``target(i)`` in ``count`` threads and return what they raised."""
    errors: list[BaseException] = []

    def guarded(index: int) -> None:
        try:
            target(index)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return errors


def test_concurrent_global_registrations_are_all_kept() -> None:
    barrier = threading.Barrier(10)

    def register(worker: int) -> None:
        barrier.wait()
        for i in range(100):
            ActionRegistry.register_global(f"w{worker}_a{i}", handler)

    assert _run_threads(10, register) == []

    expected = sorted(f"w{w}_a{i}" for w in range(10) for i in range(100))
    registry = ActionRegistry()
    assert registry.list_actions()["global"] == expected
    assert all(registry.get(name) is handler for name in expected)


def test_concurrent_local_registrations_on_one_instance_are_all_kept() -> None:
    registry = ActionRegistry()
    barrier = threading.Barrier(10)

    def register(worker: int) -> None:
        barrier.wait()
        for i in range(50):
            registry.register_local(f"w{worker}_a{i}", handler)

    assert _run_threads(10, register) == []

    expected = sorted(f"w{w}_a{i}" for w in range(10) for i in range(50))
    assert registry.list_actions() == {"global": [], "local": expected}
    assert all(name in registry for name in expected)


def test_concurrent_global_and_local_registrations_do_not_lose_each_other() -> None:
    registry = ActionRegistry()
    barrier = threading.Barrier(6)

    def register(worker: int) -> None:
        barrier.wait()
        for i in range(100):
            if worker % 2:
                ActionRegistry.register_global(f"g{worker}_{i}", handler)
            else:
                registry.register_local(f"l{worker}_{i}", handler)

    assert _run_threads(6, register) == []

    listed = registry.list_actions()
    assert listed["global"] == sorted(f"g{w}_{i}" for w in (1, 3, 5) for i in range(100))
    assert listed["local"] == sorted(f"l{w}_{i}" for w in (0, 2, 4) for i in range(100))
    assert len(registry) == 600


def test_readers_never_fail_while_writers_change_the_maps() -> None:
    registry = ActionRegistry()
    names = [f"act{i}" for i in range(20)]
    stop = threading.Event()

    def check_snapshot() -> None:
        snapshot = registry.list_actions()
        assert set(snapshot) == {"global", "local"}
        for names_in_map in snapshot.values():
            assert names_in_map == sorted(names_in_map)
            assert set(names_in_map) <= set(names)

    def read(_: int) -> None:
        while not stop.is_set():
            for name in names:
                found = registry.get(name)
                assert found is None or callable(found)
                assert isinstance(name in registry, bool)
                spec = registry.get_spec(name)
                assert spec is None or (
                    isinstance(spec, ActionSpec) and spec.name == name and callable(spec.handler)
                )
            check_snapshot()

    def write(worker: int) -> None:
        i = 0
        while not stop.is_set():
            name = names[i % len(names)]
            if worker == 0:
                ActionRegistry.register_global(name, handler)
                ActionRegistry.unregister(names[(i + 7) % len(names)])
                if i % 50 == 0:
                    ActionRegistry.clear_global()
            else:
                registry.register_local(name, handler)
                registry.unregister_local(names[(i + 3) % len(names)])
                if i % 50 == 0:
                    registry.clear_local()
            i += 1

    def role(index: int) -> None:
        try:
            if index < 3:
                read(index)
            else:
                write(index - 3)
        finally:
            stop.set()

    timer = threading.Timer(0.5, stop.set)
    timer.start()
    try:
        errors = _run_threads(5, role)
    finally:
        timer.cancel()

    assert errors == []


def test_clearing_and_refilling_is_never_seen_half_done() -> None:
    count = 200
    for i in range(count):
        ActionRegistry.register_global(f"act{i:03}", handler)
    full_map = dict(ActionRegistry._replace_global({}))
    ActionRegistry._replace_global(full_map)
    registry = ActionRegistry()
    stop = threading.Event()
    writers_done = 0
    done_lock = threading.Lock()

    def read() -> None:
        while not stop.is_set():
            size = len(registry.list_actions()["global"])
            assert size in (0, count), f"saw a partial map of {size} actions"

    def write() -> None:
        for _ in range(300):
            assert ActionRegistry.clear_global() in (0, count)
            ActionRegistry._replace_global(full_map)

    def role(index: int) -> None:
        nonlocal writers_done
        if index < 3:
            read()
            return
        try:
            write()
        finally:
            with done_lock:
                writers_done += 1
                if writers_done == 2:
                    stop.set()

    assert _run_threads(5, role) == []
    assert registry.list_actions()["global"] == sorted(full_map)


def test_each_snapshot_is_a_state_that_existed() -> None:
    # One writer registers act000, act001, ... in order, then unregisters them in the
    # same order: every state that exists is a prefix, then a suffix, of that order.
    count = 300
    order = [f"act{i:03}" for i in range(count)]
    registry = ActionRegistry()
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            listed = registry.list_actions()["global"]
            size = len(listed)
            assert listed in (order[:size], order[count - size :]), "not a state that existed"

    def write() -> None:
        try:
            for name in order:
                ActionRegistry.register_global(name, handler)
            for name in order:
                ActionRegistry.unregister(name)
        finally:
            done.set()

    def role(index: int) -> None:
        if index == 0:
            write()
        else:
            read()

    assert _run_threads(3, role) == []
    assert registry.list_actions()["global"] == []


async def test_many_concurrent_runs_of_a_sync_handler_overlap() -> None:
    registry = ActionRegistry()
    lock = threading.Lock()
    state = {"active": 0, "max_active": 0}

    both_running = threading.Barrier(2, timeout=5)

    def work(n: int) -> dict:
        with lock:
            state["active"] += 1
            state["max_active"] = max(state["max_active"], state["active"])
        try:
            if n < 2:
                both_running.wait()  # the first two meet: broken if they ran one by one
        finally:
            with lock:
                state["active"] -= 1
        return {"n": n}

    registry.register_local("work", work)

    results = await asyncio.gather(*(registry.run("work", {"n": n}) for n in range(1000)))

    assert [r["n"] for r in results] == list(range(1000))
    assert state["max_active"] > 1
    assert state["active"] == 0


async def test_event_loop_keeps_running_while_a_sync_handler_blocks() -> None:
    registry = ActionRegistry()
    started = threading.Event()
    release = threading.Event()

    def block() -> dict:
        started.set()
        release.wait(5)  # blocks until the loop, still running, lets it go
        return {"done": True}

    registry.register_local("block", block)
    action = asyncio.create_task(registry.run("block"))
    # Waiting for it is the event loop's own work: on the loop, the handler would hold
    # it until its 5 s are up, and the action would be done by then.
    assert await asyncio.to_thread(started.wait, 5)
    assert not action.done()
    release.set()

    assert await action == {"done": True}


def test_runs_from_several_threads_with_their_own_loops() -> None:
    registry = ActionRegistry()

    def double(x: int) -> dict:
        time.sleep(0.001)
        return {"x": x * 2}

    async def triple(x: int) -> dict:
        await asyncio.sleep(0)
        return {"x": x * 3}

    registry.register_local("double", double)
    ActionRegistry.register_global("triple", triple)
    results: dict[int, list[Any]] = {}

    def worker(index: int) -> None:
        async def main() -> list[Any]:
            calls = []
            for i in range(50):
                calls.append(registry.run("double", {"x": index * 1000 + i}))
                calls.append(registry.run("triple", {"x": index * 1000 + i}))
            return await asyncio.gather(*calls)

        results[index] = asyncio.run(main())

    assert _run_threads(4, worker) == []

    for index in range(4):
        expected: list[Any] = []
        for i in range(50):
            expected += [{"x": (index * 1000 + i) * 2}, {"x": (index * 1000 + i) * 3}]
        assert results[index] == expected
