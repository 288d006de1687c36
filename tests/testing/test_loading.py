"""Reading test files: the format, and a clear error at the right line for each mistake."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from soni.dsl.errors import ConfigErrors
from soni.testing import ConversationTestErrors, load_test_file, load_test_files, parse_test_file
from soni.testing.models import ApproveStep, BotStep, PendingStep, UserStep


def errors_of(text: str, path: str = "t.yaml") -> list[str]:
    with pytest.raises(ConversationTestErrors) as caught:
        parse_test_file(textwrap.dedent(text).lstrip(), path)
    return [str(error) for error in caught.value.errors]


def test_a_file_is_read_into_tests_and_steps() -> None:
    loaded = parse_test_file(
        textwrap.dedent(
            """
            tests:
              - name: one
                slots: {amount: 5}
                stub_actions: {lookup: {ok: true}, ping: null}
                steps:
                  - user: "hi"
                  - bot: "/hel+o/"
                  - pending: {action: pay, prompt: "Pay?"}
                  - approve: true
            """
        ).lstrip(),
        "t.yaml",
    )
    (test,) = loaded.tests
    assert test.name == "one"
    assert test.slots == {"amount": 5}
    assert test.stub_actions == {"lookup": {"ok": True}, "ping": None}
    assert [type(s) for s in test.steps] == [UserStep, BotStep, PendingStep, ApproveStep]
    assert loaded.test_line(0) == 2
    assert loaded.step_line(0, 2) == 8
    assert test.steps[2].describe() == "pending: {action: 'pay', prompt: 'Pay?'}"


def test_a_number_where_text_is_expected_is_text() -> None:
    (test,) = parse_test_file("tests: [{name: 1, steps: [{user: 5}, {bot: 404}]}]").tests
    assert test.name == "1"
    assert test.steps[0] == UserStep(user="5")
    assert test.steps[1] == BotStep(bot="404")


def test_an_unknown_step_names_the_line_and_the_closest_key() -> None:
    assert errors_of(
        """
        tests:
          - name: t
            steps:
              - user: hi
              - usr: hello
        """
    ) == [
        "t.yaml:5:9: tests[0].steps[1]: unknown step 'usr' (did you mean 'user'?); a step is "
        "a mapping with one of the keys user, bot, pending, approve, skip, choose, expire, "
        "action_executed, action_not_executed, action_failed, slot, flow"
    ]


def test_a_step_with_two_keys_is_refused() -> None:
    (error,) = errors_of("tests:\n  - name: t\n    steps:\n      - {user: hi, bot: hello}\n")
    assert error == (
        "t.yaml:4:9: tests[0].steps[0]: a step has exactly one key, got 'user', 'bot' "
        "(write one step for each)"
    )


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ("[user, hi]", "expected a step, got a list"),
        ("{}", "an empty step"),
        ("hello", "expected a step, got 'hello'"),
    ],
)
def test_a_step_that_is_not_a_one_key_mapping(step: str, message: str) -> None:
    (error,) = errors_of(f"tests:\n  - name: t\n    steps:\n      - {step}\n")
    assert error.startswith(f"t.yaml:4:9: tests[0].steps[0]: {message}")


def test_unknown_keys_in_a_test_and_in_a_check() -> None:
    assert errors_of(
        """
        tests:
          - name: t
            stub_action: {x: {}}
            steps:
              - pending: {acton: pay}
        """
    ) == [
        "t.yaml:3:5: tests[0]: unknown key 'stub_action' in a test (did you mean 'stub_actions'?)",
        "t.yaml:5:19: tests[0].steps[0].pending: unknown key 'acton' in a pending check "
        "(did you mean 'action'?)",
    ]


def test_every_mistake_in_a_file_is_reported_at_once() -> None:
    assert errors_of(
        """
        tests:
          - steps: []
          - name: t
            steps:
              - approve: false
              - bot: "/(unclosed/"
              - slot: {}
              - flow: [a]
          - name: t
            steps: [{user: [hi]}]
        """
    ) == [
        "t.yaml:2:5: tests[0]: missing 'name'",
        "t.yaml:2:12: tests[0].steps: expected at least one step",
        "t.yaml:5:18: tests[1].steps[0].approve: expected true, got false "
        "(leave the step out instead)",
        "t.yaml:6:14: tests[1].steps[1].bot: invalid regular expression /(unclosed/: "
        "missing ), unterminated subpattern at position 0",
        "t.yaml:7:15: tests[1].steps[2].slot: expected at least one entry",
        "t.yaml:8:15: tests[1].steps[3].flow: expected text, got a list",
        "t.yaml:10:20: tests[2].steps[0].user: expected text, got a list",
    ]


def test_a_misspelt_tests_key() -> None:
    assert errors_of("test: []\n") == [
        "t.yaml:1:1: missing 'tests': a test file lists its conversations under 'tests:'",
        "t.yaml:1:1: unknown key 'test' in the test file (did you mean 'tests'?)",
    ]


def test_two_tests_with_one_name() -> None:
    (error,) = errors_of(
        "tests:\n  - {name: a, steps: [{user: x}]}\n  - {name: a, steps: [{user: y}]}\n"
    )
    assert error == "t.yaml:3:12: tests[1].name: a test named 'a' is already defined on line 2"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tests: [\n", "t.yaml:2:1: invalid YAML"),
        ("- user: hi\n", "t.yaml:1:1: expected a mapping with 'tests', got a list"),
        ("tests: []\n", "t.yaml:1:8: tests: expected at least one test"),
        ("tests:\n  - name: a\n    name: b\n", "t.yaml:3:5: tests[0]: duplicate key 'name'"),
        ("tests: {a: 1}\n", "t.yaml:1:8: tests: expected a list, got a mapping"),
        (
            "tests: [{name: a, slots: {1x: 2}, steps: [{user: x}]}]\n",
            "t.yaml:1:27: tests[0].slots: '1x' is not a valid name (letters, digits and '_'",
        ),
    ],
)
def test_malformed_files(text: str, message: str) -> None:
    (error,) = errors_of(text)
    assert error.startswith(message)


def test_the_errors_are_config_errors_about_the_tests() -> None:
    with pytest.raises(ConfigErrors, match=r"^1 error in the conversation tests:\n  t.yaml:1"):
        parse_test_file("tests: 5\n", "t.yaml")


def test_a_missing_file_or_another_suffix(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("tests: []\n")
    with pytest.raises(ConversationTestErrors) as caught:
        load_test_files([tmp_path / "nope.yaml", tmp_path / "notes.txt"])
    assert [str(e) for e in caught.value.errors] == [
        f"{tmp_path / 'nope.yaml'}: no such test file",
        f"{tmp_path / 'notes.txt'}: expected a .yaml or .yml file",
    ]


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_bytes(b"tests: \xff\n")
    with pytest.raises(ConversationTestErrors, match="not valid UTF-8"):
        load_test_file(path)
