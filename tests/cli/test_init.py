"""`soni init`: a new bot that validates, has tests, and really runs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from soni.cli import app
from soni.cli.init import SCAFFOLD, template
from soni.engine import Bot

runner = CliRunner()
FILES = ["bot.yaml", "actions.py", "tests/conversations.yaml", "README.md", ".gitignore"]
STEP_KEYS = {
    "user", "bot", "pending", "approve", "skip", "choose", "expire", "action_executed", "slot",
    "flow",
}  # fmt: skip


def test_every_template_ships_with_the_package() -> None:
    assert [target for target, _ in SCAFFOLD] == FILES
    for _, source in SCAFFOLD:
        assert template(source).strip()


def test_init_creates_the_bot_s_files(tmp_path: Path) -> None:
    target = tmp_path / "my_bot"

    result = runner.invoke(app, ["init", str(target)])

    assert result.exit_code == 0, result.output
    assert sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()) == sorted(
        FILES
    )
    assert result.stdout.splitlines()[0] == f"Created a bot in {target}:"
    assert f"  soni validate {target}" in result.stdout.splitlines()
    assert (target / "README.md").read_text().startswith("# my_bot\n")
    assert ".soni/" in (target / ".gitignore").read_text().splitlines()


def test_init_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")

    result = runner.invoke(app, ["init", str(tmp_path)])

    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {tmp_path} is not empty; use --force to add the bot's files to it "
        "(files already there are kept)\n"
    )
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_init_refuses_a_file(tmp_path: Path) -> None:
    (tmp_path / "bot").write_text("not a folder")

    result = runner.invoke(app, ["init", str(tmp_path / "bot")])

    assert result.exit_code == 1
    assert result.stderr == f"error: {tmp_path / 'bot'} is a file, not a folder\n"


def test_force_adds_the_files_and_keeps_the_user_s(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "README.md").write_text("my readme")

    result = runner.invoke(app, ["init", str(tmp_path), "--force"])

    assert result.exit_code == 0, result.output
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert (tmp_path / "README.md").read_text() == "my readme"
    assert f"  {tmp_path / 'README.md'} (already there, kept)" in result.stdout.splitlines()
    assert all((tmp_path / name).is_file() for name in FILES)

    again = runner.invoke(app, ["init", str(tmp_path), "--force"])

    assert again.exit_code == 0
    assert again.stdout.splitlines()[0] == (
        f"{tmp_path} already holds every file of a new bot; nothing was written:"
    )


def test_the_new_bot_validates_without_warnings(tmp_path: Path) -> None:
    runner.invoke(app, ["init", str(tmp_path / "bot")])

    result = runner.invoke(app, ["validate", str(tmp_path / "bot"), "--strict", "--json"])

    assert json.loads(result.stdout) == {"ok": True, "errors": [], "warnings": []}
    assert result.exit_code == 0


def test_the_new_bot_s_tests_are_conversation_tests(tmp_path: Path) -> None:
    runner.invoke(app, ["init", str(tmp_path / "bot")])

    suite = yaml.safe_load((tmp_path / "bot" / "tests" / "conversations.yaml").read_text())

    assert [test["name"] for test in suite["tests"]] == [
        "transfer approved",
        "transfer declined",
        "an amount must be positive",
        "greeting",
    ]
    for test in suite["tests"]:
        assert set(test) == {"name", "steps"}
        for step in test["steps"]:
            assert len(step) == 1 and set(step) <= STEP_KEYS, step


def test_the_new_bot_s_tests_pass_with_soni_test(tmp_path: Path) -> None:
    runner.invoke(app, ["init", str(tmp_path / "bot")])

    result = runner.invoke(app, ["test", str(tmp_path / "bot")])

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].startswith("4 passed")


async def test_the_new_bot_sends_money_once_approved(tmp_path: Path) -> None:
    runner.invoke(app, ["init", str(tmp_path / "bot")])

    async with await Bot.load(tmp_path / "bot", db=":memory:") as bot:
        asked = await bot.handle("c1", "send 50 to Ana")
        pending = await bot.handle("c1", "/set iban=ES9121000418450200051332")
        [offer] = pending.pending
        assert offer.token is not None
        done = await bot.decide(offer.token, "approve")

    assert asked.texts == ["What is Ana's IBAN?"]
    assert pending.texts == ["Send 50 EUR to Ana (ES9121000418450200051332)?"]
    assert offer.options == ("execute_transfer",)
    [sent] = done.texts
    assert re.fullmatch(r"Transfer TX-[0-9A-F]{8} sent: 50 EUR to Ana\.", sent)
    assert done.slots["transaction_id"] == sent.split()[1]
    assert done.slots["amount"] == 50
    assert done.active_flow is None


async def test_the_new_bot_sends_nothing_when_declined(tmp_path: Path) -> None:
    runner.invoke(app, ["init", str(tmp_path / "bot")])

    async with await Bot.load(tmp_path / "bot", db=":memory:") as bot:
        turns = [
            (await bot.handle("c2", text)).texts
            for text in ["send money", "0", "20", "Bob", "DE89370400440532013000", "no"]
        ]
        state = await bot.state("c2")

    assert turns == [
        ["How much do you want to send?"],
        ["Please give an amount greater than zero.", "How much do you want to send?"],
        ["Who should receive it?"],
        ["What is Bob's IBAN?"],
        ["Send 20 EUR to Bob (DE89370400440532013000)?"],
        ["OK, I won't execute transfer."],
    ]
    assert "transaction_id" not in state["slots"]


@pytest.mark.slow  # a Python process of its own
def test_init_then_validate_in_real_processes(tmp_path: Path) -> None:
    def soni(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "soni", *args],
            cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    created = soni("init", "bot")
    checked = soni("validate", "bot", "--strict")

    assert created.returncode == 0, created.stderr
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout == "bot: OK (2 flows, 6 steps)\n"


@pytest.mark.parametrize("name", ["bot.yaml.tmpl", "tests/conversations.yaml.tmpl"])
def test_the_templates_are_plain_yaml(name: str) -> None:
    assert isinstance(yaml.safe_load(template(name)), dict)
