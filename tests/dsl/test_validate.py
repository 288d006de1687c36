"""Cross-reference checks: jumps, flows, slots, validators and actions that must exist."""

from __future__ import annotations

from pathlib import Path

import pytest

from soni.dsl import (
    BotConfig,
    FlowDef,
    SayStep,
    default_registry,
    load_bot,
    validate_bot,
)

from ._helpers import config_errors, messages, write


def errors_for(workdir: Path, *parts: str, **kwargs: object) -> list[str]:
    write(workdir / "bot.yaml", *parts)
    return messages("bot.yaml", **kwargs)


def test_jumps_to_unknown_steps_are_reported_with_suggestions(workdir: Path) -> None:
    assert errors_for(
        workdir,
        """
        slots:
          ok: {type: boolean}
          amount: {type: float}
        flows:
          f:
            steps:
              - {step: ask, type: collect, slot: amount, next: confrim}
              - step: check
                type: branch
                slot: amount
                cases: {">10": confirm, default: nowhere}
              - step: confirm
                type: confirm
                slot: ok
                on_confirm: end
                on_deny: cancel
              - step: pay
                type: action
                call: pay
                on_skip: cancelled
                on_error: ask
              - step: pick
                type: choose
                message: "Which?"
                options: [pay]
                on_skip: cancled
              - step: loop
                type: while
                condition: "amount < 3"
                do: [ask, asks, loop]
                exit_to: the_end
              - {step: cancelled, type: end}
        """,
    ) == [
        "bot.yaml:7:56: flows.f.steps[0].next: 'next' names unknown step 'confrim' "
        "(did you mean 'confirm'?); a jump names a step of this flow or 'end'",
        "bot.yaml:11:42: flows.f.steps[1].cases.default: case 'default' jumps to unknown "
        "step 'nowhere'",
        "bot.yaml:16:18: flows.f.steps[2].on_deny: 'on_deny' names unknown step 'cancel' "
        "(did you mean 'cancelled'?); a jump names a step of this flow or 'end'",
        "bot.yaml:26:18: flows.f.steps[4].on_skip: 'on_skip' names unknown step 'cancled' "
        "(did you mean 'cancelled'?); a jump names a step of this flow or 'end'",
        "bot.yaml:30:19: flows.f.steps[5].do[1]: 'do' names unknown step 'asks' "
        "(did you mean 'ask'?)",
        "bot.yaml:30:25: flows.f.steps[5].do[2]: the loop 'loop' cannot run itself",
        "bot.yaml:31:18: flows.f.steps[5].exit_to: 'exit_to' names unknown step 'the_end'; "
        "a jump names a step of this flow or 'end'",
    ]


def test_duplicate_and_reserved_step_ids(workdir: Path) -> None:
    assert errors_for(
        workdir,
        """
        flows:
          f:
            steps:
              - {step: hello, type: say, message: hi}
              - step: loop
                type: while
                condition: "true"
                do:
                  - {step: hello, type: say, message: again}
              - {step: end, type: end}
        """,
    ) == [
        "bot.yaml:9:20: flows.f.steps[1].do[0].step: duplicate step id 'hello' "
        "(first at bot.yaml:4:16)",
        "bot.yaml:10:16: flows.f.steps[2].step: 'end' cannot be a step id: it ends the flow",
    ]


def test_next_where_it_has_no_effect(workdir: Path) -> None:
    assert errors_for(
        workdir,
        """
        flows:
          f:
            steps:
              - {step: a, type: while, condition: "false", do: [b], next: b}
              - {step: b, type: link, target: g, next: c}
              - {step: c, type: end, next: a}
          g:
            steps: [{step: x, type: end}]
        """,
    ) == [
        "bot.yaml:4:67: flows.f.steps[0].next: 'next' has no effect on a while step; "
        "use 'exit_to' to say where the loop exits",
        "bot.yaml:5:48: flows.f.steps[1].next: 'next' has no effect on a link step; "
        "the linked flow replaces this one",
        "bot.yaml:6:36: flows.f.steps[2].next: 'next' has no effect on a end step; "
        "the flow ends here",
    ]


def test_links_and_calls_to_unknown_flows(workdir: Path) -> None:
    assert errors_for(
        workdir,
        """
        flows:
          transfer:
            steps:
              - {step: a, type: link, target: transfre}
              - {step: b, type: call, target: elsewhere}
        """,
    ) == [
        "bot.yaml:4:39: flows.transfer.steps[0].target: unknown flow 'transfre' "
        "(did you mean 'transfer'?)",
        "bot.yaml:5:39: flows.transfer.steps[1].target: unknown flow 'elsewhere'",
    ]


SLOTS_BOT = """
slots:
  amount: {type: float, prompt: "How much, {nme}?"}
  name: {}
actions:
  pay:
    inputs: [amount, iban]
    outputs: [transaction_id]
    confirm: "Pay {amount} to {iban}?"
flows:
  f:
    trigger:
      intents: ["pay {amount} to {payee}"]
    slots:
      - {name: note}
      - {name: note}
    steps:
      - {step: a, type: collect, slot: amout}
      - {step: b, type: say, message: "Paying {amount} to {name} ({notes})"}
      - {step: c, type: branch, slot: amont, cases: {default: d}}
      - {step: d, type: branch, evaluate: "amount > limit", cases: {"true": e}}
      - {step: e, type: set, condition: "{amount} > 0", slots: {total: "{amount} + fee"}}
      - {step: g, type: set, slots: {greeting: "Hello {nam}", flag: "yes"}}
      - {step: h, type: action, call: pay, map_outputs: {transaction_id: tx, status: st}}
      - {step: i, type: say, message: "{tx} {total} {st} {greeting}"}
"""


def test_slots_used_but_never_declared_nor_assigned(workdir: Path) -> None:
    assert errors_for(workdir, SLOTS_BOT) == [
        "bot.yaml:2:33: slots.amount.prompt: unknown slot 'nme' in {nme} (did you mean 'name'?)",
        "bot.yaml:6:22: actions.pay.inputs[1]: unknown slot 'iban'",
        "bot.yaml:8:14: actions.pay.confirm: unknown slot 'iban' in {iban}",
        "bot.yaml:12:17: flows.f.trigger.intents[0]: unknown slot 'payee' in {payee}",
        "bot.yaml:15:16: flows.f.slots[1].name: slot 'note' is declared twice "
        "(first at bot.yaml:14:9)",
        "bot.yaml:17:40: flows.f.steps[0].slot: slot 'amout' is not declared "
        "(did you mean 'amount'?); a collected slot needs a declaration under 'slots' "
        "(its type, its prompt)",
        "bot.yaml:18:39: flows.f.steps[1].message: unknown slot 'notes' in {notes} "
        "(did you mean 'note'?)",
        "bot.yaml:19:39: flows.f.steps[2].slot: unknown slot 'amont' (did you mean 'amount'?)",
        "bot.yaml:20:43: flows.f.steps[3].evaluate: unknown slot 'limit' in the expression",
        "bot.yaml:21:72: flows.f.steps[4].slots.total: unknown slot 'fee' in the expression",
        # A set text that is not an expression is a template; its slots are checked.
        "bot.yaml:22:48: flows.f.steps[5].slots.greeting: unknown slot 'nam' in {nam} "
        "(did you mean 'name'?)",
        "bot.yaml:23:78: flows.f.steps[6].map_outputs.status: action 'pay' declares no output "
        "'status'",
    ]


def test_without_implicit_slots_every_assigned_slot_must_be_declared(workdir: Path) -> None:
    errors = errors_for(
        workdir,
        """
        slots:
          amount: {type: float}
        flows:
          f:
            steps:
              - {step: a, type: set, slots: {total: 1}}
              - {step: b, type: action, call: pay, map_outputs: {id: tx}}
              - {step: c, type: confirm, slot: sure}
              - {step: d, type: call, target: g, outputs: {result: outcome}}
              - {step: e, type: say, message: "{total}"}
          g:
            slots: [{name: result}]
            steps: [{step: x, type: end}]
        """,
        implicit_slots=False,
    )

    assert errors == [
        "bot.yaml:6:38: flows.f.steps[0].slots.total: slot 'total' is not declared",
        "bot.yaml:7:62: flows.f.steps[1].map_outputs.id: slot 'tx' is not declared",
        "bot.yaml:8:40: flows.f.steps[2].slot: slot 'sure' is not declared",
        "bot.yaml:9:60: flows.f.steps[3].outputs.result: slot 'outcome' is not declared",
        "bot.yaml:10:39: flows.f.steps[4].message: unknown slot 'total' in {total}",
    ]


def test_call_inputs_and_outputs_name_slots_on_both_sides(workdir: Path) -> None:
    assert errors_for(
        workdir,
        """
        slots:
          amount: {type: float}
        flows:
          main:
            steps:
              - step: verify
                type: call
                target: check
                inputs: {limit: amount, owner: who}
                outputs: {verdict: result, okay: fine}
          check:
            slots: [{name: limit}, {name: verdict}]
            steps: [{step: x, type: end}]
        """,
    ) == [
        "bot.yaml:9:33: flows.main.steps[0].inputs.owner: flow 'check' has no slot 'owner'",
        "bot.yaml:9:40: flows.main.steps[0].inputs.owner: unknown slot 'who'",
        "bot.yaml:10:36: flows.main.steps[0].outputs.okay: flow 'check' has no slot 'okay'",
    ]


def test_expressions_skip_literals_words_and_quoted_text(workdir: Path) -> None:
    load_bot(
        write(
            workdir / "bot.yaml",
            """
            slots:
              amount: {type: float}
              account: {choices: [checking, savings]}
            flows:
              f:
                steps:
                  - step: a
                    type: branch
                    evaluate: >-
                      amount > 100 and account in ['checking', "savings"]
                      or not (amount == null) or True or NONE
                    cases: {"true": b}
                  - step: b
                    type: set
                    slots: {amount: "{amount} * 2"}
                    condition: "amount != 'x y'"
            """,
        )
    )


def test_an_unclosed_quote_in_an_expression(workdir: Path) -> None:
    assert errors_for(
        workdir,
        "slots: {x: {}}\nflows:\n  f:\n    steps:\n"
        '      - {step: a, type: while, condition: "x == \'a", do: [b]}\n'
        "      - {step: b, type: end}\n",
    ) == [
        "bot.yaml:5:43: flows.f.steps[0].condition: invalid expression: "
        'unterminated string at position 5 in expression "x == \'a"'
    ]


def test_comparison_patterns_need_numbers(workdir: Path) -> None:
    assert errors_for(
        workdir,
        """
        slots:
          n: {type: integer}
        flows:
          f:
            steps:
              - {step: a, type: branch, slot: n, cases: {">=ten": b, "<5": b, "==x": b, "yes": b}}
              - {step: b, type: end}
        """,
    ) == [
        "bot.yaml:6:50: flows.f.steps[0].cases[\">=ten\"]: invalid case pattern '>=ten': "
        "expected a number after '>=', found 'ten'"
    ]


def test_slot_defaults_and_choices_are_checked(workdir: Path) -> None:
    assert errors_for(
        workdir,
        """
        slots:
          count: {type: int, default: 1.5}
          day: {type: date, default: someday}
          account:
            choices: {checking: [main], savings: [Main]}
          name: {name: other}
        flows:
          f:
            steps: [{step: a, type: end}]
        """,
    ) == [
        "bot.yaml:2:31: slots.count.default: default 1.5 is not a valid int: "
        "expected a whole number, got 1.5",
        "bot.yaml:3:30: slots.day.default: default 'someday' is not a valid date: "
        "expected a date (yyyy-mm-dd or dd/mm/yyyy), got 'someday'",
        "bot.yaml:5:14: slots.account.choices: 'Main' stands for both choices 'checking' "
        "and 'savings'",
        "bot.yaml:6:16: slots.name.name: slot name 'other' differs from its key 'name'",
    ]


def test_time_and_datetime_slots_check_their_defaults_and_a_misspelt_type(
    workdir: Path,
) -> None:
    assert errors_for(
        workdir,
        """
        slots:
          opens: {type: time, default: "25:00"}
          closes: {type: time, default: "22:30"}
          visit: {type: datetime, default: "2026-12-06"}
          first: {type: datetime, default: "2026-12-06 09:00"}
        flows:
          f:
            steps: [{step: a, type: end}]
        """,
    ) == [
        "bot.yaml:2:32: slots.opens.default: default '25:00' is not a valid time: "
        "'25:00' is not a valid time: hour must be in 0..23",
        "bot.yaml:4:36: slots.visit.default: default '2026-12-06' is not a valid datetime: "
        "expected a date and a time (yyyy-mm-dd hh:mm), got '2026-12-06'",
    ]
    assert errors_for(workdir, "slots:\n  last: {type: tim}\n") == [
        "bot.yaml:2:16: slots.last.type: unknown slot type 'tim' (did you mean 'time'?); "
        "expected one of: string, text, integer, int, number, float, boolean, date, time, "
        "datetime, email, choice, any",
    ]


def test_a_settings_key_close_to_a_known_one_is_a_typo(workdir: Path) -> None:
    assert errors_for(
        workdir,
        "settings:\n  persistance: {backend: memory}\n  logging: {level: INFO}\n"
        "flows: {f: {steps: [{step: a, type: end}]}}\n",
    ) == [
        "bot.yaml:2:16: settings.persistance: unknown settings key 'persistance' "
        "(did you mean 'persistence'?)"
    ]


def test_a_bot_without_flows(workdir: Path) -> None:
    assert errors_for(workdir, "slots: {a: {}}\n") == ["bot.yaml: the bot defines no flows"]


VALIDATORS_BOT = """
slots:
  amount: {type: float, validator: positve}
flows:
  f:
    slots: [{name: mail, validator: email}]
    steps:
      - {step: a, type: collect, slot: amount, validator: non_negativ}
      - {step: b, type: action, call: execute_transfer}
      - step: c
        type: choose
        message: "Pick"
        options: [refund, {action: replace}]
"""


def test_validators_and_actions_are_checked_only_when_known(workdir: Path) -> None:
    write(workdir / "bot.yaml", VALIDATORS_BOT)
    load_bot("bot.yaml")

    assert messages(
        "bot.yaml", validators=default_registry, actions=["execute_transfers", "refund"]
    ) == [
        "bot.yaml:2:36: slots.amount.validator: unknown validator 'positve' "
        "(did you mean 'positive'?)",
        "bot.yaml:7:59: flows.f.steps[0].validator: unknown validator 'non_negativ' "
        "(did you mean 'non_negative'?)",
        "bot.yaml:8:39: flows.f.steps[1].call: unknown action 'execute_transfer': "
        "no handler is registered (did you mean 'execute_transfers'?)",
        "bot.yaml:12:36: flows.f.steps[2].options[1].action: unknown action 'replace': "
        "no handler is registered",
    ]


def test_malformed_texts_are_reported_at_the_element(workdir: Path) -> None:
    write(
        workdir / "bot.yaml",
        """
        slots: {x: {type: integer}}
        flows:
          f:
            steps:
              - {step: a, type: say, message: "Hi {x"}
              - {step: b, type: branch, evaluate: "!x", cases: {"=1": c}}
              - {step: c, type: end}
        """,
    )

    assert messages("bot.yaml") == [
        "bot.yaml:5:39: flows.f.steps[0].message: invalid template: unclosed '{' "
        "(write '{{' for a literal brace) at position 3 in template 'Hi {x'",
        "bot.yaml:6:43: flows.f.steps[1].evaluate: invalid expression: "
        "unknown operator '!' (use 'not') at position 0 in expression '!x'",
        "bot.yaml:6:57: flows.f.steps[1].cases[\"=1\"]: invalid case pattern '=1': "
        "unknown operator in '=1' (use '==' or '!=')",
    ]


def test_every_cross_reference_error_is_reported_together(workdir: Path) -> None:
    write(workdir / "bot.yaml", SLOTS_BOT)

    errors = config_errors("bot.yaml", validators=["positive"], actions=[])

    assert len(errors) == 13
    assert sorted(errors, key=lambda e: (e.line or 0, e.column or 0)) == errors


def test_validate_bot_works_on_a_bot_built_in_code() -> None:
    bot = BotConfig(flows={"f": FlowDef(steps=[SayStep(step="a", message="Hi {who}", next="b")])})

    errors = validate_bot(bot)

    assert [str(error) for error in errors] == [
        "<bot>: flows.f.steps[0].next: 'next' names unknown step 'b'; "
        "a jump names a step of this flow or 'end'",
        "<bot>: flows.f.steps[0].message: unknown slot 'who' in {who}",
    ]
    assert all(error.line is None for error in errors)


@pytest.mark.parametrize("implicit", [True, False])
def test_the_banking_example_is_valid_in_implicit_mode_only(implicit: bool) -> None:
    folder = Path(__file__).parent / "fixtures" / "banking"
    if implicit:
        load_bot(folder)
    else:
        assert any("current_balance" in m for m in messages(folder, implicit_slots=False))


def test_on_unknown_and_a_choose_steps_on_error_name_steps_of_the_flow(workdir: Path) -> None:
    assert errors_for(
        workdir,
        """
        flows:
          f:
            steps:
              - {step: pay, type: action, call: pay, on_unknown: unsure}
              - {step: pick, type: choose, message: "Which?", options: [pay], on_error: faild}
              - {step: unknown, type: end}
              - {step: failed, type: end}
        """,
    ) == [
        "bot.yaml:4:58: flows.f.steps[0].on_unknown: 'on_unknown' names unknown step 'unsure'; "
        "a jump names a step of this flow or 'end'",
        "bot.yaml:5:81: flows.f.steps[1].on_error: 'on_error' names unknown step 'faild' "
        "(did you mean 'failed'?); a jump names a step of this flow or 'end'",
    ]


def test_a_trigger_phrase_names_its_slots_bare(workdir: Path) -> None:
    assert errors_for(
        workdir,
        """
        slots:
          day: {type: date}
        flows:
          f:
            trigger: {intents: ["book for {day:%A}"]}
            steps:
              - {step: done, type: say, message: "Booked for {day:%A %d %B}."}
        """,
    ) == [
        "bot.yaml:5:25: flows.f.trigger.intents[0]: a trigger phrase names a slot bare "
        "({day}, not '{day:%A}'): a format spec only shapes what the bot says"
    ]
