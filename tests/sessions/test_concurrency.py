"""Many tasks and threads at once: every command is served once, in per-caller order."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from soni.engine import ConversationReset, TurnCompleted
from soni.sessions import SessionCommandError, SessionEvent, SessionRegistry

from .conftest import TIMEOUT, RegistryFactory, drain, take, turn

THREADS = 8


def check_turns(events: list[SessionEvent], conversations: list[str], turns: int) -> None:
    """Each conversation started once and its turns arrived in the order they were sent."""
    started = Counter(e.conversation_id for e in events if e.type == "session_started")
    assert started == Counter(conversations)
    for conversation_id in conversations:
        pendings = [
            e.data["pending"]
            for e in events
            if e.type == "turn" and e.conversation_id == conversation_id
        ]
        assert pendings == list(range(turns))


async def test_fifty_tasks_recording_turns_at_once(make_sessions: RegistryFactory) -> None:
    tasks, turns = 50, 20
    expected = tasks * (turns + 1) + tasks * turns + 1  # the shared conversation's too
    sessions = await make_sessions(queue_size=expected)
    conversations = [f"c{n}" for n in range(tasks)]

    async def chat(conversation_id: str) -> None:
        for n in range(turns):
            await turn(sessions, conversation_id, pending=n)
            await turn(sessions, "shared", pending=0)

    async with sessions.subscribe() as everything:
        reader = asyncio.create_task(take(everything, expected))
        async with sessions.subscribe("shared") as shared:
            shared_reader = asyncio.create_task(take(shared, tasks * turns + 1))
            await asyncio.wait_for(asyncio.gather(*(chat(c) for c in conversations)), TIMEOUT)
            shared_events = await shared_reader
        all_events = await reader

    check_turns([e for e in all_events if e.conversation_id != "shared"], conversations, turns)
    assert sum(e.type == "turn" for e in shared_events) == tasks * turns
    infos = await sessions.list()
    assert len(infos) == tasks + 1
    assert {i.conversation_id: i.pending for i in infos if i.conversation_id != "shared"} == {
        c: turns - 1 for c in conversations
    }


async def test_threads_recording_turns_through_run_coroutine_threadsafe(
    make_sessions: RegistryFactory,
) -> None:
    turns = 25
    sessions = await make_sessions(queue_size=THREADS * turns * 2 + 10)
    loop = asyncio.get_running_loop()
    conversations = [f"t{n}" for n in range(THREADS)]
    barrier = threading.Barrier(THREADS)

    def worker(conversation_id: str) -> None:
        barrier.wait(TIMEOUT)
        for n in range(turns):
            for target, pending in ((conversation_id, n), ("shared", 0)):
                future = asyncio.run_coroutine_threadsafe(
                    turn(sessions, target, pending=pending, user_id=conversation_id), loop
                )
                future.result(TIMEOUT)

    async with sessions.subscribe() as subscription:
        with ThreadPoolExecutor(THREADS) as pool:
            work = [loop.run_in_executor(pool, worker, c) for c in conversations]
            await asyncio.wait_for(asyncio.gather(*work), TIMEOUT)
        events = await take(subscription, THREADS * (turns * 2 + 1) + 1)

    check_turns([e for e in events if e.conversation_id != "shared"], conversations, turns)
    assert sum(e.type == "turn" and e.conversation_id == "shared" for e in events) == (
        THREADS * turns
    )
    infos = {i.conversation_id: i for i in await sessions.list()}
    assert sorted(infos) == sorted([*conversations, "shared"])
    assert all(infos[c].pending == turns - 1 and infos[c].user_id == c for c in conversations)


async def test_threads_awaiting_the_registry_on_their_own_event_loops(
    sessions: SessionRegistry,
) -> None:
    turns = 25
    conversations = [f"t{n}" for n in range(THREADS)]
    barrier = threading.Barrier(THREADS)

    async def chat(conversation_id: str) -> int:
        for n in range(turns):
            await turn(sessions, conversation_id, pending=n)
        info = await sessions.get(conversation_id)
        assert info is not None
        return info.pending

    def worker(conversation_id: str) -> int:
        barrier.wait(TIMEOUT)
        return asyncio.run(chat(conversation_id))

    loop = asyncio.get_running_loop()
    async with sessions.subscribe() as subscription:
        with ThreadPoolExecutor(THREADS) as pool:
            work = [loop.run_in_executor(pool, worker, c) for c in conversations]
            pendings = await asyncio.wait_for(asyncio.gather(*work), TIMEOUT)
        events = await take(subscription, THREADS * (turns + 1))

    assert pendings == [turns - 1] * THREADS
    check_turns(events, conversations, turns)
    assert len(await sessions.list()) == THREADS


async def test_threads_posting_turns_and_bot_events_without_waiting(
    make_sessions: RegistryFactory, caplog: pytest.LogCaptureFixture
) -> None:
    # Plain threads (no event loop of their own): post_turn and record hand their
    # calls to the registry's loop, and each thread's calls keep their order there.
    turns = 25
    sessions = await make_sessions(queue_size=THREADS * (turns * 2 + 2))
    conversations = [f"t{n}" for n in range(THREADS)]
    barrier = threading.Barrier(THREADS)

    def worker(conversation_id: str) -> None:
        barrier.wait(TIMEOUT)
        for n in range(turns):
            sessions.post_turn(
                conversation_id, status="active", pending=n, active_flow=None, user_id=None
            )
            sessions.record(
                TurnCompleted(conversation_id, "active", n, None, (), None, remote=True)
            )
        sessions.record(ConversationReset(conversation_id, remote=False))

    loop = asyncio.get_running_loop()
    loop.set_debug(True)  # touching the loop's queues from a worker thread raises
    async with sessions.subscribe() as subscription:
        with (
            ThreadPoolExecutor(THREADS) as pool,
            caplog.at_level(logging.ERROR, logger="soni.sessions"),
        ):
            # Already waiting when the events come: their delivery wakes it up.
            reader = asyncio.create_task(take(subscription, THREADS * (turns * 2 + 2)))
            work = [loop.run_in_executor(pool, worker, c) for c in conversations]
            await asyncio.wait_for(asyncio.gather(*work), TIMEOUT)
            events = await reader

    assert caplog.records == []

    for conversation_id in conversations:
        own = [e for e in events if e.conversation_id == conversation_id]
        assert [e.type for e in own] == ["session_started"] + ["turn"] * (turns * 2) + [
            "session_removed"
        ]
        assert [e.data["pending"] for e in own[1:-1]] == [n for n in range(turns) for _ in "ab"]
    assert await sessions.list() == []


async def test_calls_awaited_on_other_threads_loops_are_carried_out_on_the_registry_s(
    sessions: SessionRegistry,
) -> None:
    turns = 10
    conversations = [f"t{n}" for n in range(THREADS)]
    barrier = threading.Barrier(THREADS)

    async def chat(conversation_id: str) -> bool:
        for n in range(turns):
            await turn(sessions, conversation_id, pending=n)
        await sessions.publish(SessionEvent("confirmation_expired", conversation_id))
        return await sessions.remove(conversation_id, "reset")

    def worker(conversation_id: str) -> bool:
        barrier.wait(TIMEOUT)
        return asyncio.run(chat(conversation_id))

    loop = asyncio.get_running_loop()
    loop.set_debug(True)  # touching the loop's queues from a worker thread raises
    async with sessions.subscribe() as subscription:
        # Already waiting when the events come: their delivery wakes it up.
        reader = asyncio.create_task(take(subscription, THREADS * (turns + 3)))
        with ThreadPoolExecutor(THREADS) as pool:
            work = [loop.run_in_executor(pool, worker, c) for c in conversations]
            removed = await asyncio.wait_for(asyncio.gather(*work), TIMEOUT)
        events = await reader

    assert removed == [True] * THREADS
    for conversation_id in conversations:
        own = [e.type for e in events if e.conversation_id == conversation_id]
        assert own == ["session_started"] + ["turn"] * turns + [
            "confirmation_expired",
            "session_removed",
        ]
    check_turns([e for e in events if e.type != "session_removed"], conversations, turns)


async def test_stop_awaited_on_another_thread_s_loop(make_sessions: RegistryFactory) -> None:
    sessions = await make_sessions()
    subscription = sessions.subscribe()
    await subscription.open()
    reader = asyncio.create_task(drain(subscription))
    await turn(sessions, "c1")

    await asyncio.wait_for(asyncio.to_thread(asyncio.run, sessions.stop()), TIMEOUT)

    assert [e.type for e in await asyncio.wait_for(reader, TIMEOUT)] == ["session_started", "turn"]
    assert not sessions.running
    with pytest.raises(SessionCommandError, match="stopped"):
        await sessions.list()
