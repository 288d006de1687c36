"""``soni db``: create, upgrade and inspect the database a bot keeps its state in.

``migrate`` is what a deployment runs before it starts its servers (a systemd
``ExecStartPre=``, a release step). Servers migrate too when they start (``soni
serve --workers N`` once, before its workers; processes starting together take
turns under a lock), but a migration that fails is clearer on its own line.
``status`` tells an operator which schema a database holds and how much is in it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from soni.cli._app import app
from soni.cli._db import (
    DB_ENVVAR,
    check_db,
    check_postgres,
    check_soni_sqlite,
    is_url,
    migrated,
    run_storage,
    sqlite_version,
)
from soni.cli._output import console, fail, print_json

if TYPE_CHECKING:
    from soni.storage import StorageStatus

__all__ = ("migrate", "status")

database = typer.Typer(
    help="Create, upgrade and inspect a bot's database (SQLite or PostgreSQL).",
    no_args_is_help=True,
)
app.add_typer(database, name="db")

Location = Annotated[
    str,
    typer.Option(
        "--db",
        envvar=DB_ENVVAR,
        help="The database: a SQLite file or a postgresql:// URL.",
        show_default=False,
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON, for scripts.")]


@database.command()
def migrate(db: Location, as_json: AsJson = False) -> None:
    """Create or upgrade soni's tables; print the schema versions before and after."""
    if db == ":memory:":
        fail(
            "--db :memory: keeps nothing to migrate; give a SQLite file or a postgresql:// URL",
            code=2,
        )
    check_db(db)  # reachable, or a SQLite file (created if missing): one line if not
    before, after = run_storage(_migrate(db))
    migrated = dict(before) != dict(after.schema)
    if as_json:
        print_json(
            {
                "backend": after.backend,
                "location": after.location,
                "before": before,
                "after": dict(after.schema),
                "migrated": migrated,
            }
        )
        return
    headline = "migrated" if migrated else "up to date:"
    console.print(Text(f"{headline} {after.location} ({after.backend})"))
    width = max(len(name) for name in after.schema)
    for name, version in after.schema.items():
        was = before.get(name)
        change = str(version) if was == version else f"{_version(was)} → {version}"
        console.print(Text(f"  {name:<{width}}  {change}"))


@database.command()
def status(db: Location, as_json: AsJson = False) -> None:
    """Show the backend, the schema versions and the rows of each table."""
    if is_url(db):
        check_postgres(db)
    else:
        # Opening a SQLite file creates what is missing: status never does.
        check_soni_sqlite(
            Path(db), empty=f"holds no soni tables: create them with soni db migrate --db {db}"
        )
    found = run_storage(_status(db))
    if as_json:
        print_json(
            {
                "backend": found.backend,
                "location": found.location,
                "schema": dict(found.schema),
                "rows": dict(found.rows),
            }
        )
        return
    schema = ", ".join(f"{name} {version}" for name, version in found.schema.items())
    console.print(Text(f"backend   {found.backend}"))
    console.print(Text(f"location  {found.location}"))
    console.print(Text(f"schema    {schema or 'none'}"))
    console.print(Text("rows"))
    counts = {table: f"{count:,}" for table, count in found.rows.items()}
    width = max((len(table) for table in counts), default=0)
    digits = max((len(count) for count in counts.values()), default=0)
    for table, count in counts.items():
        console.print(Text(f"  {table:<{width}}  {count:>{digits}}"))


def _version(version: int | None) -> str:
    return "none" if not version else str(version)


async def _migrate(db: str) -> tuple[dict[str, int], StorageStatus]:
    """The schema versions before, and the status after creating or upgrading every table."""
    before = await _postgres_versions(db) if is_url(db) else _sqlite_versions(Path(db))
    return before, await migrated(db)


async def _postgres_versions(url: str) -> dict[str, int]:
    """What the database holds before migrating; nothing when soni's tables are not all there.

    Opened without creating anything: a database without soni's tables is refused
    then, which is what "before" is here. Any other problem shows when the
    migration itself opens the database.
    """
    from soni.errors import SoniError
    from soni.storage import open_storage

    try:
        storage = await open_storage(url, migrate=False, listen=False)
    except SoniError:
        return {}
    try:
        return dict((await storage.status()).schema)
    finally:
        await storage.close()


def _sqlite_versions(path: Path) -> dict[str, int]:
    version = sqlite_version(path)
    # As SqliteStorage.status names it: the confirmation store's version is the file's.
    return {"confirmations": version} if version else {}


async def _status(db: str) -> StorageStatus:
    from soni.storage import open_storage

    storage = await open_storage(db, migrate=False, listen=False)
    try:
        return await storage.status()
    finally:
        await storage.close()
