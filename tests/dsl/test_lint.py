"""Warnings: steps no path of their flow reaches, cases that never match, idle jumps."""

from __future__ import annotations

import re
import textwrap

import pytest

from soni.dsl import BranchStep, parse_bot
from soni.dsl.lint import ConfigWarning, dead_cases, lint


def warnings(text: str) -> list[str]:
    source = textwrap.dedent(text).lstrip("\n")
    return [str(w) for w in lint(parse_bot(source, path="bot.yaml"))]


def unreachable(text: str) -> list[str]:
    """The ids of the steps reported as never reached."""
    found = [re.search(r"step '(\w+)' is never reached", w) for w in warnings(text)]
    return [m.group(1) for m in found if m is not None]


def test_a_step_after_an_end_is_reported_with_its_place_and_why() -> None:
    assert warnings(
        """
        flows:
          f:
            steps:
              - {step: hello, type: say, message: Hi}
              - {step: bye, type: end}
              - {step: lost, type: say, message: x}
              - {step: also_lost, type: say, message: y}
        """
    ) == [
        "bot.yaml:6:9: warning: flows.f.steps[2]: step 'lost' is never reached: "
        "the end step above ends the flow, and no step jumps to it",
        "bot.yaml:7:9: warning: flows.f.steps[3]: step 'also_lost' is never reached: "
        "the step above is never reached either, and no step jumps to it",
    ]


def test_a_jump_back_makes_a_step_reachable() -> None:
    assert unreachable(
        """
        flows:
          f:
            steps:
              - {step: a, type: say, message: Hi, next: c}
              - {step: b, type: say, message: x, next: end}
              - {step: c, type: say, message: y}
              - {step: d, type: link, target: g}
              - {step: e, type: say, message: z}
          g:
            steps:
              - {step: a, type: say, message: Hi}
        """
    ) == ["b", "e"]


BRANCHES = """
slots:
  n: {type: integer}
flows:
  f:
    steps:
      - {step: ask, type: collect, slot: n}
      - step: check
        type: branch
        slot: n
        cases: CASES
      - {step: below, type: say, message: x, next: end}
      - {step: big, type: say, message: big, next: end}
      - {step: huge, type: say, message: huge}
"""


@pytest.mark.parametrize(
    ("cases", "lost"),
    [
        ('{">100": huge, ">10": big}', []),  # no default: 'below' is the fall-through
        ('{">10": big}', ["huge"]),
        ('{">10": big, ">100": huge, default: below}', ["huge"]),  # '>100' is shadowed
        ('{">10": big, default: huge}', ["below"]),
    ],
)
def test_branches_reach_their_live_cases_and_fall_through_without_default(
    cases: str, lost: list[str]
) -> None:
    assert unreachable(BRANCHES.replace("CASES", cases)) == lost


def test_a_shadowed_case_is_reported_at_its_key() -> None:
    [shadowed, *_] = warnings(
        BRANCHES.replace("CASES", '{">10": big, ">100": huge, default: below}')
    )

    assert shadowed == (
        "bot.yaml:10:29: warning: flows.f.steps[1].cases[\">100\"]: case '>100' never "
        "matches: case '>10' above already takes every value it would"
    )


@pytest.mark.parametrize(
    ("cases", "dead"),
    [
        ([">10", ">100"], {">100": ">10"}),
        ([">10", ">=10"], {}),  # 10 itself
        ([">=10", ">10"], {">10": ">=10"}),
        ([">10", ">=11"], {">=11": ">10"}),
        (["<=5", "<5"], {"<5": "<=5"}),
        (["<5", "<=5"], {}),
        ([">5", "<3"], {}),
        (["Paris", "==paris"], {"==paris": "Paris"}),
        (["!=a", "!= A"], {"!= A": "!=a"}),
        (["==5", "==5.0"], {}),  # [5] reads "5", not "5.0"
        (["true", "TRUE", "false"], {"TRUE": "true"}),
        (["default", "x", "Default"], {"default": "Default"}),  # the engine uses the last
    ],
)
def test_dead_cases(cases: list[str], dead: dict[str, str]) -> None:
    step = BranchStep(step="b", slot="n", cases=dict.fromkeys(cases, "end"))

    assert dead_cases(step) == dead


LOOP = """
slots:
  n: {type: integer}
flows:
  f:
    steps:
      - {step: ask, type: collect, slot: n}
      - step: loop
        type: while
        condition: "n < 3"
        do:
          - count
          - step: inline
            type: say
            message: x
            NEXT
          - {step: after_inline, type: say, message: y}
        EXIT
      - {step: count, type: set, slots: {n: "{n} + 1"}}
      - {step: skipped, type: say, message: z}
      - {step: out, type: say, message: done}
"""


def test_loop_bodies_and_exits() -> None:
    plain = LOOP.replace("NEXT", "").replace("EXIT", "")
    assert unreachable(plain) == []  # 'count' runs in the body; the loop exits to 'skipped'
    assert unreachable(LOOP.replace("NEXT", "").replace("EXIT", "exit_to: out")) == ["skipped"]
    assert unreachable(LOOP.replace("NEXT", "next: end").replace("EXIT", "")) == ["after_inline"]


def test_the_steps_of_a_loop_nothing_reaches_are_reported() -> None:
    text = LOOP.replace("NEXT", "").replace("EXIT", "")
    text = text.replace("- {step: ask, type: collect, slot: n}", "- {step: ask, type: end}")
    found = warnings(text)

    assert unreachable(text) == ["loop", "inline", "after_inline", "count", "skipped", "out"]
    assert "step 'inline' is never reached: its loop 'loop' is never reached" in found[1]


CONFIRM = """
slots:
  ok: {type: boolean}
flows:
  f:
    steps:
      - step: ask
        type: confirm
        slot: ok
        FIELDS
      - {step: below, type: say, message: x, next: end}
      - {step: yes_step, type: say, message: y, next: end}
      - {step: no_step, type: say, message: n}
"""


def test_confirm_goes_on_confirm_or_below_and_on_deny() -> None:
    assert unreachable(CONFIRM.replace("FIELDS", "")) == ["yes_step", "no_step"]
    assert unreachable(CONFIRM.replace("FIELDS", "on_deny: no_step")) == ["yes_step"]
    assert unreachable(CONFIRM.replace("FIELDS", "on_confirm: yes_step")) == ["below", "no_step"]


def test_next_beside_on_confirm_is_never_taken() -> None:
    text = CONFIRM.replace("FIELDS", "on_confirm: yes_step\n        next: below")

    assert warnings(text) == [
        "bot.yaml:10:15: warning: flows.f.steps[0].next: 'next' is never taken: a yes goes "
        "to 'on_confirm', a no to 'on_deny' or the end of the flow",
        "bot.yaml:11:9: warning: flows.f.steps[1]: step 'below' is never reached: the confirm "
        "step above goes to 'yes_step' on yes, and the jumps to it (from 'ask') are never taken",
        "bot.yaml:13:9: warning: flows.f.steps[3]: step 'no_step' is never reached: the step "
        "above ends the flow ('next: end'), and no step jumps to it",
    ]


ACTION = """
actions:
  pay: {CONFIRM}
flows:
  f:
    steps:
      - {step: run, type: action, call: pay, on_skip: skipped, on_error: failed}
      - {step: done, type: end}
      - {step: skipped, type: end}
      - {step: failed, type: end}
      - step: pick
        type: choose
        message: Which?
        options: [pay]
        on_skip: skipped
"""


def test_on_skip_counts_only_when_the_action_asks_for_a_confirmation() -> None:
    guarded = ACTION.replace("{CONFIRM}", '{confirm: "Pay?"}')
    unguarded = ACTION.replace("{CONFIRM}", "{}")

    assert unreachable(guarded) == ["pick"]
    assert unreachable(unguarded) == ["skipped", "pick"]
    assert (
        "bot.yaml:6:55: warning: flows.f.steps[0].on_skip: 'on_skip' is never taken: "
        "action 'pay' asks for no confirmation (give the step or the action a 'confirm' "
        "question)"
    ) in warnings(unguarded)


def test_a_correction_may_rewind_to_the_first_collect_of_a_slot() -> None:
    assert (
        unreachable(
            """
            slots:
              n: {type: integer}
            flows:
              f:
                steps:
                  - {step: start, type: say, message: Hi, next: again}
                  - {step: first, type: collect, slot: n}
                  - {step: again, type: collect, slot: n}
            """
        )
        == []
    )


def test_a_warning_prints_like_a_compiler_s() -> None:
    warning = ConfigWarning("bot.yaml", 3, 7, "flows.f: something")

    assert str(warning) == "bot.yaml:3:7: warning: flows.f: something"
    assert str(ConfigWarning("bot.yaml", None, None, "m")) == "bot.yaml: warning: m"
    assert ConfigWarning("b", 2, None, "m").location == "b:2"


def test_a_step_reached_only_by_on_unknown_is_reachable() -> None:
    text = """
    flows:
      f:
        steps:
          - {step: run, type: action, call: pay, on_unknown: unsure, next: pick}
          - {step: unsure, type: end}
          - step: pick
            type: choose
            message: Which?
            options: [pay]
            on_unknown: unsure_too
            on_error: failed
            next: done
          - {step: unsure_too, type: end}
          - {step: failed, type: end}
          - {step: done, type: end}
    """

    assert unreachable(text) == []
    assert unreachable(text.replace("on_unknown: unsure_too", "")) == ["unsure_too"]
