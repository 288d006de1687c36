"""A choose step over a list (``options_from``): what it needs, and the errors that
name what is missing or wired wrong, at file:line."""

from __future__ import annotations

from pathlib import Path

from soni.dsl import ChooseStep, load_bot

from ._helpers import messages, write

SLOTS = """
slots:
  free_times: {type: any}
  appointment_time: {type: time}
  dentist: {type: string}
  patient: {type: string}
actions:
  book: {description: "Book it"}
"""


def errors_for(workdir: Path, steps: str) -> list[str]:
    """The errors of a bot whose flow ``f`` has ``steps`` (indented as its list)."""
    write(workdir / "bot.yaml", SLOTS)
    with (workdir / "bot.yaml").open("a", encoding="utf-8") as file:
        file.write("flows:\n  f:\n    steps:\n" + steps)
    return messages("bot.yaml", actions=["book"])


def test_a_choose_step_over_a_list_loads_with_both_forms_of_bind(workdir: Path) -> None:
    write(
        workdir / "bot.yaml",
        SLOTS,
        """
        flows:
          f:
            steps:
              - step: pick
                type: choose
                message: "Which time?"
                options_from: free_times
                bind: {appointment_time: time, dentist: dentist}
                action: book
                label: "{appointment_time} with {dentist}"
                on_empty: none
              - step: pick_again
                type: choose
                message: "Which?"
                options_from: free_times
                bind: patient
                action: book
              - {step: none, type: end}
        """,
    )
    config = load_bot("bot.yaml", actions=["book"])
    pick, again = config.flows["f"].steps[:2]
    assert isinstance(pick, ChooseStep) and isinstance(again, ChooseStep)
    assert pick.bound_slots == ("appointment_time", "dentist")
    assert again.bound_slots == ("patient",)
    assert pick.actions == ("book",)


def test_options_and_options_from_together_is_an_error(workdir: Path) -> None:
    (error,) = errors_for(
        workdir,
        """      - {step: p, type: choose, message: "?", options: [book], options_from: free_times}
""",
    )
    assert "needs either 'options' or 'options_from' (both given)" in error
    assert error.startswith("bot.yaml:11:9: flows.f.steps[0]: ")


def test_options_from_needs_an_action_and_a_bind(workdir: Path) -> None:
    (error,) = errors_for(
        workdir, '      - {step: p, type: choose, message: "?", options_from: free_times}\n'
    )
    assert "a choose step with 'options_from' needs 'action'" in error
    (error,) = errors_for(
        workdir,
        '      - {step: p, type: choose, message: "?", options_from: free_times, action: book}\n',
    )
    assert "needs 'bind'" in error


def test_bind_and_label_go_with_options_from_only(workdir: Path) -> None:
    (error,) = errors_for(
        workdir, '      - {step: p, type: choose, message: "?", options: [book], bind: patient}\n'
    )
    assert "'bind' goes with 'options_from'" in error


def test_the_list_slot_must_hold_any_value_and_the_names_must_exist(workdir: Path) -> None:
    found = errors_for(
        workdir,
        """      - step: p
        type: choose
        message: "?"
        options_from: patient
        bind: {appointment_tme: time}
        action: bok
        label: "{appointment_time} with {dentst}"
        on_empty: nowhere
""",
    )
    text = "\n".join(found)
    assert "slot 'patient' is a string; 'options_from' reads a list" in text
    assert "unknown action 'bok'" in text and "(did you mean 'book'?)" in text
    assert "'on_empty' names unknown step 'nowhere'" in text
    assert "unknown slot 'dentst'" in text
    assert all(line.startswith("bot.yaml:") for line in found)


def test_binding_the_list_to_itself_is_an_error(workdir: Path) -> None:
    (error,) = errors_for(
        workdir,
        '      - {step: p, type: choose, message: "?", options_from: free_times, '
        "bind: free_times, action: book}\n",
    )
    assert "'bind' names 'free_times', the list itself" in error
