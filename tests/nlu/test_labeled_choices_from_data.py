"""A labeled set at a choice offered from data: the case gives the list in its slots,
the options are ``<action>.<n>``, and the labels are rendered as the bot shows them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from soni.engine import Bot
from soni.testing import evaluate
from soni.testing.labeled import LabeledSetErrors, parse_labeled_set

from .._handlers import register_again
from .test_labeled_sets import EXAMPLES

CONTEXT = """
    context:
      flow: book_appointment
      slots:
        free_times: [{time: "09:00", dentist: Dr Ruiz}, {time: "15:00", dentist: Dr Lee}]
      pending: [book_appointment.1, book_appointment.2]
"""


@pytest.fixture
async def dentist() -> AsyncIterator[Bot]:
    register_again(EXAMPLES / "dentist" / "actions.py")
    bot = await Bot.load(EXAMPLES / "dentist", db=":memory:")
    yield bot
    await bot.aclose()


async def test_an_option_is_read_by_its_rendered_label(dentist: Bot) -> None:
    labeled = parse_labeled_set(
        'cases:\n  - text: "the one with dr lee"'
        + CONTEXT
        + "    expect: [{choose: book_appointment.2}]\n"
    )
    evaluation = await evaluate(dentist, labeled)
    assert evaluation.accuracy == 1.0, evaluation.report()


async def test_options_that_do_not_fit_the_list_in_the_slots_are_named(dentist: Bot) -> None:
    labeled = parse_labeled_set(
        'cases:\n  - text: "the third"'
        + CONTEXT.replace("book_appointment.2]", "book_appointment.2, book_appointment.3]")
        + "    expect: [{choose: book_appointment.3}]\n",
        path="set.yaml",
    )
    with pytest.raises(LabeledSetErrors) as info:
        labeled.check(dentist)
    assert "the options over slot 'free_times' in the case's slots are not" in str(info.value)
    assert "they are [book_appointment.1, book_appointment.2]" in str(info.value)
