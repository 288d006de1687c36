"""A key sent as ``?api_key=`` (browsers cannot set a WebSocket's headers) never
reaches the server's log: uvicorn logs each WebSocket's path with its query string."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from soni.server import ServerSettings

from .conftest import HTTP_LAYER, Serve

pytestmark = HTTP_LAYER


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextlib.contextmanager
def uvicorn_log() -> Iterator[Kept]:
    """What uvicorn's error logger (which logs WebSocket paths) writes, at INFO. Taken
    once the server runs: its start-up configures the logger afresh."""
    logger = logging.getLogger("uvicorn.error")
    kept, level = Kept(), logger.level
    logger.addHandler(kept)
    logger.setLevel(logging.INFO)
    try:
        yield kept
    finally:
        logger.removeHandler(kept)
        logger.setLevel(level)


async def test_a_key_in_the_query_string_is_redacted_from_the_log(serve: Serve) -> None:
    server = serve(settings=ServerSettings(api_keys={"sk-very-secret": "alice"}))
    ws_url = "ws" + server.url.removeprefix("http") + "/ws"
    with uvicorn_log() as log:
        async with connect(f"{ws_url}?api_key=sk-very-secret&x=1"):
            pass
        with pytest.raises(InvalidStatus):  # a refused key's line is redacted too
            async with connect(f"{ws_url}?x=1&api_key=sk-wrong"):
                pass
    lines = [line for line in log.lines if "WebSocket" in line]
    assert any("api_key=[redacted]&x=1" in line for line in lines), lines
    assert any("x=1&api_key=[redacted]" in line for line in lines), lines
    assert not any("sk-very-secret" in line or "sk-wrong" in line for line in log.lines)
