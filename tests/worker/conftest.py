"""A real WebSocket server per test (tests/worker/_server.py), on a free port of 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ._server import FakeServer


@pytest.fixture
async def server() -> AsyncIterator[FakeServer]:
    started = FakeServer()
    await started.start()
    try:
        yield started
    finally:
        await started.stop()
