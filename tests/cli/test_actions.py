"""`soni actions list`: a bot's handlers, their signatures, confirmations and uses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from soni import ActionRegistry
from soni.cli import _output, app

from .._handlers import register_again

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

runner = CliRunner()


@pytest.fixture(autouse=True)
def _wide(monkeypatch: pytest.MonkeyPatch) -> None:
    # Rows stay whole; COLUMNS cannot do it, the console read it when it was made.
    monkeypatch.setattr(_output.console, "_width", 200)


def handlers(example: str) -> None:
    """Run the example's decorators again (the autouse fixture emptied the global map).

    A module is imported once per process, so in-process runs after the first would
    find it imported and its handlers gone.
    """
    ActionRegistry._replace_global({})  # no "overwritten" warnings on the first run
    register_again(EXAMPLES / example / "actions.py")


def listing(*args: str) -> Result:
    return runner.invoke(app, ["actions", "list", *args])


def as_json(*args: str) -> dict[str, dict[str, Any]]:
    done = listing(*args, "--json")
    assert done.exit_code == 0, done.output
    return {action["name"]: action for action in json.loads(done.stdout)}


def test_the_banking_table() -> None:
    handlers("banking")

    done = listing(str(EXAMPLES / "banking"))

    assert done.exit_code == 0, done.output
    out = done.stdout
    assert out.index("execute_transfer") < out.index("get_balance")
    assert "(amount: float, beneficiary: str, iban: str, ctx: ActionContext) -> dict" in out
    assert "(account: str) -> dict[str, float]" in out
    assert "Send money to another account" in out
    assert "every call: Send {amount} EUR to {beneficiary} ({iban})?" in out
    assert "transfer_funds.send" in out
    assert "check_balance.lookup" in out
    assert "examples/banking/actions.py:" in out


def test_the_banking_json() -> None:
    handlers("banking")

    found = as_json(str(EXAMPLES / "banking"))

    assert list(found) == ["execute_transfer", "get_balance"]
    transfer = found["execute_transfer"]
    assert transfer["scope"] == "global"
    assert transfer["async"] is False
    assert transfer["context"] == "ctx"
    assert transfer["parameters"] == [
        {"name": "amount", "type": "float", "default": None, "required": True},
        {"name": "beneficiary", "type": "str", "default": None, "required": True},
        {"name": "iban", "type": "str", "default": None, "required": True},
    ]
    assert transfer["description"] == "Send money to another account"
    assert transfer["declared"] is True
    assert transfer["confirm"] == "Send {amount} EUR to {beneficiary} ({iban})?"
    assert transfer["confirmed_in"] == [
        {"flow": "transfer_funds", "step": "send", "kind": "call", "confirm": transfer["confirm"]}
    ]
    assert transfer["used_in"] == [{"flow": "transfer_funds", "step": "send"}]
    source = (EXAMPLES / "banking" / "actions.py").read_text(encoding="utf-8").splitlines()
    decorated = 1 + next(n for n, line in enumerate(source) if '"execute_transfer"' in line)
    assert transfer["handler"].endswith(f".py:{decorated}") and "banking" in transfer["handler"]

    balance = found["get_balance"]
    assert balance["context"] is None
    assert balance["confirm"] is None and balance["confirmed_in"] == []
    assert balance["used_in"] == [{"flow": "check_balance", "step": "lookup"}]


def test_the_options_of_a_choice_are_confirmed_there() -> None:
    handlers("file_assistant")

    found = as_json(str(EXAMPLES / "file_assistant"))

    assert sorted(found) == [
        "archive_file",
        "delete_file",
        "inspect_file",
        "share_file",
        "storage_usage",
    ]
    for name in ("archive_file", "delete_file", "share_file"):
        [use] = found[name]["confirmed_in"]
        assert (use["flow"], use["step"], use["kind"]) == ("tidy_file", "propose", "choose")
        assert use["confirm"].endswith("what should I do with it?")
    assert found["inspect_file"]["confirmed_in"] == []
    table = listing(str(EXAMPLES / "file_assistant"))
    assert "tidy_file.propose (a choice)" in table.stdout


def test_handlers_from_another_module_step_confirms_and_unused_handlers(tmp_path: Path) -> None:
    bot = tmp_path / "bot"
    bot.mkdir()
    (bot / "bot.yaml").write_text(
        "actions:\n"
        "  later: {description: Not written yet}\n"
        "flows:\n"
        "  greet:\n"
        "    steps:\n"
        "      - {step: hello, type: action, call: say_hello, confirm: 'Say hello?'}\n"
    )
    module = tmp_path / "elsewhere" / "greetings.py"
    module.parent.mkdir()
    module.write_text(
        "from soni import ActionRegistry\n"
        "\n"
        "@ActionRegistry.register('say_hello')\n"
        "async def say_hello(name: str = 'you', times: int = 1) -> dict:\n"
        '    """Greet somebody.\n\n    At length.\n    """\n'
        "    return {}\n"
        "\n"
        "@ActionRegistry.register('unused', description='Never called')\n"
        "def unused(slots):\n"
        "    return None\n"
    )

    found = as_json(str(bot), "--actions", str(module))

    hello = found["say_hello"]
    assert hello["async"] is True
    assert hello["signature"] == "async (name: str = 'you', times: int = 1) -> dict"
    assert hello["parameters"][1] == {
        "name": "times", "type": "int", "default": "1", "required": False,
    }  # fmt: skip
    assert hello["description"] == "Greet somebody."  # the docstring's first line
    assert hello["declared"] is False and hello["confirm"] is None
    assert hello["confirmed_in"] == [
        {"flow": "greet", "step": "hello", "kind": "call", "confirm": "Say hello?"}
    ]
    unused = found["unused"]
    assert unused["description"] == "Never called"
    assert unused["signature"] == "(slots)"
    assert unused["used_in"] == []
    later = found["later"]  # declared, never called, no handler yet
    assert (later["scope"], later["handler"], later["signature"]) == (None, None, None)
    assert later["description"] == "Not written yet" and later["declared"] is True


def test_a_bot_that_does_not_validate_is_one_red_line(tmp_path: Path) -> None:
    (tmp_path / "bot.yaml").write_text(
        "flows:\n  f:\n    steps:\n      - {step: a, type: action, call: nope}\n"
    )

    done = listing(str(tmp_path))

    assert done.exit_code == 1
    assert done.stdout == ""
    assert done.stderr.startswith("error: 1 error in the bot configuration")
    assert "unknown action 'nope': no handler is registered" in done.stderr
    assert "Traceback" not in done.output

    (tmp_path / "actions.py").write_text("raise RuntimeError('boom')\n")
    broken = listing(str(tmp_path))
    assert broken.exit_code == 1
    assert broken.stderr.strip().endswith("RuntimeError: boom")
    assert len(broken.stderr.strip().splitlines()) == 1

    missing = listing(str(tmp_path / "nope"))
    assert missing.exit_code == 1
    assert missing.stderr.strip() == f"error: no such bot: {tmp_path / 'nope'}"


@pytest.mark.slow  # a Python process of its own
def test_json_from_a_real_process(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "soni", "actions", "list", str(EXAMPLES / "banking"), "--json"],
        capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert [a["name"] for a in json.loads(done.stdout)] == ["execute_transfer", "get_balance"]
