"""A warning for a message that names a slot its flow sets, at a step some way to
which does not set it first: it would say nothing where the value should be."""

from __future__ import annotations

import textwrap

from soni.dsl import parse_bot
from soni.dsl.lint import lint

HEAD = """
slots:
  amount: {type: float}
  code: {type: string}
  fee: {type: float, default: 0}
  city: {type: string}
actions:
  pay: {inputs: [amount], outputs: [code], confirm: "Pay {amount}?"}
  look: {outputs: [free]}
  book: {}
flows:
"""


def unset(flows: str) -> list[str]:
    source = textwrap.dedent(HEAD).lstrip("\n") + textwrap.indent(textwrap.dedent(flows), "  ")
    found = [str(w) for w in lint(parse_bot(source, path="bot.yaml"))]
    return [w.split("warning: ", 1)[1] for w in found if "may be unset" in w]


def test_a_slot_set_on_one_branch_only_is_reported_where_it_is_read() -> None:
    assert unset(
        """
        f:
          steps:
            - {step: ask, type: collect, slot: city}
            - step: which
              type: branch
              slot: city
              cases: {"==paris": set_it, default: tell}
            - {step: set_it, type: set, slots: {amount: 5}}
            - {step: tell, type: say, message: "It costs {amount} plus {fee} in {city}."}
        """
    ) == [
        "flows.f.steps[3].message: {amount} may be unset here, or hold a value from "
        "before: some way to step 'tell' does not set 'amount' first"
    ]


def test_an_actions_output_is_unset_where_its_skip_goes() -> None:
    assert unset(
        """
        f:
          steps:
            - {step: ask, type: collect, slot: amount}
            - {step: go, type: action, call: pay, on_skip: skipped}
            - {step: done, type: end, message: "Paid {amount}, reference {code}."}
            - {step: skipped, type: end, message: ["No payment {code}.", "Nothing paid."]}
        """
    ) == [
        "flows.f.steps[3].message[0]: {code} may be unset here, or hold a value from "
        "before: some way to step 'skipped' does not set 'code' first"
    ]


def test_a_chosen_item_is_set_after_the_choice_not_where_the_list_was_empty() -> None:
    assert unset(
        """
        f:
          slots: [{name: free, type: any}, {name: at, type: time}]
          steps:
            - {step: find, type: action, call: look}
            - step: pick
              type: choose
              message: "Which?"
              options_from: free
              bind: at
              action: book
              label: "at {at}"
              on_empty: none
            - {step: done, type: end, message: "Booked at {at}."}
            - {step: none, type: end, message: "Nothing at {at}."}
        """
    ) == [
        "flows.f.steps[3].message: {at} may be unset here, or hold a value from "
        "before: some way to step 'none' does not set 'at' first"
    ]


def test_slots_the_flow_never_sets_and_slots_with_defaults_are_not_judged() -> None:
    assert (
        unset(
            """
        f:
          steps:
            - {step: hi, type: say, message: "Hello from {city}, fee {fee}."}
        """
        )
        == []
    )


def test_a_choice_from_a_list_no_step_fills_is_reported() -> None:
    source = textwrap.dedent(HEAD).lstrip("\n") + textwrap.indent(
        textwrap.dedent(
            """
        f:
          slots: [{name: free_slots, type: any}, {name: at, type: time}]
          steps:
            - {step: find, type: action, call: look}
            - {step: pick, type: choose, message: "Which?", options_from: free_slots,
               bind: at, action: book}
        """
        ),
        "  ",
    )
    found = [str(w) for w in lint(parse_bot(source, path="bot.yaml"))]
    assert any(
        "steps[1].options_from: no step of this flow sets 'free_slots', the list this "
        "choice offers" in w
        for w in found
    ), found
