"""Stopping the expiry sweeper: a caller cancelled while stop waits for the sweep in
progress is cancelled, and a sweeper whose store was closed ends by itself, quietly.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

import pytest

from soni.confirmations import ConfirmationRegistry, ExpirySweeper, MemoryConfirmationStore

from .conftest import RegistryFactory

MEMORY_ONLY = pytest.mark.parametrize("store_kind", ["memory"], indirect=True)


class SlowPurgeStore(MemoryConfirmationStore):
    """A store whose purge waits to be released, and still finishes when cancelled."""

    def __init__(self) -> None:
        super().__init__()
        self.purging = asyncio.Event()
        self.release = asyncio.Event()

    async def purge(self, before: datetime) -> int:
        self.purging.set()
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            await self.release.wait()  # winding down takes a moment
            raise
        return await super().purge(before)


@MEMORY_ONLY
async def test_a_caller_cancelled_while_stopping_the_sweeper_is_cancelled(
    make_registry: RegistryFactory,
) -> None:
    store = SlowPurgeStore()
    registry = make_registry(store=store)
    sweeper = ExpirySweeper(registry, interval=0.01, purge_every=1)
    sweeper.start()
    try:
        await asyncio.wait_for(store.purging.wait(), 5)
        stopping = asyncio.create_task(sweeper.stop())
        done, _ = await asyncio.wait({stopping}, timeout=0.05)
        assert not done  # stop waits for the sweep in progress

        stopping.cancel()
        store.release.set()
        await asyncio.wait({stopping}, timeout=5)

        assert stopping.done()
        assert stopping.cancelled()
        assert not sweeper.running
    finally:
        store.release.set()
        await sweeper.stop()


async def test_the_sweeper_ends_by_itself_once_the_store_is_closed(
    registry: ConfirmationRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    sweeper = ExpirySweeper(registry, interval=0.01)
    with caplog.at_level(logging.INFO, logger="soni.confirmations"):
        sweeper.start()
        (task,) = [t for t in asyncio.all_tasks() if t.get_name() == "soni-confirmation-sweeper"]
        try:
            await registry.aclose()
            done, _ = await asyncio.wait([task], timeout=2.0)
            assert done, "the sweeper went on after the store was closed"
            assert not sweeper.running
        finally:
            await sweeper.stop()

    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
