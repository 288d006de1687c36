"""Model errors read as a bot author would want them: where, what, and a suggestion."""

from __future__ import annotations

from pathlib import Path

import pytest

from ._helpers import messages, write


def errors_for(workdir: Path, text: str) -> list[str]:
    write(workdir / "bot.yaml", text)
    return messages("bot.yaml")


def test_an_unknown_step_type_suggests_the_closest(workdir: Path) -> None:
    assert errors_for(
        workdir,
        """
        flows:
          transfer:
            steps:
              - step: ask
                type: colect
                slot: amount
        """,
    ) == [
        "bot.yaml:5:9: flows.transfer.steps[0]: unknown step type 'colect' "
        "(did you mean 'collect'?)"
    ]


def test_an_unknown_step_type_far_from_any_lists_them(workdir: Path) -> None:
    [message] = errors_for(workdir, "flows:\n  f:\n    steps:\n      - {step: a, type: xyzzy}\n")

    assert message == (
        "bot.yaml:4:19: flows.f.steps[0]: unknown step type 'xyzzy'; expected one of: "
        "say, collect, set, branch, while, action, choose, confirm, link, call, end"
    )


def test_a_step_without_a_type(workdir: Path) -> None:
    [message] = errors_for(
        workdir, "flows:\n  f:\n    steps:\n      - step: a\n        message: hi\n"
    )

    assert message.startswith(
        "bot.yaml:4:9: flows.f.steps[0]: missing required field 'type' in a step; "
        "expected one of: say, collect,"
    )


def test_an_unknown_key_in_a_step_suggests_the_field(workdir: Path) -> None:
    # The typo also leaves 'message' missing; that is the same mistake, reported once.
    assert errors_for(
        workdir,
        """
        flows:
          greet:
            steps:
              - step: hello
                type: say
                mesage: "Hello"
        """,
    ) == [
        "bot.yaml:6:9: flows.greet.steps[0]: unknown key 'mesage' in a say step "
        "(did you mean 'message'?)"
    ]


def test_an_unknown_key_without_a_close_field(workdir: Path) -> None:
    assert errors_for(
        workdir,
        """
        flows:
          greet:
            steps:
              - {step: hello, type: say, message: hi, colour: red}
        """,
    ) == ["bot.yaml:4:47: flows.greet.steps[0]: unknown key 'colour' in a say step"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("flow: {}\n", "bot.yaml:1:1: unknown key 'flow' at the top level (did you mean 'flows'?)"),
        (
            "slots:\n  a: {tipe: int}\n",
            "bot.yaml:2:7: slots.a: unknown key 'tipe' in a slot (did you mean 'type'?)",
        ),
        (
            "actions:\n  pay: {timeot: 3}\n",
            "bot.yaml:2:9: actions.pay: unknown key 'timeot' in an action (did you mean "
            "'timeout'?)",
        ),
        (
            "flows:\n  f:\n    trigers: {}\n    steps: [{step: a, type: end}]\n",
            "bot.yaml:3:5: flows.f: unknown key 'trigers' in a flow (did you mean 'trigger'?)",
        ),
        (
            "flows:\n  f:\n    trigger: {intent: [hi]}\n    steps: [{step: a, type: end}]\n",
            "bot.yaml:3:15: flows.f.trigger: unknown key 'intent' in a trigger "
            "(did you mean 'intents'?)",
        ),
        (
            "settings:\n  persistence: {backend: memory, pth: x}\n",
            "bot.yaml:2:34: settings.persistence: unknown key 'pth' in the persistence "
            "settings (did you mean 'path'?)",
        ),
        (
            "settings:\n  confirmations: {ttl: 3, tll: 4}\n",
            "bot.yaml:2:27: settings.confirmations: unknown key 'tll' in the confirmations "
            "settings (did you mean 'ttl'?)",
        ),
    ],
)
def test_unknown_keys_everywhere(workdir: Path, text: str, expected: str) -> None:
    assert expected in errors_for(workdir, text)


def test_a_missing_required_field_points_at_the_step(workdir: Path) -> None:
    assert errors_for(
        workdir,
        """
        flows:
          transfer:
            steps:
              - step: first
                type: say
                message: hi
              - step: ask
                type: collect
                message: "How much?"
        """,
    ) == ["bot.yaml:7:9: flows.transfer.steps[1]: missing required field 'slot' in a collect step"]


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (
            "confirmations: {ttl: abc}",
            "3:24: settings.confirmations.ttl: expected a number for 'ttl', got 'abc'",
        ),
        (
            "confirmations: {ttl: -5}",
            "3:24: settings.confirmations.ttl: 'ttl' must be greater than 0, got -5",
        ),
        (
            "confirmations: {ttl: .inf}",
            "3:24: settings.confirmations.ttl: expected a number for 'ttl', got inf",
        ),
        (
            "persistence: {backend: sqllite}",
            "3:26: settings.persistence.backend: unknown persistence backend 'sqllite' "
            "(did you mean 'sqlite'?); expected one of: memory, sqlite, postgres",
        ),
        (
            "persistence: {backend: postgres}",
            "3:16: settings.persistence: the postgres backend needs a 'url'",
        ),
        (
            "nlu: {engine: rule}",
            "3:17: settings.nlu.engine: unknown NLU engine 'rule' (did you mean 'rules'?); "
            "expected one of: rules, llm",
        ),
        (
            "persistence: [memory]",
            "3:16: settings.persistence: expected a mapping for 'persistence', got a list",
        ),
    ],
)
def test_settings_values(workdir: Path, settings: str, expected: str) -> None:
    text = f"version: '1.0'\nsettings:\n  {settings}\n"

    assert errors_for(workdir, text) == [f"bot.yaml:{expected}"]


@pytest.mark.parametrize(
    ("slot", "expected"),
    [
        (
            "{type: strng}",
            "2:18: slots.amount.type: unknown slot type 'strng' (did you mean 'string'?); "
            "expected one of: string, text, integer, int, number, float, boolean, date, time, "
            "datetime, email, choice, any",
        ),
        (
            "{required: maybe}",
            "2:22: slots.amount.required: expected true or false for 'required', got 'maybe'",
        ),
        (
            "{prompt: {a: b}}",
            "2:20: slots.amount.prompt: expected text or a list of texts for 'prompt', "
            "got a mapping",
        ),
        ("{prompt: []}", "2:20: slots.amount.prompt: 'prompt' must not be empty"),
        ("{type: choice}", "2:11: slots.amount: a choice slot needs 'choices'"),
        (
            "{type: int, choices: [a]}",
            "2:11: slots.amount: 'choices' only apply to a choice slot, not a int slot",
        ),
        ("{choices: [a, a]}", "2:21: slots.amount.choices: choice 'a' is listed twice"),
        (
            "{choices: [{a: x, b: y}]}",
            "2:21: slots.amount.choices: a choice with synonyms is a one-key mapping: {value: "
            "[synonyms]}",
        ),
        (
            "{choices: 5}",
            "2:21: slots.amount.choices: choices must be a list of values or a mapping of value "
            "to synonyms",
        ),
        ("[float]", "2:11: slots.amount: expected a mapping for 'amount', got a list"),
    ],
)
def test_slot_values(workdir: Path, slot: str, expected: str) -> None:
    assert errors_for(workdir, f"slots:\n  amount: {slot}\n") == [f"bot.yaml:{expected}"]


def test_an_invalid_slot_name_points_at_the_key(workdir: Path) -> None:
    assert errors_for(workdir, "slots:\n  my-slot: {}\n") == [
        "bot.yaml:2:3: slots.my-slot: invalid name 'my-slot': a slot name uses letters, "
        "digits and '_', and does not start with a digit"
    ]


def test_an_invalid_slot_name_in_a_step(workdir: Path) -> None:
    assert errors_for(
        workdir, "flows:\n  f:\n    steps:\n      - {step: a, type: collect, slot: 2x}\n"
    ) == [
        "bot.yaml:4:40: flows.f.steps[0].slot: invalid value for 'slot' '2x': a slot name "
        "uses letters, digits and '_', and does not start with a digit"
    ]


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (
            "'ask_amount'",
            "4:9: flows.f.steps[0]: expected a step (a mapping with 'step' and 'type'), got "
            "'ask_amount'",
        ),
        (
            "{step: a, type: say, message: true}",
            "4:39: flows.f.steps[0].message: expected text or a list of texts for 'message', "
            "got true",
        ),
        (
            "{step: a, type: say, message: }",
            "4:38: flows.f.steps[0].message: expected text or a list of texts for 'message', "
            "got nothing",
        ),
        ("{step: '', type: end}", "4:16: flows.f.steps[0].step: 'step' must not be empty"),
        (
            "{step: a, type: branch, slot: x, evaluate: 'x > 1', cases: {default: a}}",
            "4:9: flows.f.steps[0]: a branch step needs either 'slot' or 'evaluate' (both given)",
        ),
        (
            "{step: a, type: branch, slot: x, cases: {}}",
            "4:49: flows.f.steps[0].cases: a branch step needs at least one case",
        ),
        (
            "{step: a, type: while, condition: x, do: []}",
            "4:50: flows.f.steps[0].do: a while loop needs at least one step in 'do'",
        ),
        (
            "{step: a, type: while, condition: x, do: [[a]]}",
            "4:51: flows.f.steps[0].do[0]: expected a step id or an inline step (a mapping with "
            "'step' and 'type'), got a list",
        ),
        (
            "{step: a, type: set, slots: {}}",
            "4:37: flows.f.steps[0].slots: a set step needs at least one slot to set",
        ),
        (
            "{step: a, type: choose, message: m, options: []}",
            "4:54: flows.f.steps[0].options: a choose step needs at least one option",
        ),
        (
            "{step: a, type: choose, message: m, options: [{label: x}]}",
            "4:55: flows.f.steps[0].options[0]: missing required field 'action' in a choose option",
        ),
        (
            "{step: a, type: action, call: 'bad name'}",
            "4:39: flows.f.steps[0].call: invalid value for 'call' 'bad name': a name uses "
            "letters, digits, '_', '.' and '-', and starts with a letter or '_'",
        ),
        (
            "{step: a, type: action, call: x, map_outputs: [a]}",
            "4:55: flows.f.steps[0].map_outputs: expected a mapping for 'map_outputs', got a list",
        ),
        (
            "{step: a, type: call, target: g, inputs: [{a: b}]}",
            "4:50: flows.f.steps[0].inputs: list entries must be slot names; use a mapping to "
            "rename",
        ),
    ],
)
def test_step_values(workdir: Path, step: str, expected: str) -> None:
    assert errors_for(workdir, f"flows:\n  f:\n    steps:\n      - {step}\n") == [
        f"bot.yaml:{expected}"
    ]


def test_an_inline_loop_step_is_located_inside_the_loop(workdir: Path) -> None:
    assert errors_for(
        workdir,
        """
        flows:
          f:
            steps:
              - step: loop
                type: while
                condition: "x < 3"
                do:
                  - step: inner
                    type: say
                    mesage: hi
        """,
    ) == [
        "bot.yaml:10:13: flows.f.steps[0].do[0]: unknown key 'mesage' in a say step "
        "(did you mean 'message'?)"
    ]


def test_a_flow_without_steps(workdir: Path) -> None:
    assert errors_for(workdir, "flows:\n  f:\n    description: x\n") == [
        "bot.yaml:3:5: flows.f: missing required field 'steps' in a flow"
    ]
    assert errors_for(workdir, "flows:\n  f:\n    steps: []\n") == [
        "bot.yaml:3:12: flows.f.steps: a flow needs at least one step"
    ]


def test_flow_slots_need_a_name(workdir: Path) -> None:
    assert errors_for(
        workdir,
        "flows:\n  f:\n    slots:\n      - {type: int}\n    steps: [{step: a, type: end}]\n",
    ) == ["bot.yaml:4:9: flows.f.slots[0]: missing required field 'name' in a slot"]


def test_many_model_errors_are_reported_together(workdir: Path) -> None:
    errors = errors_for(
        workdir,
        """
        settings:
          confirmations: {ttl: soon}
        slots:
          amount: {type: flot}
        flows:
          f:
            steps:
              - {step: a, type: sey, message: hi}
              - {step: b, type: collect}
        """,
    )

    assert [error.split(": ", 1)[0] for error in errors] == [
        "bot.yaml:2:24",
        "bot.yaml:4:18",
        "bot.yaml:8:19",
        "bot.yaml:9:9",
    ]
