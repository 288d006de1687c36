"""PostgreSQL pools for tests, opened as soni's owner of a pool opens them."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from psycopg_pool import AsyncConnectionPool

__all__ = ("open_pool",)


@contextlib.asynccontextmanager
async def open_pool(url: str, *, max_size: int = 4) -> AsyncIterator[AsyncConnectionPool[Any]]:
    """A small pool on ``url`` (the server allows 100 connections; tests run 2 at a time)."""
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        url,
        min_size=1,
        max_size=max_size,
        open=False,
        kwargs={"autocommit": True, "prepare_threshold": 0},
    )
    await pool.open(wait=True, timeout=30)
    try:
        yield pool
    finally:
        await pool.close()
