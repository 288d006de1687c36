"""Edge cases of the runner a review found, each once a bug: a refused preset
hidden by a default, a missing handler stopping a run half-way, JUnit XML broken
by control characters, the pytest plugin collecting other projects' YAML, an
empty pattern that matches any reply."""

from __future__ import annotations

import subprocess
import sys
import xml.dom.minidom
from pathlib import Path

import pytest

from soni.dsl.errors import ConfigErrors
from soni.testing import run_tests
from soni.testing.junit import junit_xml

from .conftest import WriteTests


def _add_slot_with_default(shop: Path) -> None:
    bot = shop / "bot.yaml"
    text = bot.read_text()
    text = text.replace(
        "  outcome:\n    type: string\n",
        "  outcome:\n    type: string\n  tip:\n    type: integer\n    default: 5\n"
        "    validator: positive\n",
    )
    bot.write_text(text)


# -- a refused preset fails even when the slot has a default ----------------------


async def test_refused_preset_of_a_slot_with_a_default_fails_the_test(
    shop: Path, write_tests: WriteTests
) -> None:
    """docs/testing.md: "A value the bot refuses fails the test at step 0".

    `tip` has `default: 5` and `validator: positive`; the bot refuses -3 (it says so),
    the slot keeps 5, and Conversation.preset only checks `held.get(n) is None`.
    """
    _add_slot_with_default(shop)
    path = write_tests(
        """
        tests:
          - name: a refused preset
            slots: {tip: -3}
            steps:
              - user: "hello"
        """
    )
    report = await run_tests(shop, [path])
    [result] = report.results
    assert not result.passed, "the bot refused tip=-3, yet the test passed"
    assert result.failure is not None and result.failure.index == 0


# -- a test without the stub another test has is refused before any test runs -------------


async def test_unstubbed_missing_handler_is_reported_before_any_test_runs(
    shop: Path, write_tests: WriteTests
) -> None:
    # place_order has no handler: test 1 stubs it, test 2 does not, so the bot of
    # test 2 cannot load. Found before any test runs, at test 2's line.
    actions = shop / "actions.py"
    actions.write_text(
        actions.read_text().replace(
            '@ActionRegistry.register("place_order")\n'
            "def place_order(item: str, quantity: int) -> dict[str, str]:\n"
            '    return {"reference": f"ORD-{quantity}-{item}"}\n',
            "",
        )
    )
    path = write_tests(
        """
        tests:
          - name: stubbed
            stub_actions: {place_order: {reference: R-1}}
            steps:
              - user: "i want to order tea"
              - user: "2"
              - approve: true
          - name: not stubbed
            steps:
              - user: "hello"
        """
    )
    ran: list[str] = []
    with pytest.raises(ConfigErrors) as raised:
        await run_tests(shop, [path], on_result=lambda r: ran.append(r.name))

    assert ran == []
    [error] = raised.value.errors
    assert error.line == 8  # "- name: not stubbed"
    assert "the bot has no handler for place_order" in error.message


# -- JUnit XML stays well-formed with control characters ---------------------


async def test_junit_xml_is_well_formed_with_control_characters(
    shop: Path, write_tests: WriteTests
) -> None:
    """YAML allows "\\x01" in a double-quoted name; ElementTree writes it raw, and
    XML 1.0 forbids it: CI's JUnit parser rejects the whole report."""
    path = write_tests(
        """
        tests:
          - name: "odd \\x01 name <&>"
            steps:
              - user: "hello"
              - bot: "nope"
        """
    )
    report = await run_tests(shop, [path])
    document = junit_xml(report)
    xml.dom.minidom.parseString(document.encode("utf-8"))  # raises ExpatError now


async def test_junit_xml_is_well_formed_with_a_handler_error_message(
    shop: Path, write_tests: WriteTests
) -> None:
    """A handler's exception text lands unescaped in the failure (ActionRun.__str__)."""
    actions = shop / "actions.py"
    actions.write_text(
        actions.read_text().replace(
            'raise LookupError("no such item")', 'raise LookupError("no such item \\x1b[0m\\x07")'
        )
    )
    path = write_tests(
        """
        tests:
          - name: stock fails
            steps:
              - user: "i want to order unobtainium"
              - user: "2"
              - action_executed: check_stock
        """
    )
    report = await run_tests(shop, [path])
    assert not report.ok
    xml.dom.minidom.parseString(junit_xml(report).encode("utf-8"))


# -- the pytest plugin leaves unrelated tests/*.yaml alone ----------------------


@pytest.mark.slow  # pytest in a process of its own
def test_pytest_plugin_leaves_a_non_bot_project_alone(tmp_path: Path) -> None:
    """Any project with a YAML file at its root (mkdocs.yml, docker-compose.yml,
    environment.yml, ...) and a tests/*.yaml with a top-level `tests:` key (a CI
    matrix, fixtures) gets a collection error from soni's auto-loaded plugin, which
    interrupts the project's whole pytest run. _is_bot_folder only asks for *any*
    YAML file."""
    (tmp_path / "mkdocs.yml").write_text("site_name: docs\n")
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "matrix.yaml").write_text('tests:\n  - python: "3.11"\n')
    (tests / "test_ok.py").write_text("def test_ok():\n    assert True\n")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:]


# -- a pattern that matches any text is refused ---------------------------


@pytest.mark.parametrize("expected", ["//", "/.*/", "/(hello)?/"])
async def test_a_pattern_that_matches_any_text_is_refused(
    shop: Path, write_tests: WriteTests, expected: str
) -> None:
    # It would be found in any reply: a step that could never fail.
    path = write_tests(
        f"""
        tests:
          - name: empty pattern
            steps:
              - user: "hello"
              - bot: "{expected}"
        """
    )
    with pytest.raises(ConfigErrors, match="matches any text"):
        await run_tests(shop, [path])
