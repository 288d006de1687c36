"""Fixtures for the confirmation tests: every store, a registry factory, a fake clock.

Tests taking ``make_registry`` or ``registry`` run once per store kind: in memory,
in a SQLite file, and in a PostgreSQL database of their own (skipped, with a line
saying why, where no PostgreSQL server is reachable). Those that only make sense for
one kind say so with ``pytest.mark.parametrize("store_kind", [...], indirect=True)``.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from psycopg_pool import AsyncConnectionPool

from soni.confirmations import (
    ActionCall,
    Actor,
    ConfirmationEvent,
    ConfirmationRegistry,
    ConfirmationStore,
    MemoryConfirmationStore,
    PendingConfirmation,
    PostgresConfirmationStore,
    SqliteConfirmationStore,
    Status,
)

from ._pool import open_pool

STORE_KINDS = ("memory", "sqlite", "postgres")


class FakeClock:
    """A clock that moves only when told to; returns timezone-aware UTC datetimes."""

    def __init__(self, start: datetime = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)) -> None:
        self._lock = threading.Lock()
        self._now = start

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float = 0.0, **delta: float) -> datetime:
        with self._lock:
            self._now += timedelta(seconds=seconds, **delta)
            return self._now


RegistryFactory = Callable[..., ConfirmationRegistry]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=STORE_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
async def postgres_pool(
    store_kind: str, request: pytest.FixtureRequest
) -> AsyncIterator[AsyncConnectionPool[Any] | None]:
    """For ``postgres``: a pool on a fresh database with the store's tables; else ``None``."""
    if store_kind != "postgres":
        yield None
        return
    url = request.getfixturevalue("postgres_database")
    async with open_pool(url) as pool:
        await PostgresConfirmationStore(pool).setup()
        yield pool


@pytest.fixture
async def make_registry(
    store_kind: str,
    tmp_path: Path,
    clock: FakeClock,
    postgres_pool: AsyncConnectionPool[Any] | None,
) -> AsyncIterator[RegistryFactory]:
    """Build registries on fresh stores of ``store_kind``; all are closed after the test.

    ``path`` puts a SQLite store on a given file (to share one file between
    registries); on PostgreSQL every registry of a test shares the test's database,
    each with a store of its own on the test's pool. ``store`` uses the given store
    instead; other keywords go to ``ConfirmationRegistry``.
    """
    registries: list[ConfirmationRegistry] = []

    def make(
        *, path: Path | None = None, store: ConfirmationStore | None = None, **options: Any
    ) -> ConfirmationRegistry:
        if store is None:
            if store_kind == "memory":
                store = MemoryConfirmationStore()
            elif postgres_pool is not None:
                store = PostgresConfirmationStore(postgres_pool)
            else:
                store = SqliteConfirmationStore(path or tmp_path / f"store-{len(registries)}.db")
        options.setdefault("clock", clock)
        registry = ConfirmationRegistry(store, **options)
        registries.append(registry)
        return registry

    yield make
    for registry in registries:
        await registry.aclose()


@pytest.fixture
async def registry(make_registry: RegistryFactory) -> ConfirmationRegistry:
    # Made on the test's event loop: a PostgreSQL store belongs to its pool's loop.
    return make_registry()


SYSTEM = Actor(None, "system")
ALICE = Actor("alice", "chat")


async def register_transfer(
    registry: ConfirmationRegistry, *, amount: int = 10, **options: object
) -> tuple[PendingConfirmation, str]:
    options.setdefault("conversation_id", "conv-1")
    options.setdefault("user_id", "alice")
    return await registry.register(
        actions=[("transfer", {"amount": amount, "to": "bob"})],
        prompt=f"Send {amount} EUR to Bob?",
        **options,  # type: ignore[arg-type]
    )


async def register_choice(
    registry: ConfirmationRegistry, **options: object
) -> tuple[PendingConfirmation, str]:
    options.setdefault("conversation_id", "conv-1")
    return await registry.register(
        actions=[
            ("book_train", {"to": "Paris"}),
            ("book_flight", {"to": "Paris"}, "Fly"),
            ActionCall("book_bus", {"to": "Paris"}, label="Bus"),
        ],
        prompt="How do you want to travel?",
        **options,  # type: ignore[arg-type]
    )


def transitions(history: list) -> list[tuple[Status | None, Status]]:
    return [(entry.from_status, entry.to_status) for entry in history]


def record_events(registry: ConfirmationRegistry) -> list[ConfirmationEvent]:
    events: list[ConfirmationEvent] = []
    registry.subscribe(events.append)
    return events


def moves(events: list[ConfirmationEvent]) -> list[tuple[Status | None, Status]]:
    return [(event.from_status, event.to_status) for event in events]
