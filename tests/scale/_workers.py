"""Several ``soni serve`` processes on one PostgreSQL database: the workers of a deployment.

Each worker is a ``SoniServer`` of its own (one process, one uvicorn worker, its
own port), all on the same database URL with the same ``SONI_SECRET``, as N hosts
behind a load balancer would be. They start together, in threads — which is also
how a deployment starts, every worker migrating the schema under its lock — and
whatever happens, every one of them is killed when the block ends.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.reliability._process import SoniServer

__all__ = ("SECRET", "WAIT", "client", "texts", "workers")

SECRET = "the scale suite's deployment secret, the same on every worker"
"""``SONI_SECRET`` of every worker: each derives the same confirmation tokens."""

WAIT = 30.0
"""Seconds any one step of a test may take (an HTTP answer, an event): generous,
the machine is shared; none is ever waited out when things work."""


@contextlib.contextmanager
def workers(
    bot: Path, db: str, count: int, *, cwd: Path, env: Mapping[str, str] | None = None
) -> Iterator[list[SoniServer]]:
    """``count`` running workers of ``bot`` on the database ``db``; all killed at the end."""
    servers = [
        SoniServer(bot, db, {"SONI_SECRET": SECRET, **dict(env or {})}, cwd=cwd)
        for _ in range(count)
    ]
    with contextlib.ExitStack() as stack:
        for server in servers:
            stack.enter_context(server)  # ends the process, however the block ends
        with ThreadPoolExecutor(count) as pool:
            for started in [pool.submit(server.start) for server in servers]:
                started.result()  # raises why a worker did not start, with its log
        yield servers


def client(server: SoniServer) -> httpx.AsyncClient:
    """An HTTP client of one worker, every request bounded."""
    return httpx.AsyncClient(base_url=server.url, timeout=WAIT * 2, trust_env=False)


def texts(response: httpx.Response) -> list[str]:
    """The replies of a turn or decision answer (the body, if it is not one)."""
    assert response.status_code == 200, response.text
    return [reply["text"] for reply in response.json()["replies"]]
