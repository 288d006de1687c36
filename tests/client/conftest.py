"""A fake soni WebSocket endpoint per test (the real one is tested in tests/server)."""

from collections.abc import Iterator

import pytest

from ._fake_server import FakeServer, Seen, build_app, serve


@pytest.fixture
def fake_server() -> Iterator[FakeServer]:
    """A fake endpoint of this test's own, on real uvicorn on a free port."""
    seen = Seen()
    with serve(build_app(seen)) as base:
        yield FakeServer(base.replace("http://", "ws://", 1) + "/ws", seen)
