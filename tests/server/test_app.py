"""The app factory, without a running server."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from soni import Bot
from soni.server import ServerSettings, create_app

from .conftest import EXAMPLES, InProcessServer


def test_apps_in_one_process_keep_their_own_metrics() -> None:
    # With prometheus-client's global registry the second app would raise.
    first = create_app(EXAMPLES / "banking", ServerSettings(), db=":memory:")
    second = create_app(EXAMPLES / "banking", ServerSettings(), db=":memory:")
    assert first.title == second.title == "soni"


async def test_before_start_up_the_app_is_alive_but_not_ready() -> None:
    app = create_app(EXAMPLES / "banking", ServerSettings(), db=":memory:")
    # The ASGI transport runs no lifespan: the bot is never loaded.
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://soni") as client:
        assert (await client.get("/health")).status_code == 200
        ready = await client.get("/ready")
        assert ready.status_code == 503
        assert ready.headers["content-type"] == "application/problem+json"
        assert (await client.get("/conversations/c")).status_code == 503


async def test_load_options_need_a_path(handlers: object) -> None:
    async with await Bot.load(EXAMPLES / "banking", db=":memory:") as bot:
        with pytest.raises(TypeError, match="db"):
            create_app(bot, db=":memory:")
        assert create_app(bot).title == "soni"


def test_settings_default_to_the_environment(
    handlers: object, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SONI_API_KEYS", "env-key=ann")
    server = InProcessServer(create_app(EXAMPLES / "banking", db=str(tmp_path / "s.db"))).start()
    try:
        with server.client() as anonymous, server.client("env-key") as ann:
            assert anonymous.get("/actions").status_code == 401
            assert ann.get("/actions").status_code == 200
    finally:
        server.stop()
