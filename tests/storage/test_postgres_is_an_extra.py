"""PostgreSQL support is the ``postgres`` extra: without it, a PostgreSQL URL is a
clear error naming the install command, and everything else works."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow  # each test runs a Python process of its own

# Blocks the extra's modules in a fresh interpreter, as if they were not installed.
WITHOUT_EXTRA = textwrap.dedent(
    """
    import sys
    for name in ("psycopg", "psycopg_pool", "langgraph.checkpoint.postgres"):
        sys.modules[name] = None
    """
)


def run(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRA + textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def test_a_postgres_url_without_the_extra_says_how_to_install_it() -> None:
    result = run(
        """
        import asyncio
        from soni import Bot, SoniError

        async def main():
            try:
                await Bot.load("examples/banking", db="postgresql://db.invalid/soni")
            except SoniError as exc:
                print(exc)

        asyncio.run(main())
        """
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "PostgreSQL support is not installed (no psycopg, psycopg-pool, "
        "langgraph-checkpoint-postgres): pip install 'soni[postgres]'"
    )


def test_a_bot_on_sqlite_runs_without_the_extra(tmp_path: Path) -> None:
    result = run(
        """
        import asyncio, sys
        from soni import Bot

        async def main():
            bot = await Bot.load("examples/banking", db=sys.argv[1])
            try:
                await bot.handle("c1", "what is my balance?")
                reply = await bot.handle("c1", "checking")
                print(reply.replies[0].text)
            finally:
                await bot.aclose()

        asyncio.run(main())
        """,
        str(tmp_path / "state.db"),
    )

    assert result.returncode == 0, result.stderr
    assert "balance" in result.stdout.lower()
    assert "psycopg" not in result.stderr


def test_soni_db_status_without_the_extra_fails_in_one_line() -> None:
    result = run(
        """
        import sys
        from soni.cli import main
        sys.argv = ["soni", "db", "status", "--db", "postgresql://db.invalid/soni"]
        main()
        """
    )

    assert result.returncode != 0
    assert "pip install 'soni[postgres]'" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
