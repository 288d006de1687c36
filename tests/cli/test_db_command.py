"""`soni db migrate` and `soni db status`, on a SQLite file and on a real PostgreSQL database."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from typer.testing import CliRunner, Result

from soni.cli import app
from soni.confirmations.stores.sqlite import SCHEMA_VERSION

runner = CliRunner()


def db(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return runner.invoke(app, ["db", *args], env={"SONI_DB": None, **(env or {})})


def one_error_line(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    return lines[0]


def with_password(url: str, password: str) -> str:
    """``url`` with a password for its user (the local server trusts, so it is ignored)."""
    parts = urlsplit(url)
    netloc = f"{parts.username}:{password}@{parts.hostname}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


# -- SQLite -----------------------------------------------------------------------------


def test_migrate_creates_a_sqlite_database_then_finds_it_up_to_date(tmp_path: Path) -> None:
    state = tmp_path / "new" / "state.db"

    first = db("migrate", "--db", str(state))
    again = db("migrate", "--db", str(state))

    assert first.exit_code == 0, first.output
    assert first.stdout == (
        f"migrated {state} (sqlite)\n  confirmations  none → {SCHEMA_VERSION}\n"
    )
    assert state.is_file()
    assert again.exit_code == 0, again.output
    assert again.stdout == f"up to date: {state} (sqlite)\n  confirmations  {SCHEMA_VERSION}\n"


def test_status_of_a_sqlite_database_counts_every_table(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    assert db("migrate", "--db", str(state)).exit_code == 0

    shown = db("status", "--db", str(state))
    data = db("status", "--db", str(state), "--json")

    assert shown.exit_code == 0, shown.output
    assert shown.stdout.splitlines()[:4] == [
        "backend   sqlite",
        f"location  {state}",
        f"schema    confirmations {SCHEMA_VERSION}",
        "rows",
    ]
    assert data.exit_code == 0, data.output
    assert json.loads(data.stdout) == {
        "backend": "sqlite",
        "location": str(state),
        "schema": {"confirmations": SCHEMA_VERSION},
        "rows": {
            "checkpoints": 0,
            "writes": 0,
            "confirmations": 0,
            "confirmation_history": 0,
            "soni_action_runs": 0,
            "soni_conversation_generations": 0,
        },
    }


def test_soni_db_reads_the_database_from_soni_db(tmp_path: Path) -> None:
    state = tmp_path / "state.db"

    done = db("migrate", env={"SONI_DB": str(state)})

    assert done.exit_code == 0, done.output
    assert state.is_file()


def test_status_never_creates_a_database(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE notes (body TEXT)").connection.close()

    refused = db("status", "--db", str(missing))
    assert one_error_line(refused) == f"error: no such database: {missing}"
    assert one_error_line(db("status", "--db", str(other))) == (
        f"error: {other} holds no soni tables: create them with soni db migrate --db {other}"
    )
    assert not missing.exists()


def test_a_sqlite_database_from_a_newer_soni_is_one_line(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    assert db("migrate", "--db", str(state)).exit_code == 0
    with sqlite3.connect(state) as conn:
        conn.execute("PRAGMA user_version = 99")

    refused = db("migrate", "--db", str(state))

    assert refused.exit_code == 1
    assert one_error_line(refused) == f"error: {state} was written by a newer soni (schema 99)"


def test_memory_and_files_that_are_not_databases_are_refused(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database, but long enough for SQLite to look at its header\n" * 2)

    memory = db("migrate", "--db", ":memory:")
    folder = db("migrate", "--db", str(tmp_path))
    text = db("migrate", "--db", str(notes))
    missing = db("status")

    assert memory.exit_code == 2
    assert one_error_line(memory) == (
        "error: --db :memory: keeps nothing to migrate; give a SQLite file or a postgresql:// URL"
    )
    assert folder.exit_code == 1
    assert one_error_line(folder) == (
        f"error: --db {tmp_path} is a folder; give a SQLite file (created if missing)"
    )
    assert one_error_line(text) == (
        f"error: {notes} cannot be read as a SQLite database: file is not a database"
    )
    assert missing.exit_code == 2  # --db is required (or SONI_DB)
    assert "Missing option '--db'" in missing.output


# -- PostgreSQL -------------------------------------------------------------------------


def test_migrate_then_status_on_a_fresh_postgresql_database(postgres_database: str) -> None:
    url = with_password(postgres_database, "s3cret")

    first = db("migrate", "--db", url, "--json")
    again = db("migrate", "--db", url)
    status = db("status", "--db", url, "--json")
    text = db("status", "--db", url)

    assert first.exit_code == 0, first.output
    migrated = json.loads(first.stdout)
    assert migrated["backend"] == "postgres"
    assert migrated["before"] == {}
    assert migrated["migrated"] is True
    assert {"checkpoints", "confirmations"} <= set(migrated["after"])
    assert all(version > 0 for version in migrated["after"].values())
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith("up to date: ")
    assert status.exit_code == 0, status.output
    found = json.loads(status.stdout)
    assert found["schema"] == migrated["after"]
    assert {"checkpoints", "confirmations", "confirmation_history"} <= set(found["rows"])
    assert set(found["rows"].values()) == {0}
    assert text.stdout.startswith(f"backend   postgres\nlocation  {found['location']}\n")
    # The password is never shown: not in the location, not anywhere.
    assert found["location"] == migrated["location"] == postgres_database
    for result in (first, again, status, text):
        assert "s3cret" not in result.output


def test_status_of_a_postgresql_database_without_soni_tables_says_to_migrate(
    postgres_database: str,
) -> None:
    refused = db("status", "--db", postgres_database)

    assert refused.exit_code == 1
    assert one_error_line(refused) == (
        f"error: the PostgreSQL database {postgres_database} has no soni tables yet:"
        f" run `soni db migrate --db {postgres_database}`"
    )


def test_a_postgresql_database_from_a_newer_soni_is_one_line(postgres_database: str) -> None:
    assert db("migrate", "--db", postgres_database).exit_code == 0
    with psycopg.connect(postgres_database, autocommit=True) as conn:
        conn.execute("UPDATE soni_schema SET version = 99 WHERE component = 'confirmations'")

    refused = db("migrate", "--db", postgres_database)

    assert refused.exit_code == 1
    line = one_error_line(refused)
    assert "newer soni" in line
    assert "99" in line


def test_an_unreachable_postgresql_database_is_one_line_without_its_password() -> None:
    url = "postgresql://soni:s3cret@127.0.0.1:1/soni"

    for command in ("migrate", "status"):
        refused = db(command, "--db", url)

        assert refused.exit_code == 1
        line = one_error_line(refused)
        assert line.startswith(
            "error: cannot reach the PostgreSQL database postgresql://soni@127.0.0.1:1/soni: "
        )
        assert "s3cret" not in refused.output
