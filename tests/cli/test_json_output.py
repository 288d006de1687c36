"""--json output is JSON alone, even when the bot's handlers print."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SHOP = Path(__file__).resolve().parents[1] / "testing" / "bots" / "shop"
TESTS = "tests:\n  - {name: greets, steps: [{user: hello}, {bot: 'Hello !'}]}\n"


@pytest.fixture
def noisy_shop(tmp_path: Path) -> Path:
    shop = Path(shutil.copytree(SHOP, tmp_path / "shop"))
    handlers = shop / "actions.py"
    handlers.write_text('print("connecting to the shop database")\n' + handlers.read_text())
    (shop / "tests").mkdir()
    (shop / "tests" / "hello.yaml").write_text(TESTS)
    return shop


@pytest.mark.parametrize(
    "command",
    [
        ["validate", "shop", "--json"],
        ["actions", "list", "shop", "--json"],
        ["test", "shop", "--json"],
    ],
    ids=["validate", "actions", "test"],
)
@pytest.mark.slow  # a Python process of its own
def test_what_handlers_print_goes_to_stderr(noisy_shop: Path, command: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "soni", *command],
        cwd=noisy_shop.parent, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    json.loads(done.stdout)  # nothing but the JSON
    assert "connecting to the shop database" in done.stderr
