"""`soni test`: its output, exit codes, --json and --junit, and its one-line errors."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

import soni.cli.test
from soni.cli import app

from .conftest import WriteTests

runner = CliRunner()

PASSING = "  - {name: greets, steps: [{user: hello}, {bot: 'Hello !'}]}\n"
FAILING = "  - name: says bye\n    steps:\n      - user: hello\n      - bot: Bye\n"


def test_a_passing_run_exits_0(shop: Path, write_tests: WriteTests) -> None:
    path = write_tests("tests:\n" + PASSING)
    result = runner.invoke(app, ["test", str(shop)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"PASS {path}:2 greets"
    assert lines[-1].startswith("1 passed in ")


def test_a_failure_shows_the_step_expected_and_actual_and_exits_1(
    shop: Path, write_tests: WriteTests
) -> None:
    path = write_tests("tests:\n" + PASSING + FAILING)
    result = runner.invoke(app, ["test", str(shop), str(path)])
    assert result.exit_code == 1
    out = result.stdout
    assert f"FAIL {path}:3 says bye" in out
    assert f"FAILED {path}:3 says bye\n" in out
    assert "  step 2 (line 6): bot: 'Bye'\n" in out
    assert "    expected: the reply 'Bye'\n" in out
    assert "    actual:   'Hello !'\n" in out
    assert "    replies:  ['Hello !', 'Delivery on .']\n" in out
    assert out.splitlines()[-1].startswith("1 passed, 1 failed in ")


def test_json_output(shop: Path, write_tests: WriteTests) -> None:
    write_tests("tests:\n" + PASSING + FAILING)
    result = runner.invoke(app, ["test", str(shop), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert (data["passed"], data["failed"]) == (1, 1)
    assert [t["name"] for t in data["tests"]] == ["greets", "says bye"]
    failure = data["tests"][1]["failure"]
    assert (failure["index"], failure["line"], failure["expected"], failure["actual"]) == (
        2,
        6,
        "the reply 'Bye'",
        "'Hello !'",
    )


def test_junit_xml(shop: Path, write_tests: WriteTests, tmp_path: Path) -> None:
    path = write_tests("tests:\n" + PASSING + FAILING)
    report = tmp_path / "out" / "junit.xml"
    report.parent.mkdir()
    result = runner.invoke(app, ["test", str(shop), "--junit", str(report)])
    assert result.exit_code == 1
    root = ET.parse(report).getroot()
    assert (root.tag, root.get("tests"), root.get("failures")) == ("testsuites", "2", "1")
    (suite,) = root
    assert (suite.get("name"), suite.get("tests"), suite.get("failures")) == (str(path), "2", "1")
    passing, failing = suite.findall("testcase")
    assert (passing.get("name"), passing.get("line"), passing.find("failure")) == (
        "greets",
        "2",
        None,
    )
    assert failing.get("classname") == "case1"
    failure = failing.find("failure")
    assert failure is not None
    assert failure.get("message") == ("step 2: bot: 'Bye': expected the reply 'Bye', got 'Hello !'")
    assert failure.text is not None and "replies:  ['Hello !', 'Delivery on .']" in failure.text


def test_a_malformed_test_file_is_one_error(shop: Path, write_tests: WriteTests) -> None:
    path = write_tests("tests:\n  - name: t\n    steps:\n      - usr: hello\n")
    result = runner.invoke(app, ["test", str(shop)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(
        f"error: 1 error in the conversation tests:\n  {path}:4:9: tests[0].steps[0]: "
        "unknown step 'usr' (did you mean 'user'?)"
    )


def test_a_broken_bot_is_one_error(shop: Path, write_tests: WriteTests) -> None:
    write_tests("tests:\n" + PASSING)
    (shop / "bot.yaml").write_text("flows: {x: {steps: [{step: a, type: sya}]}}\n")
    result = runner.invoke(app, ["test", str(shop)])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: 1 error in the bot configuration:")
    assert "unknown step type 'sya'" in result.stderr


def test_no_tests_or_no_bot(shop: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["test", str(shop)])
    assert result.exit_code == 1
    folder = shop / "tests"
    assert result.stderr == f"error: no conversation tests in {folder} (expected *.yaml files)\n"
    result = runner.invoke(app, ["test", str(tmp_path / "nope")])
    assert result.exit_code == 1
    assert result.stderr == f"error: no such bot: {tmp_path / 'nope'}\n"


def test_names_and_texts_are_shown_as_written_with_the_progress_bar(
    shop: Path, write_tests: WriteTests, monkeypatch: pytest.MonkeyPatch
) -> None:
    # At a terminal the progress bar shows each test's name: "[/]" is not markup
    # there (it crashed the bar), and ":x:" is not an emoji code anywhere.
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=120, emoji=False, highlight=False)
    monkeypatch.setattr(soni.cli.test, "console", terminal)
    odd = "  - name: '[/] odd :x:'\n    steps:\n      - user: hello\n      - bot: ':x: [b]'\n"
    write_tests("tests:\n" + PASSING + odd)

    result = runner.invoke(app, ["test", str(shop)])

    assert result.exit_code == 1
    out = screen.getvalue()
    assert "[/] odd :x:" in out
    assert "expected: the reply ':x: [b]'" in out


def test_a_one_file_bot_runs_with_its_handlers_given_by_actions(shop: Path, tmp_path: Path) -> None:
    # A bot written as one file has no actions.py of its own to find: --actions.
    (shop / "tests").mkdir()
    (shop / "tests" / "hello.yaml").write_text("tests:\n" + PASSING)
    handlers = shop / "actions.py"
    moved = handlers.rename(tmp_path / "shop_handlers.py")

    without = runner.invoke(app, ["test", str(shop / "bot.yaml")])
    given = runner.invoke(app, ["test", str(shop / "bot.yaml"), "--actions", str(moved)])

    assert without.exit_code == 1
    assert given.exit_code == 0, given.output
    assert given.stdout.splitlines()[-1].startswith("1 passed in ")


def test_a_folder_of_test_files_can_be_given(shop: Path, write_tests: WriteTests) -> None:
    write_tests("tests:\n" + PASSING)
    result = runner.invoke(app, ["test", str(shop), str(shop / "tests")])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].startswith("1 passed in ")


def test_an_unwritable_junit_path_does_not_hide_the_results(
    shop: Path, write_tests: WriteTests, tmp_path: Path
) -> None:
    write_tests("tests:\n" + PASSING)
    result = runner.invoke(app, ["test", str(shop), "--junit", str(tmp_path / "no" / "r.xml")])
    assert result.exit_code == 1
    assert "1 passed in " in result.stdout
    assert "error:" in result.stderr
