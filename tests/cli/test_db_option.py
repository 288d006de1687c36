"""`--db` of `soni chat` and `soni serve`: a path SQLite cannot use is one red line."""

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
