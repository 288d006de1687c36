"""`soni confirmations` on runs a crash interrupted: listed as such, resolved by an operator."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from typer.testing import CliRunner, Result

from soni.cli import app
from soni.confirmations import (
    ConfirmationRegistry,
    Runner,
    SqliteConfirmationStore,
    Status,
    runners_folder,
)

runner = CliRunner()


def cli(*args: str) -> Result:
    return runner.invoke(app, ["confirmations", *args], env={"COLUMNS": "200"})


async def a_run_whose_process_died(db: Path, conversation: str = "c1") -> str:
    """An approved action claimed by a process that then died (its runner closed)."""
    async with ConfirmationRegistry(
        SqliteConfirmationStore(db), runner=Runner(runners_folder(db))
    ) as crashed:
        _, token = await crashed.register(
            conversation_id=conversation,
            user_id="u1",
            actions=[("place_refill", {"quantity": 2})],
            prompt="Order 2 packs?",
        )
        await crashed.decide(token, "approve", actor="u1", channel="chat")
        run = await crashed.begin_execution(token)
        return run.confirmation.id


async def a_pending_one(db: Path) -> str:
    async with ConfirmationRegistry(SqliteConfirmationStore(db)) as registry:
        waiting, _ = await registry.register(
            conversation_id="c2", actions=[("place_refill", {})], prompt="Order?"
        )
        return waiting.id


async def status_of(db: Path, confirmation_id: str) -> Status:
    async with ConfirmationRegistry(SqliteConfirmationStore(db)) as registry:
        record = await registry.get_by_id(confirmation_id)
        assert record is not None
        return record.status


def test_list_shows_runs_whose_process_is_gone_as_interrupted(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    interrupted = asyncio.run(a_run_whose_process_died(db))

    listed = cli("list", "--db", str(db), "--status", "interrupted", "--json")

    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.stdout)
    assert (row["id"], row["status"], row["decision"]) == (
        interrupted,
        "interrupted",
        "place_refill",
    )
    shown = cli("show", interrupted, "--db", str(db))
    assert "interrupted" in shown.stdout


def test_an_operator_resolves_an_interrupted_run_once(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    interrupted = asyncio.run(a_run_whose_process_died(db))

    done = cli(
        "resolve", interrupted, "--db", str(db), "--executed", "--result", '{"reference": "RX-1"}'
    )

    assert done.exit_code == 0, done.output
    assert done.stdout.strip() == f"{interrupted} (place_refill) is executed"
    assert asyncio.run(status_of(db, interrupted)) is Status.EXECUTED
    shown = json.loads(cli("show", interrupted, "--db", str(db), "--json").stdout)
    assert shown["result"] == {"reference": "RX-1"}
    assert shown["history"][-1]["actor"] == {"user_id": "cli", "channel": "cli"}
    # A second answer does not overwrite the first.
    again = cli("resolve", interrupted, "--db", str(db), "--failed", "not at the provider")
    assert again.exit_code == 0
    assert asyncio.run(status_of(db, interrupted)) is Status.EXECUTED


def test_a_failed_run_is_recorded_with_the_operators_reason(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    interrupted = asyncio.run(a_run_whose_process_died(db))

    done = cli("resolve", interrupted, "--db", str(db), "--failed", "no such order", "--json")

    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert (data["status"], data["error"]) == ("failed", "no such order")


def test_resolve_refuses_what_it_cannot_record(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    interrupted = asyncio.run(a_run_whose_process_died(db))
    waiting_id = asyncio.run(a_pending_one(db))

    cases = {
        ("--executed", "--failed", "x"): (2, "give --executed or --failed REASON"),
        ("--failed", "x", "--result", "{}"): (2, "--result goes with --executed"),
        ("--executed", "--result", "[1]"): (2, "--result must be a JSON object"),
        ("--executed", "--result", "{"): (2, "--result is not JSON"),
    }
    for flags, (code, text) in cases.items():
        refused = cli("resolve", interrupted, "--db", str(db), *flags)
        assert (refused.exit_code, text in refused.stderr) == (code, True), refused.output

    pending = cli("resolve", waiting_id, "--db", str(db), "--executed")
    assert pending.exit_code == 2
    assert "is not an interrupted run (it is pending)" in pending.stderr
    unknown = cli("resolve", "nope", "--db", str(db), "--executed")
    assert unknown.exit_code == 3
    assert asyncio.run(status_of(db, interrupted)) is Status.INTERRUPTED
