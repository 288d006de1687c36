"""`soni confirmations`: list, show and decide in a bot's database, with no bot running.

A decision made here is read by the conversation's next turn, in whichever process
runs it: the approved action then runs there, once.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from soni import load_actions
from soni.cli import app
from soni.cli import confirmations as confirmations_cli
from soni.cli._confirm_view import moment, relative
from soni.confirmations import ConfirmationRegistry, SqliteConfirmationStore, Status
from soni.engine import Bot, TurnResult

from ..engine.conftest import EXAMPLES

IBAN = "DE89370400440532013000"
ROOT = Path(__file__).resolve().parents[2]

runner = CliRunner()


def cli(*args: str) -> Result:
    return runner.invoke(app, ["confirmations", *args], env={"COLUMNS": "200"})


def bank() -> ModuleType:
    return load_actions(EXAMPLES / "banking" / "actions.py")[0]


def sent_in(conversation: str) -> list[dict[str, object]]:
    return [t for t in bank().SENT if t["conversation"] == conversation]


def one_error_line(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    return lines[0]


async def _pending_transfer(db: Path | str, conversation: str) -> str:
    """The banking bot, run up to its transfer confirmation and closed."""
    async with await Bot.load(EXAMPLES / "banking", db=db) as bot:
        for text in ("send 50 euros to Bob", IBAN):
            result = await bot.handle(conversation, text, user_id="ann")
        assert result.status == "awaiting_confirmation"
        return result.pending[0].confirmation_id


def pending_transfer(db: Path | str, conversation: str = "c1") -> str:
    return asyncio.run(_pending_transfer(db, conversation))


async def _next_turn(db: Path, conversation: str, text: str) -> tuple[dict[str, Any], TurnResult]:
    """A new Bot on the file: the saved state before the turn, and the turn's answer."""
    async with await Bot.load(EXAMPLES / "banking", db=db) as bot:
        before = await bot.state(conversation)
        return before, await bot.handle(conversation, text, user_id="ann")


def next_turn(db: Path, conversation: str, text: str) -> tuple[dict[str, Any], TurnResult]:
    return asyncio.run(_next_turn(db, conversation, text))


async def _registry_call(db: Path, name: str, *args: Any, **kwargs: Any) -> Any:
    async with ConfirmationRegistry(SqliteConfirmationStore(db)) as registry:
        return await getattr(registry, name)(*args, **kwargs)


def registry_call(db: Path, name: str, *args: Any, **kwargs: Any) -> Any:
    return asyncio.run(_registry_call(db, name, *args, **kwargs))


def register(
    db: Path,
    *,
    ttl: float = 300,
    ago: float = 0,
    actions: Any = None,
    conversation: str = "c9",
    user: str = "zoe",
    prompt: str = "Do it?",
) -> str:
    """A confirmation registered straight in the store (created ``ago`` seconds back)."""

    async def run() -> str:
        then = datetime.now(UTC) - timedelta(seconds=ago)
        store = SqliteConfirmationStore(db)
        async with ConfirmationRegistry(store, clock=lambda: then) as registry:
            record, _token = await registry.register(
                conversation_id=conversation,
                user_id=user,
                actions=actions or [("execute_transfer", {"amount": 5})],
                prompt=prompt,
                ttl=ttl,
            )
        return record.id

    return asyncio.run(run())


# -- deciding, then the conversation's next turn --------------------------------------


def test_approve_is_read_by_the_next_turn_and_the_transfer_runs_once(
    handlers: Mapping[str, Any], tmp_path: Path
) -> None:
    db = tmp_path / "state.db"
    confirmation = pending_transfer(db)

    approved = cli("approve", confirmation, "--db", str(db))

    assert approved.exit_code == 0, approved.output
    assert approved.stdout.startswith(
        f"approved {confirmation}: 'execute_transfer' by cli via cli at "
    )
    record = registry_call(db, "get_by_id", confirmation)
    assert (record.status, record.decided_by.user_id, record.decided_by.channel) == (
        Status.APPROVED,
        "cli",
        "cli",
    )
    assert sent_in("c1") == []  # nothing runs until the conversation is read

    before, after = next_turn(db, "c1", "yes")

    # The saved state still waits on the confirmation: the decision is read by the turn.
    assert before["waiting"] == {"kind": "confirmation", "confirmation": confirmation}
    assert after.status == "ended"
    assert after.texts == [f"Done: 50 EUR sent to Bob. Reference TX-{confirmation[-8:]}."]
    assert [t["amount"] for t in sent_in("c1")] == [50.0]
    assert registry_call(db, "get_by_id", confirmation).status is Status.EXECUTED

    _, again = next_turn(db, "c1", "yes")
    assert "Done" not in " ".join(again.texts)
    assert len(sent_in("c1")) == 1


def test_any_next_message_resumes_the_conversation_not_only_a_yes(
    handlers: Mapping[str, Any], tmp_path: Path
) -> None:
    db = tmp_path / "state.db"
    confirmation = pending_transfer(db, "c2")
    assert cli("approve", confirmation, "--db", str(db)).exit_code == 0

    _, after = next_turn(db, "c2", "thanks")

    # The message itself means nothing here; the step after it reads the approval,
    # and what became of it is the whole answer.
    assert after.texts == [f"Done: 50 EUR sent to Bob. Reference TX-{confirmation[-8:]}."]
    assert len(sent_in("c2")) == 1


def test_skip_is_read_by_the_next_turn_and_nothing_runs(
    handlers: Mapping[str, Any], tmp_path: Path
) -> None:
    db = tmp_path / "state.db"
    confirmation = pending_transfer(db, "c3")

    # The confirmation the conversation waits on, without looking its id up first.
    skipped = cli("skip", "--conversation", "c3", "--db", str(db), "--actor", "ops-ann")

    assert skipped.exit_code == 0, skipped.output
    assert skipped.stdout.startswith(f"skipped {confirmation}: 'skip' by ops-ann via cli at ")
    _, after = next_turn(db, "c3", "hello")
    assert after.status == "ended"
    assert after.texts[-1:] == ["Nothing was sent."]
    assert sent_in("c3") == []
    assert registry_call(db, "get_by_id", confirmation).status is Status.SKIPPED


@pytest.mark.slow  # a Python process of its own
def test_a_real_process_approves_and_the_next_turn_runs_the_transfer(
    handlers: Mapping[str, Any], tmp_path: Path
) -> None:
    db = tmp_path / "state.db"
    confirmation = pending_transfer(db, "c4")

    done = subprocess.run(
        [sys.executable, "-m", "soni", "confirmations", "approve", confirmation, "--db", str(db)],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        done.stdout.splitlines()[0],
        "conversation c4 goes on with its next message",
    ]
    assert f"approved {confirmation}: 'execute_transfer' by cli via cli" in done.stdout
    _, after = next_turn(db, "c4", "yes")
    assert after.texts == [f"Done: 50 EUR sent to Bob. Reference TX-{confirmation[-8:]}."]
    assert len(sent_in("c4")) == 1


# -- refusals: one red line and an exit code each ---------------------------------------


def test_deciding_again_the_same_way_reports_the_recorded_decision(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    confirmation = register(db)
    assert cli("approve", confirmation, "--db", str(db)).exit_code == 0

    again = cli("approve", confirmation, "--db", str(db))

    assert again.exit_code == 0
    assert again.stdout.startswith("already approved: 'execute_transfer' by cli via cli at ")


def test_a_different_decision_after_one_was_recorded_exits_4(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    confirmation = register(db)
    assert cli("approve", confirmation, "--db", str(db), "--actor", "ann").exit_code == 0

    refused = cli("skip", confirmation, "--db", str(db))

    assert refused.exit_code == 4
    assert one_error_line(refused) == (
        f"error: confirmation {confirmation} was already decided:"
        " 'execute_transfer' by ann via cli (approved)"
    )


def test_an_unknown_id_exits_3(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    register(db)
    for args in (["approve", "nope"], ["skip", "nope"], ["show", "nope"], ["choose", "nope", "x"]):
        refused = cli(*args, "--db", str(db))
        assert refused.exit_code == 3, args
        assert one_error_line(refused) == f"error: no confirmation nope in {db}"


def test_by_conversation_it_must_wait_on_exactly_one(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    first = register(db)
    second = register(db)

    several = cli("approve", "--conversation", "c9", "--db", str(db))
    none = cli("approve", "--conversation", "c0", "--db", str(db))
    both = cli("approve", first, "--conversation", "c9", "--db", str(db))
    neither = cli("skip", "--db", str(db))

    assert several.exit_code == 2
    assert one_error_line(several) == (
        f"error: conversation c9 waits on 2 confirmations ({first}, {second}): give one's id"
    )
    assert none.exit_code == 3
    assert one_error_line(none) == "error: conversation c0 waits on no confirmation"
    for refused in (both, neither):
        assert refused.exit_code == 2
        assert one_error_line(refused) == (
            "error: give a confirmation id or --conversation (one of them)"
        )


def test_an_expired_confirmation_exits_5_and_is_recorded_as_expired(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    confirmation = register(db, ttl=60, ago=3600)

    refused = cli("approve", confirmation, "--db", str(db))

    assert refused.exit_code == 5
    assert one_error_line(refused) == (
        f"error: confirmation {confirmation} expired; nothing was decided"
    )
    assert registry_call(db, "get_by_id", confirmation).status is Status.EXPIRED


@pytest.mark.parametrize("withdraw", ["supersede", "cancel"])
def test_a_withdrawn_confirmation_exits_6(tmp_path: Path, withdraw: str) -> None:
    db = tmp_path / "state.db"
    confirmation = register(db)
    record = registry_call(db, "get_by_id", confirmation)
    registry_call(db, withdraw, record)

    refused = cli("skip", confirmation, "--db", str(db))

    assert refused.exit_code == 6
    assert one_error_line(refused).startswith(f"error: confirmation {confirmation} was ")


def test_choose_takes_an_offered_option_and_refuses_others_with_2(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    offers = [("archive_file", {"path": "a.txt"}), ("delete_file", {"path": "a.txt"}, "Delete it")]
    confirmation = register(db, actions=offers)

    vague = cli("approve", confirmation, "--db", str(db))
    wrong = cli("choose", confirmation, "shred_file", "--db", str(db))
    chosen = cli("choose", confirmation, "delete_file", "--db", str(db), "--json")

    assert vague.exit_code == 2
    assert "choose one of 'archive_file', 'delete_file'" in one_error_line(vague)
    assert wrong.exit_code == 2
    assert one_error_line(wrong).startswith("error: 'shred_file' is not an offered option")
    assert chosen.exit_code == 0, chosen.output
    data = json.loads(chosen.stdout)
    assert (data["status"], data["decision"], data["decided_by"]) == (
        "approved",
        "delete_file",
        {"user_id": "cli", "channel": "cli"},
    )


def test_choose_takes_an_option_by_its_label_as_the_chat_shows_it(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    offers = [("archive_file", {"path": "a.txt"}), ("delete_file", {"path": "a.txt"}, "Delete it")]
    confirmation = register(db, actions=offers)

    wrong_case = cli("choose", confirmation, "delete it", "--db", str(db))
    chosen = cli("choose", confirmation, "Delete it", "--db", str(db), "--json")
    again = cli("choose", confirmation, "delete_file", "--db", str(db))

    assert wrong_case.exit_code == 2
    assert one_error_line(wrong_case) == (
        "error: 'delete it' is not an offered option;"
        " choose one of 'archive_file', 'delete_file' ('Delete it')"
    )
    assert chosen.exit_code == 0, chosen.output
    assert (json.loads(chosen.stdout)["status"], json.loads(chosen.stdout)["decision"]) == (
        "approved",
        "delete_file",
    )
    # By label or by name, it is the same decision: repeating it is no conflict.
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith("already approved: 'delete_file' by cli via cli at ")


def test_choose_skip_is_refused_and_points_to_skip(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    offers = [("archive_file", {}), ("delete_file", {}, "Delete it")]
    confirmation = register(db, actions=offers)

    refused = cli("choose", confirmation, "skip", "--db", str(db))

    assert refused.exit_code == 2
    assert one_error_line(refused) == (
        "error: choose picks one of the offered actions; to say no, use:"
        f" soni confirmations skip {confirmation} --db {db}"
    )
    assert registry_call(db, "get_by_id", confirmation).status is Status.PENDING


def test_a_missing_database_is_an_error_and_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "state.db"
    for args in (["list"], ["show", "x"], ["approve", "x"], ["cleanup"]):
        refused = cli(*args, "--db", str(missing))
        assert refused.exit_code == 1, args
        assert one_error_line(refused) == f"error: no such database: {missing}"
    assert not missing.parent.exists()


def test_a_file_that_is_not_a_soni_database_is_an_error(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello, this is not SQLite at all" * 10)
    other = tmp_path / "other.db"
    registry_call(other, "list")  # a SQLite file...
    with sqlite3.connect(other) as conn:  # ...without the confirmations table
        conn.execute("DROP TABLE confirmations")

    assert one_error_line(cli("list", "--db", str(text))).startswith(
        f"error: {text} cannot be read as a SQLite database"
    )
    assert one_error_line(cli("list", "--db", str(other))) == (
        f"error: {other} holds no confirmations: give the bot's state database (soni serve --db)"
    )
    folder = cli("list", "--db", str(tmp_path))
    assert one_error_line(folder) == f"error: not a database file: {tmp_path}"


# -- reading ------------------------------------------------------------------------------


def test_list_shows_a_table_and_filters(handlers: Mapping[str, Any], tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    first = pending_transfer(db, "c1")
    second = pending_transfer(db, "c2")
    assert cli("skip", second, "--db", str(db)).exit_code == 0

    table = cli("list", "--db", str(db))
    pending = cli("list", "--db", str(db), "--status", "pending", "--json")
    of_c2 = cli("list", "--db", str(db), "--conversation", "c2", "--json")
    both = cli("list", "--db", str(db), "--status", "pending", "--status", "skipped", "--json")
    bad = cli("list", "--db", str(db), "--status", "pendin")

    assert table.exit_code == 0, table.output
    for header in ("id", "conversation", "user", "status", "actions", "prompt", "created"):
        assert header in table.stdout
    rows = [line for line in table.stdout.splitlines() if first in line or second in line]
    assert len(rows) == 2
    assert all(f"Send 50 EUR to Bob ({IBAN})?" in row for row in rows)
    assert "pending" in rows[0] and "skipped" in rows[1]
    assert [r["id"] for r in json.loads(pending.stdout)] == [first]
    assert [(r["id"], r["decision"]) for r in json.loads(of_c2.stdout)] == [(second, "skip")]
    assert len(json.loads(both.stdout)) == 2
    assert bad.exit_code == 2
    assert one_error_line(bad).startswith("error: unknown status 'pendin'; one of: pending,")


def test_list_of_nothing_says_so(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    register(db)

    empty = cli("list", "--db", str(db), "--conversation", "nobody")
    as_json = cli("list", "--db", str(db), "--conversation", "nobody", "--json")

    assert (empty.exit_code, empty.stdout, empty.stderr) == (0, "", "no confirmations\n")
    assert json.loads(as_json.stdout) == []


def test_show_gives_the_record_and_its_whole_history(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    confirmation = register(db)
    assert cli("approve", confirmation, "--db", str(db)).exit_code == 0

    shown = cli("show", confirmation, "--db", str(db))
    data = json.loads(cli("show", confirmation, "--db", str(db), "--json").stdout)
    latest = cli("show", "--conversation", "c9", "--db", str(db))
    nothing = cli("show", "--conversation", "c0", "--db", str(db))

    assert shown.exit_code == 0, shown.output
    assert shown.stdout.startswith(f"confirmation {confirmation}\n")
    assert 'action        execute_transfer {"amount": 5}' in shown.stdout
    assert "decision      'execute_transfer' by cli via cli at " in shown.stdout
    history = shown.stdout.split("\nhistory\n")[1].splitlines()
    assert [line.split()[2:] for line in history[2:]] == [
        ["-", "pending", "-", "via", "system"],
        ["pending", "approved", "cli", "via", "cli"],
    ]
    assert data["id"] == confirmation
    assert data["actions"] == [{"name": "execute_transfer", "args": {"amount": 5}}]
    assert [(h["from"], h["to"], h["actor"]) for h in data["history"]] == [
        (None, "pending", {"user_id": None, "channel": "system"}),
        ("pending", "approved", {"user_id": "cli", "channel": "cli"}),
    ]
    assert "token" not in json.dumps(data)
    assert latest.stdout == shown.stdout
    assert nothing.exit_code == 3
    assert one_error_line(nothing) == "error: conversation c0 has no confirmations"


# -- data is shown as written, never read as rich markup ----------------------------------


def test_list_shows_bracketed_conversation_and_user_ids_as_written(tmp_path: Path) -> None:
    # Ids come from API callers: `[team-a]` is no style, `:smile:` no emoji.
    db = tmp_path / "state.db"
    register(db, conversation="[team-a]", user="[ann]:smile:", prompt="Delete [b]all[/b]?")

    listed = cli("list", "--db", str(db))

    assert listed.exit_code == 0, listed.output
    assert "[team-a]" in listed.stdout
    assert "[ann]:smile:" in listed.stdout
    assert "Delete [b]all[/b]?" in listed.stdout


def test_list_and_show_survive_a_closing_tag_in_ids_prompts_and_labels(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    offers = [("archive_file", {"path": "[/]"}, "Archive [/]"), ("delete_file", {})]
    confirmation = register(db, conversation="c[/]", user="[/b]", prompt="[/]?", actions=offers)

    listed = cli("list", "--db", str(db))
    shown = cli("show", confirmation, "--db", str(db))

    assert listed.exit_code == 0, listed.output
    assert "c[/]" in listed.stdout and "archive_file (Archive [/])" in listed.stdout
    assert shown.exit_code == 0, shown.output
    for line in ("conversation  c[/]", "user          [/b]", "prompt        [/]?"):
        assert line in shown.stdout
    assert 'action        archive_file (Archive [/]) {"path": "[/]"}' in shown.stdout


@pytest.mark.slow  # a Python process of its own
def test_a_bracketed_actor_is_recorded_printed_and_shown_by_a_real_process(
    tmp_path: Path,
) -> None:
    # The decision is recorded before it is printed: printing it must not turn the
    # command into a failure (a script would believe nothing was decided).
    db = tmp_path / "state.db"
    confirmation = register(db, conversation="c[/]")

    def soni(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "soni", "confirmations", *args, "--db", str(db)],
            capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
            env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
        )  # fmt: skip

    approved = soni("approve", confirmation, "--actor", "[/]")
    shown = soni("show", confirmation)

    assert (approved.returncode, approved.stderr) == (0, "")
    assert approved.stdout.splitlines()[0].startswith(
        f"approved {confirmation}: 'execute_transfer' by [/] via cli at "
    )
    assert approved.stdout.splitlines()[1] == "conversation c[/] goes on with its next message"
    assert (shown.returncode, shown.stderr) == (0, "")
    history = shown.stdout.split("\nhistory\n")[1].splitlines()
    assert history[-1].split()[2:] == ["pending", "approved", "[/]", "via", "cli"]


def test_a_decision_that_cannot_be_printed_still_exits_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "state.db"
    confirmation = register(db)

    class Closed:
        def print(self, *args: object, **kwargs: object) -> None:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(confirmations_cli, "console", Closed())
    approved = cli("approve", confirmation, "--db", str(db))

    assert approved.exit_code == 0, approved.output
    assert approved.stderr == (
        f"warning: confirmation {confirmation} is approved ('execute_transfer'),"
        " but printing it failed: BrokenPipeError: [Errno 32] Broken pipe\n"
    )
    assert registry_call(db, "get_by_id", confirmation).status is Status.APPROVED


# -- cleaning up --------------------------------------------------------------------------


def test_cleanup_records_expiries_and_purge_deletes_closed_ones(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    overdue = [register(db, ttl=60, ago=3600) for _ in range(2)]
    live = register(db)

    swept = cli("cleanup", "--db", str(db))
    kept = cli("cleanup", "--db", str(db), "--purge", "--json")
    purged = cli("cleanup", "--db", str(db), "--purge", "--retention-days", "0")

    assert (swept.exit_code, swept.stdout) == (0, "expired 2 overdue confirmations\n")
    assert json.loads(kept.stdout) == {"expired": 0, "purged": 0}
    assert purged.stdout == (
        "expired 0 overdue confirmations\npurged 2 closed confirmations older than 0 days\n"
    )
    left = json.loads(cli("list", "--db", str(db), "--json").stdout)
    assert [r["id"] for r in left] == [live]
    assert all(registry_call(db, "get_by_id", gone) is None for gone in overdue)


def test_times_in_the_table_are_short() -> None:
    now = datetime(2026, 11, 23, 15, 0, 0, tzinfo=UTC)

    assert relative(now + timedelta(seconds=299), now) == "in 4m 59s"
    assert relative(now - timedelta(hours=3, minutes=2, seconds=5), now) == "3h 2m ago"
    assert relative(now, now) == "0s ago"
    assert moment(now - timedelta(hours=1), now) == "14:00:00"
    assert moment(now - timedelta(days=2), now) == "2026-11-21"


# -- on PostgreSQL ----------------------------------------------------------------------


def test_approve_on_postgresql_is_heard_at_once_by_a_bot_on_the_database(
    handlers: Mapping[str, Any], postgres_database: str
) -> None:
    """The command decides in the shared database and tells the servers: no polling."""

    async def run() -> None:
        async with await Bot.load(EXAMPLES / "banking", db=postgres_database) as bot:
            for text in ("send 50 euros to Bob", IBAN):
                result = await bot.handle("pg1", text, user_id="ann")
            confirmation = result.pending[0].confirmation_id
            heard: asyncio.Queue[Any] = asyncio.Queue()
            bot.engine.confirmations.subscribe(heard.put_nowait)

            command = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "soni", "confirmations", "approve", confirmation,
                "--db", postgres_database,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            )  # fmt: skip
            out, err = await command.communicate()
            assert command.returncode == 0, err.decode()
            assert out.decode().startswith(
                f"approved {confirmation}: 'execute_transfer' by cli via cli at "
            )
            async with asyncio.timeout(10):
                event = await heard.get()
            assert (event.confirmation_id, event.to_status) == (confirmation, Status.APPROVED)
            assert (event.actor.user_id, event.actor.channel) == ("cli", "cli")
            assert sent_in("pg1") == []  # nothing runs until the conversation goes on

            after = await bot.handle("pg1", "thanks", user_id="ann")
            assert after.texts == [f"Done: 50 EUR sent to Bob. Reference TX-{confirmation[-8:]}."]
            assert [t["amount"] for t in sent_in("pg1")] == [50.0]

    asyncio.run(run())


def test_list_on_postgresql_reads_soni_db(
    handlers: Mapping[str, Any], postgres_database: str
) -> None:
    confirmation = pending_transfer(postgres_database, "pg2")

    listed = runner.invoke(
        app,
        ["confirmations", "list", "--json"],
        env={"SONI_DB": postgres_database, "COLUMNS": "200"},
    )

    assert listed.exit_code == 0, listed.output
    assert [r["id"] for r in json.loads(listed.stdout)] == [confirmation]


def test_a_postgresql_database_without_soni_tables_is_refused(postgres_database: str) -> None:
    refused = cli("list", "--db", postgres_database)

    assert refused.exit_code == 1
    assert one_error_line(refused) == (
        f"error: the PostgreSQL database {postgres_database} has no soni tables yet:"
        f" run `soni db migrate --db {postgres_database}`"
    )
