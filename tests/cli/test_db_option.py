"""`--db` of `soni chat` and `soni serve`: a SQLite file, a PostgreSQL URL, or SONI_DB.

What cannot be used is one red line, before the bot starts; a URL is never shown
with its password.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from soni.cli import app

from .test_chat import handlers

BANKING = Path(__file__).resolve().parents[2] / "examples" / "banking"

runner = CliRunner()


@pytest.mark.parametrize("command", ["chat", "serve"])
def test_a_folder_is_refused_before_the_bot_starts(command: str, tmp_path: Path) -> None:
    done = runner.invoke(app, [command, str(BANKING), "--db", str(tmp_path)], input="/quit\n")
    assert done.exit_code == 1
    assert done.stderr == (
        f"error: --db {tmp_path} is a folder; give a SQLite file (created if missing)\n"
    )
    assert "Traceback" not in done.output


@pytest.mark.parametrize("command", ["chat", "serve"])
def test_a_file_that_is_not_sqlite_is_refused(command: str, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database, but long enough for SQLite to look at its header\n" * 2)
    done = runner.invoke(app, [command, str(BANKING), "--db", str(notes)], input="/quit\n")
    assert done.exit_code == 1
    assert done.stderr == (
        f"error: {notes} cannot be read as a SQLite database: file is not a database\n"
    )


def test_a_new_file_is_still_created(tmp_path: Path) -> None:
    handlers("banking")
    db = tmp_path / "more" / "state.db"
    done = runner.invoke(app, ["chat", str(BANKING), "--db", str(db)], input="/quit\n")
    assert done.exit_code == 0, done.output
    assert db.exists()


@pytest.mark.parametrize("command", ["chat", "serve"])
def test_an_unreachable_postgresql_url_is_one_line_without_its_password(command: str) -> None:
    url = "postgresql://soni:s3cret@127.0.0.1:1/soni"

    done = runner.invoke(app, [command, str(BANKING), "--db", url], input="/quit\n")

    assert done.exit_code == 1
    assert done.stderr.startswith(
        "error: cannot reach the PostgreSQL database postgresql://soni@127.0.0.1:1/soni: "
    )
    assert done.stderr.count("\n") == 1
    assert "s3cret" not in done.output
    assert "Traceback" not in done.output


@pytest.mark.parametrize("command", ["chat", "serve"])
def test_soni_db_is_read_when_db_is_not_given(command: str, tmp_path: Path) -> None:
    # A folder: refused the same way, so the command never gets to serve.
    done = runner.invoke(
        app, [command, str(BANKING)], input="/quit\n", env={"SONI_DB": str(tmp_path)}
    )

    assert done.exit_code == 1
    assert done.stderr == (
        f"error: --db {tmp_path} is a folder; give a SQLite file (created if missing)\n"
    )


def test_chat_keeps_its_conversation_in_the_soni_db_file(tmp_path: Path) -> None:
    handlers("banking")
    db = tmp_path / "state.db"
    done = runner.invoke(app, ["chat", str(BANKING)], input="/quit\n", env={"SONI_DB": str(db)})
    assert done.exit_code == 0, done.output
    assert db.exists()


def test_a_chat_on_postgresql_keeps_its_conversation_there(postgres_database: str) -> None:
    handlers("banking")
    script = "send 50 euros to Bob\n/quit\n"
    first = runner.invoke(
        app,
        ["chat", str(BANKING), "--db", postgres_database, "--conversation", "pg-1"],
        input=script,
    )
    again = runner.invoke(
        app,
        ["chat", str(BANKING), "--db", postgres_database, "--conversation", "pg-1"],
        input="/state\n/quit\n",
        env={"COLUMNS": "200"},
    )

    assert first.exit_code == 0, first.output
    assert "What is their IBAN?" in first.stdout
    assert again.exit_code == 0, again.output
    # The flow it left waiting, read back from PostgreSQL by another run of the command.
    assert "Continuing: flow transfer_funds" in again.stdout
