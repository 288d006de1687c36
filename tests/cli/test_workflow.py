"""A bot author's first five minutes, as real processes: init, validate, test, chat."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # each runs several soni processes

SONI = [sys.executable, "-m", "soni"]


def soni(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SONI, *args], cwd=cwd, input=stdin, capture_output=True, text=True, timeout=120
    )


def test_init_then_validate_test_and_chat_with_the_new_bot(tmp_path: Path) -> None:
    created = soni("init", "mybot", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    assert (tmp_path / "mybot" / "bot.yaml").is_file()

    validated = soni("validate", "mybot", "--strict", cwd=tmp_path)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert validated.stdout.startswith("mybot: OK")

    tested = soni("test", "mybot", cwd=tmp_path)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "4 passed" in tested.stdout and "failed" not in tested.stdout

    script = "send 50 to Ana\nES9121000418450200051332\ny\n/state\n/quit\n"
    chatted = soni("chat", "mybot", "--db", "chat.db", cwd=tmp_path, stdin=script)
    assert chatted.returncode == 0, chatted.stderr
    out = chatted.stdout
    assert "bot> Send 50 EUR to Ana (ES9121000418450200051332)?" in out
    assert "[y] approve  [n] skip" in out
    assert "bot> Transfer TX-" in out and "sent: 50 EUR to Ana." in out
    assert chatted.stderr == ""
    # The conversation was kept where --db said, beside the bot, not in the bot's
    # default location.
    assert (tmp_path / "chat.db").is_file()


def test_a_broken_edit_is_caught_by_validate_and_test(tmp_path: Path) -> None:
    assert soni("init", "mybot", cwd=tmp_path).returncode == 0
    bot = tmp_path / "mybot" / "bot.yaml"
    bot.write_text(bot.read_text().replace("type: collect", "type: colect", 1))

    validated = soni("validate", "mybot", cwd=tmp_path)
    tested = soni("test", "mybot", cwd=tmp_path)

    assert validated.returncode == 1
    assert "bot.yaml:" in validated.stdout + validated.stderr
    assert "colect" in validated.stdout + validated.stderr
    assert tested.returncode == 1
    assert "Traceback" not in tested.stderr
    assert "colect" in tested.stderr
