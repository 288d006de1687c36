"""Throwaway PostgreSQL databases for the benchmarks, on the server they are given."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

__all__ = ("shown", "throwaway_database", "throwaway_databases", "unreachable")


def shown(url: str) -> str:
    """``url`` without its password or options, for printing."""
    parts = urlsplit(url)
    host = f"{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}"
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit((parts.scheme, user + host, parts.path, "", ""))


def unreachable(url: str) -> str | None:
    """Why the PostgreSQL server at ``url`` cannot be used (its first line), or ``None``."""
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=3, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return None


@contextlib.contextmanager
def throwaway_databases(server: str, *roles: str) -> Iterator[dict[str, str]]:
    """One empty database per role, dropped (connections and all) at the end."""
    import psycopg

    made: dict[str, str] = {}
    parts = urlsplit(server)
    try:
        with psycopg.connect(server, autocommit=True) as conn:
            for role in roles:
                name = f"soni_bench_{role}_{secrets.token_hex(4)}"
                conn.execute(f'CREATE DATABASE "{name}"')
                made[role] = urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
        yield made
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            for url in made.values():
                name = urlsplit(url).path.lstrip("/")
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def throwaway_database(server: str) -> Iterator[str]:
    """One empty database, dropped at the end."""
    with throwaway_databases(server, "db") as made:
        yield made["db"]
