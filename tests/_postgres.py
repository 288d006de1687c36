"""A real PostgreSQL for the tests that need one: a throwaway database per test.

The server is the one at ``SONI_TEST_POSTGRES`` (a connection URL to a database
the tests may create databases from; default: the local server on 127.0.0.1:5432
as ``postgres``). Each test gets its own database, created empty and dropped
(connections and all) at its end, so tests running in parallel (``-n auto``) never
share advisory locks, LISTEN/NOTIFY channels or rows.

Without a reachable server these tests skip, with one line saying why; with
``CI=true`` they fail instead: CI must not pass with the PostgreSQL suites unrun.
"""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

__all__ = (
    "BACKENDS",
    "create_database",
    "drop_database",
    "postgres_database",
    "postgres_server",
    "require_postgres",
)

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"

BACKENDS = ("sqlite", "postgres")
"""The backends a suite parametrised over storage runs on (``backend`` fixtures).

A test about SQLite's own files is marked ``@pytest.mark.sqlite_only``: its
``postgres`` case is not collected."""


def postgres_server() -> str:
    """The URL of the database the tests connect to in order to create theirs."""
    return os.environ.get("SONI_TEST_POSTGRES", DEFAULT_SERVER)


@functools.cache
def _unavailable() -> str | None:
    """Why PostgreSQL cannot be used here, or ``None`` when it can."""
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - psycopg is a dependency
        return f"psycopg is not installed ({exc})"
    try:
        with psycopg.connect(postgres_server(), connect_timeout=3, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"no PostgreSQL at {_shown(postgres_server())}: {first}"
    return None


def require_postgres() -> None:
    """Skip the calling test (fail it under ``CI=true``) when PostgreSQL is not there."""
    reason = _unavailable()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the PostgreSQL suites must run)", pytrace=False)
    pytest.skip(f"PostgreSQL suites skipped: {reason}")


def _shown(url: str) -> str:
    """A URL without its password, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    user = f"{parts.username}@" if parts.username else ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit((parts.scheme, f"{user}{host}{port}", parts.path, "", ""))


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


@functools.cache
def _worker_tag() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def create_database(*, with_schema: bool = False) -> str:
    """Create a database; returns its URL. Drop it with ``drop_database``.

    Empty by default; ``with_schema`` copies a template holding soni's tables
    (made once per schema and server), which saves each bot of a test the
    migrations — a second or so per database.
    """
    import psycopg

    require_postgres()
    name = f"soni_test_{_worker_tag()}_{secrets.token_hex(6)}"
    template = f' TEMPLATE "{_template()}"' if with_schema else ""
    with psycopg.connect(postgres_server(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{template}')
    return _with_database(postgres_server(), name)


@functools.cache
def _template() -> str:
    """A database holding soni's tables, for ``create_database(with_schema=True)``.

    Named after the schema's sources, so a change to them makes a new one; made by
    whichever test process asks first, under an advisory lock the others wait on.
    """
    import asyncio
    import hashlib
    from concurrent.futures import ThreadPoolExecutor
    from importlib.metadata import version
    from pathlib import Path

    import psycopg

    import soni

    root = Path(soni.__file__).parent
    sources = [
        root / "confirmations" / "stores" / "_postgres_schema.py",
        root / "storage" / "journal_postgres.py",
        root / "postgres.py",
        root / "storage" / "retention_postgres.py",
    ]
    digest = hashlib.sha256(version("langgraph-checkpoint-postgres").encode())
    for source in sources:
        digest.update(source.read_bytes())
    name = f"soni_test_template_{digest.hexdigest()[:12]}"
    with psycopg.connect(postgres_server(), autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext('soni test template'))")
        try:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if exists.fetchone() is None:
                building = f"{name}_building_{secrets.token_hex(4)}"
                conn.execute(f'CREATE DATABASE "{building}"')
                url = _with_database(postgres_server(), building)
                # On a thread of its own: the caller may be inside a running loop.
                with ThreadPoolExecutor(1) as thread:
                    thread.submit(lambda: asyncio.run(_migrate(url))).result()
                conn.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext('soni test template'))")
    return name


async def _migrate(url: str) -> None:
    from soni.storage import open_storage

    storage = await open_storage(url, listen=False)
    await storage.close()


def drop_database(url: str) -> None:
    """Drop a database ``create_database`` made, closing whatever is still connected."""
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(postgres_server(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL database, dropped after the test."""
    url = create_database()
    try:
        yield url
    finally:
        drop_database(url)


@pytest.fixture
def postgres_with_schema() -> Iterator[str]:
    """The URL of a fresh PostgreSQL database holding soni's tables, dropped after the test."""
    url = create_database(with_schema=True)
    try:
        yield url
    finally:
        drop_database(url)
