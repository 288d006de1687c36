"""``soni validate --url`` and ``soni actions list --url``: a bot checked against what a
running server serves — its own handlers and the actions its workers announced —
with a real server and a real action worker."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from soni.actions import ActionRegistry
from soni.cli import app
from soni.server import ServerSettings, create_app
from soni.worker import Worker

from ..server.conftest import LiveServer

runner = CliRunner()

BOT = """
version: "1.0"
flows:
  report:
    description: "a report"
    steps:
      - {step: work, type: action, call: remote_report}
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    bot = tmp_path / "served"
    bot.mkdir()
    (bot / "bot.yaml").write_text(BOT)
    app_ = create_app(bot, ServerSettings(), db=str(tmp_path / "s.db"), remote_actions=True)
    live = LiveServer(app_).start()
    registry = ActionRegistry()
    registry.register_local("remote_report", lambda: {"rows": 3})
    worker = Worker(live.ws_url, registry=registry, name="reports").start()
    try:
        yield live
    finally:
        worker.stop()
        live.stop()


def test_validate_against_a_server_says_where_each_action_runs(
    server: LiveServer, tmp_path: Path
) -> None:
    bot = tmp_path / "bot"
    bot.mkdir()
    (bot / "bot.yaml").write_text(BOT)
    done = runner.invoke(app, ["validate", str(bot), "--url", server.url])
    assert done.exit_code == 0, done.output
    assert "remote_report: remote (reports-" in done.output

    (bot / "bot.yaml").write_text(BOT.replace("remote_report", "remote_reprot"))
    done = runner.invoke(app, ["validate", str(bot), "--url", server.url, "--json"])
    assert done.exit_code == 1
    found = json.loads(done.stdout)
    assert "unknown action 'remote_reprot'" in found["errors"][0]["message"]
    assert "did you mean 'remote_report'" in found["errors"][0]["message"]


def test_actions_list_against_a_server_shows_the_worker(server: LiveServer, tmp_path: Path) -> None:
    bot = tmp_path / "bot"
    bot.mkdir()
    (bot / "bot.yaml").write_text(BOT)
    done = runner.invoke(app, ["actions", "list", str(bot), "--url", server.url, "--json"])
    assert done.exit_code == 0, done.output
    (action,) = json.loads(done.stdout)
    assert action["name"] == "remote_report"
    assert action["scope"] is None  # no handler in this process
    assert action["served"].startswith("remote (reports-")


def test_a_server_that_cannot_be_asked_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "bot.yaml").write_text(BOT)
    done = runner.invoke(app, ["validate", str(tmp_path), "--url", "ftp://host"])
    assert done.exit_code == 2
    assert "http:// or https://" in done.output
    done = runner.invoke(app, ["validate", str(tmp_path), "--url", "http://127.0.0.1:9"])
    assert done.exit_code == 1
    assert "cannot reach http://127.0.0.1:9/actions" in done.output
