"""A slot's ``pattern:``: a regular expression compiled at load, on string slots only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from soni.dsl import BotConfig, SlotDef, load_bot

from ._helpers import MINIMAL_FLOW, config_errors, write


def load(tmp_path: Path, *parts: str) -> BotConfig:
    return load_bot(write(tmp_path / "bot.yaml", *parts))


def errors_of(tmp_path: Path, *parts: str) -> list[tuple[int | None, str]]:
    return [(e.line, e.message) for e in config_errors(write(tmp_path / "bot.yaml", *parts))]


def test_a_pattern_is_compiled_when_the_bot_loads(tmp_path: Path) -> None:
    bot = load(
        tmp_path,
        r"""
        slots:
          booking_ref:
            pattern: "BK-\\d{4}"
            validation_error_message: "A booking reference looks like BK-1234."
          order_number:
            type: text
            pattern: '(?i)RX-[a-z0-9]+'
        """,
        MINIMAL_FLOW,
    )

    booking_ref = bot.slots["booking_ref"]
    assert booking_ref.pattern == r"BK-\d{4}"
    assert booking_ref.compiled_pattern == re.compile(r"BK-\d{4}")
    assert booking_ref.validation_error_message == "A booking reference looks like BK-1234."
    # (?i) in the pattern is the way to ignore case; without it, case counts.
    order = bot.slots["order_number"].compiled_pattern
    assert order is not None and order.fullmatch("rx-1001") and order.fullmatch("RX-1001")
    assert booking_ref.compiled_pattern is not None
    assert booking_ref.compiled_pattern.fullmatch("bk-1234") is None


def test_a_slot_without_a_pattern_has_none() -> None:
    assert SlotDef(name="city").compiled_pattern is None


def test_a_pattern_also_compiles_for_a_slot_built_in_code() -> None:
    slot = SlotDef(name="ref", pattern=r"BK-\d{4}")
    assert slot.compiled_pattern == re.compile(r"BK-\d{4}")
    with pytest.raises(ValueError, match="invalid regular expression"):
        SlotDef(name="ref", pattern="BK-(")


def test_an_invalid_regular_expression_is_reported_at_its_line_with_the_reason(
    tmp_path: Path,
) -> None:
    errors = errors_of(
        tmp_path,
        r"""
        slots:
          booking_ref:
            prompt: "Your reference?"
            pattern: "BK-(\\d{4}"
        """,
        MINIMAL_FLOW,
    )

    assert errors == [
        (
            4,
            "slots.booking_ref.pattern: invalid regular expression: "
            "missing ), unterminated subpattern at position 3",
        )
    ]


@pytest.mark.parametrize(
    ("declared", "extra"),
    [
        ("integer", ""),
        ("int", ""),
        ("date", ""),
        ("email", ""),
        ("any", ""),
        ("choice", "    choices: [a, b]\n"),
    ],
)
def test_a_pattern_on_a_slot_that_is_not_text_is_an_error_at_its_line(
    tmp_path: Path, declared: str, extra: str
) -> None:
    errors = errors_of(
        tmp_path,
        f"slots:\n  value:\n    type: {declared}\n{extra}    pattern: '\\d+'\n",
        MINIMAL_FLOW,
    )

    line = 4 + (1 if extra else 0)
    assert errors == [
        (
            line,
            f"slots.value.pattern: 'pattern' only applies to string slots, "
            f"not to type {declared!r}",
        )
    ]


def test_choices_without_a_type_make_a_choice_slot_which_takes_no_pattern(
    tmp_path: Path,
) -> None:
    errors = errors_of(
        tmp_path,
        """
        slots:
          size:
            choices: [small, large]
            pattern: "small|large"
        """,
        MINIMAL_FLOW,
    )

    assert errors == [
        (4, "slots.size.pattern: 'pattern' only applies to string slots, not to type 'choice'")
    ]


def test_a_flow_slot_with_a_bad_pattern_is_reported_too(tmp_path: Path) -> None:
    errors = errors_of(
        tmp_path,
        """
        flows:
          cancel:
            slots:
              - name: ref
                pattern: "[BK"
            steps:
              - step: ask
                type: collect
                slot: ref
        """,
    )

    assert len(errors) == 1
    line, message = errors[0]
    assert line == 5
    assert message.startswith("flows.cancel.slots[0].pattern: invalid regular expression: ")


def test_a_default_or_an_example_the_pattern_refuses_is_an_error(tmp_path: Path) -> None:
    errors = errors_of(
        tmp_path,
        r"""
        slots:
          booking_ref:
            pattern: "BK-\\d{4}"
            default: "BK-12"
            examples: ["BK-1234", "bk-5678"]
        """,
        MINIMAL_FLOW,
    )

    assert errors == [
        (
            4,
            r"slots.booking_ref.default: default 'BK-12' does not match the slot's "
            r"pattern BK-\d{4}",
        ),
        (
            5,
            r"slots.booking_ref.examples[1]: example 'bk-5678' does not match the slot's "
            r"pattern BK-\d{4}",
        ),
    ]


def test_the_error_text_is_the_slots_message_not_a_key_of_its_own(tmp_path: Path) -> None:
    errors = errors_of(
        tmp_path,
        r"""
        slots:
          booking_ref:
            pattern: "BK-\\d{4}"
            pattern_error: "A booking reference looks like BK-1234."
        """,
        MINIMAL_FLOW,
    )

    assert len(errors) == 1
    assert errors[0][1].startswith("slots.booking_ref: unknown key 'pattern_error' in a slot")
