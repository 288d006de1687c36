"""`soni chat`: a terminal chat over a real bot, driven through stdin."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import UTC, date, datetime, time
from pathlib import Path
from types import ModuleType

import pytest
from rich.console import Console
from typer.testing import CliRunner, Result

from soni import ActionRegistry
from soni.cli import app
from soni.cli._chat_session import ChatSession, readable
from soni.engine import PendingView, SyncBot

from .._handlers import register_again

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BANKING = EXAMPLES / "banking"
IBAN = "DE89370400440532013000"

runner = CliRunner()


def handlers(example: str) -> ModuleType:
    """The example's handler module, its decorators run again.

    The autouse fixture empties the global action map for each test, but a module
    is imported once per process: an in-process ``soni chat`` would find it
    imported and its handlers gone.
    """
    ActionRegistry._replace_global({})  # no "overwritten" warnings on the first run
    [module] = register_again(EXAMPLES / example / "actions.py")
    return module


@pytest.fixture
def banking() -> ModuleType:
    return handlers("banking")


def chat(tmp_path: Path, *lines: str, bot: Path = BANKING, conversation: str = "c1") -> Result:
    return runner.invoke(
        app,
        ["chat", str(bot), "--db", str(tmp_path / "state.db"), "--conversation", conversation],
        input="".join(f"{line}\n" for line in lines),
    )


def test_a_whole_banking_conversation_through_stdin(tmp_path: Path, banking: ModuleType) -> None:
    done = chat(
        tmp_path,
        "/check_balance",
        "savings",
        "send 50 to Bob",
        IBAN,
        "y",
        "transfer 20 to Ann",
        "DE12",
        "n",
    )

    assert done.exit_code == 0, done.output
    out = done.stdout
    assert "conversation c1, user cli" in out
    assert "you> /check_balance\nbot> Which account: checking or savings?" in out
    assert "bot> Your savings balance is 8000 EUR." in out
    assert f"bot> Send 50 EUR to Bob ({IBAN})?\n     [y] approve  [n] skip\nyou> y\n" in out
    assert "bot> Done: 50 EUR sent to Bob. Reference TX-" in out
    assert "bot> Send 20 EUR to Ann (DE12)?" in out
    assert "bot> Nothing was sent." in out
    # The key approved through Bot.decide: the transfer ran once, the skipped one never.
    assert [(sent["amount"], sent["to"]) for sent in banking.SENT] == [(50.0, "Bob")]
    assert "\x1b[" not in out  # no colour when stdout is not a terminal


def test_yes_and_no_are_ordinary_chat_messages(tmp_path: Path, banking: ModuleType) -> None:
    done = chat(tmp_path, "send 50 to Bob", IBAN, "yes")

    assert done.exit_code == 0, done.output
    assert "bot> Done: 50 EUR sent to Bob." in done.stdout
    assert len(banking.SENT) == 1


def test_state_shows_the_flow_its_slots_and_the_pending_confirmation(
    tmp_path: Path, banking: ModuleType
) -> None:
    done = chat(tmp_path, "/state", "send 50 to Bob", IBAN, "/state")

    assert done.exit_code == 0, done.output
    before, after = done.stdout.split(f"you> {IBAN}")
    assert "Conversation c1 has no state yet." in before
    assert "active flow" in after and "transfer_funds" in after
    assert "waiting for" in after and "confirmation " in after
    assert "slot beneficiary" in after and '"Bob"' in after
    assert "slot amount" in after and "│ 50 " in after and "50.0" not in after
    assert "pending confirmations" in after
    assert "execute_transfer" in after


def test_reset_forgets_the_conversation_and_its_confirmation(
    tmp_path: Path, banking: ModuleType
) -> None:
    done = chat(tmp_path, "send 50 to Bob", IBAN, "/reset", "/state", "y")

    assert done.exit_code == 0, done.output
    assert "The conversation was reset." in done.stdout
    assert "Conversation c1 has no state yet." in done.stdout
    # After the reset "y" is no key any more: it is a message, and nothing is sent.
    assert "Done:" not in done.stdout
    assert banking.SENT == []


def test_quit_stops_reading_and_end_of_input_exits_cleanly(
    tmp_path: Path, banking: ModuleType
) -> None:
    quit_ = chat(tmp_path, "/check_balance", "/quit", "savings")
    assert quit_.exit_code == 0, quit_.output
    assert "Which account" in quit_.stdout
    assert "you> savings" not in quit_.stdout
    assert "balance is" not in quit_.stdout

    eof = chat(tmp_path, "/check_balance", conversation="c2")
    assert eof.exit_code == 0, eof.output
    assert eof.stdout.rstrip().endswith("bot> Which account: checking or savings?")


def test_help_lists_the_commands(tmp_path: Path, banking: ModuleType) -> None:
    done = chat(tmp_path, "/help")

    assert done.exit_code == 0, done.output
    for command in ("/state", "/reset", "/help", "/quit", "[y] approve", "/set amount=50"):
        assert command in done.stdout


def test_other_slash_text_goes_to_the_bot_as_a_structured_message(
    tmp_path: Path, banking: ModuleType
) -> None:
    done = chat(
        tmp_path,
        '/transfer_funds{"amount": 50}',
        "/set beneficiary=Bob",
        f"/set iban={IBAN}",
        "/set amount=75",
        "/affirm",
    )

    assert done.exit_code == 0, done.output
    out = done.stdout
    assert 'you> /transfer_funds{"amount": 50}\nbot> Who should receive the money?' in out
    assert "you> /set beneficiary=Bob\nbot> What is their IBAN?" in out
    assert f"bot> Send 75 EUR to Bob ({IBAN})?" in out
    assert "bot> Done: 75 EUR sent to Bob." in out


def test_replies_slot_values_and_ids_are_shown_as_written(
    tmp_path: Path, banking: ModuleType
) -> None:
    # What users type and bots say is never rich markup: `[/]` is no closing tag,
    # `[bold]` no style, `:x:` no emoji.
    name = "[bold]Bob[/]:x:"
    done = chat(
        tmp_path,
        '/transfer_funds{"amount": 50}',
        f"/set beneficiary={name}",
        IBAN,
        "/state",
        "y",
        conversation="c[/]",
    )

    assert done.exit_code == 0, done.output
    out = done.stdout
    assert "soni chat banking: conversation c[/], user cli." in out
    assert f"bot> Send 50 EUR to {name} ({IBAN})?\n     [y] approve  [n] skip" in out
    state = out.split("you> /state\n")[1].split("you> y\n")[0]
    assert state.startswith("conversation c[/]\n")
    assert f'slot beneficiary │ "{name}"' in state
    assert f"Send 50 EUR to {name}" in state  # the pending confirmations table
    assert f"bot> Done: 50 EUR sent to {name}. Reference TX-" in out


def test_a_choice_is_decided_by_its_number_or_skipped(tmp_path: Path) -> None:
    files = handlers("file_assistant")
    bot = EXAMPLES / "file_assistant"

    chosen = chat(tmp_path, "tidy up the file report.pdf", "2", bot=bot)
    assert chosen.exit_code == 0, chosen.output
    keys = "[1] Archive it  [2] Delete it for good  [3] Share with the team  [n] skip"
    assert keys in chosen.stdout
    assert "bot> Done: report.pdf deleted." in chosen.stdout
    assert [done["action"] for done in files.DONE] == ["deleted"]

    skipped = chat(tmp_path, "tidy up the file notes.txt", "n", bot=bot, conversation="c2")
    assert skipped.exit_code == 0, skipped.output
    assert "bot> I left notes.txt as it is." in skipped.stdout
    assert len(files.DONE) == 1


def test_the_db_file_keeps_the_conversation_for_the_next_run(
    tmp_path: Path, banking: ModuleType
) -> None:
    first = chat(tmp_path, "send 50 to Bob", IBAN)
    assert first.exit_code == 0, first.output
    assert "[y] approve" in first.stdout

    second = chat(tmp_path, "yes")
    assert second.exit_code == 0, second.output
    out = second.stdout
    assert "Continuing: flow transfer_funds." in out
    # The earlier run's token died with it; the chat can still answer.
    # The token is derived again from the secret beside the database: the question
    # comes back with its buttons.
    assert f"bot> Send 50 EUR to Bob ({IBAN})?\n     [y] approve  [n] skip" in out
    assert "bot> Done: 50 EUR sent to Bob." in out
    assert len(banking.SENT) == 1


def test_a_bot_that_does_not_load_is_one_red_line(tmp_path: Path) -> None:
    (tmp_path / "bot.yaml").write_text(
        "flows:\n  f:\n    steps:\n      - {step: a, type: colect}\n"
    )

    done = runner.invoke(app, ["chat", str(tmp_path), "--db", ":memory:"], input="hi\n")

    assert done.exit_code == 1
    assert done.stderr.startswith("error: 1 error in the bot configuration")
    assert "unknown step type 'colect'" in done.stderr
    assert "Traceback" not in done.output
    assert done.stdout == ""

    missing = runner.invoke(app, ["chat", str(tmp_path / "nope")], input="")
    assert missing.exit_code == 1
    assert missing.stderr.strip() == f"error: no such bot: {tmp_path / 'nope'}"


def test_a_failed_decision_is_reported_and_the_chat_goes_on(banking: ModuleType) -> None:
    bot = SyncBot.load(BANKING, db=":memory:")
    console = Console(record=True, width=100)
    try:
        session = ChatSession(bot, "c1", user_id="u1", console=console, echo=True)
        session.start()
        expires = datetime.now(UTC)
        session.pending = [
            PendingView("id", "forged", "Sure?", ("execute_transfer",), (None,), expires)
        ]
        assert session.send("y")
        assert session.send("/check_balance")
    finally:
        bot.close()
    out = console.export_text()
    assert "error: " in out
    assert "bot> Which account: checking or savings?" in out


@pytest.mark.slow  # a Python process of its own
def test_stdin_piped_to_a_real_process(tmp_path: Path) -> None:
    script = f"send 50 to Bob\n{IBAN}\ny\n/state\n"
    done = subprocess.run(
        [sys.executable, "-m", "soni", "chat", str(BANKING), "--db", str(tmp_path / "state.db"),
         "--conversation", "p1", "--user", "ann"],
        input=script, capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert "conversation p1, user ann" in done.stdout
    assert "     [y] approve  [n] skip\nyou> y\nbot> Done: 50 EUR sent to Bob." in done.stdout
    assert "transaction_id" in done.stdout  # /state after the transfer
    assert done.stderr == ""
    assert (tmp_path / "state.db").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT")
@pytest.mark.slow  # a Python process of its own
def test_ctrl_c_leaves_cleanly(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "soni", "chat", str(BANKING), "--db", ":memory:"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=tmp_path,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        assert "/help for commands" in process.stdout.readline()  # loaded, now reading stdin
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr


def test_state_shows_values_as_people_read_them() -> None:
    assert readable("Bob") == '"Bob"'  # text quoted: "50" is told from 50
    assert readable(50.0) == "50"
    assert readable(date(2026, 12, 8)) == "2026-12-08"
    assert readable(time(9, 5)) == "09:05"
    assert readable(True) == "true" and readable(None) == "null"
    assert readable([{"day": date(2026, 1, 1)}]) == '[{"day": "2026-01-01"}]'
