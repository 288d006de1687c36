"""Every step kind against a real bot: what passes, and what a failure reports."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from soni.testing import ConversationResult, StepFailure, run_tests
from soni.testing.matching import as_written, same_value

from .conftest import WriteTests


async def run(shop: Path, write_tests: WriteTests, text: str) -> list[ConversationResult]:
    report = await run_tests(shop, [write_tests(text)])
    return list(report.results)


async def failure(shop: Path, write_tests: WriteTests, text: str) -> StepFailure:
    (result,) = await run(shop, write_tests, text)
    assert result.failure is not None, "the test was expected to fail"
    return result.failure


ORDER = """
tests:
  - name: order
    steps:
      - user: "i want to order tea"
      - user: "2"
"""


async def test_a_passing_conversation(shop: Path, write_tests: WriteTests) -> None:
    results = await run(
        shop,
        write_tests,
        ORDER
        + """
      - bot: "Order 2 tea?"
      - pending: {action: place_order, prompt: "Order 2 tea?", options: [place_order]}
      - approve: true
      - action_executed: place_order
      - bot: "Ordered 2 tea: ORD-2-tea."
      - slot: {item: tea, quantity: 2.0, reference: ORD-2-tea}
      - flow: null
      - pending: null
""",
    )
    assert [(r.name, r.passed, r.line) for r in results] == [("order", True, 2)]


async def test_a_failure_names_the_test_the_step_and_what_happened(
    shop: Path, write_tests: WriteTests
) -> None:
    (result,) = await run(shop, write_tests, ORDER + '      - bot: "Order 3 tea?"\n')
    assert not result.passed
    assert result.name == "order"
    assert result.file.endswith("case1.yaml")
    found = result.failure
    assert found is not None
    assert (found.index, found.step, found.line, found.expected, found.actual) == (
        3,
        "bot: 'Order 3 tea?'",
        6,
        "the reply 'Order 3 tea?'",
        "'Order 2 tea?'",
    )
    observed = found.observed
    assert observed.replies == ("Order 2 tea?",)
    assert observed.pending is not None and observed.pending.options == ("place_order",)
    assert observed.flow == "order"
    assert observed.actions == ("check_stock",)
    assert observed.slots == {"item": "tea", "quantity": 2, "stock": 10}
    assert found.explain().splitlines() == [
        "step 3 (line 6): bot: 'Order 3 tea?'",
        "  expected: the reply 'Order 3 tea?'",
        "  actual:   'Order 2 tea?'",
        "  replies:  ['Order 2 tea?']",
        "  pending:  ['place_order'] 'Order 2 tea?'",
        "  flow:     order",
        "  actions:  check_stock",
        "  slots:    {'item': 'tea', 'quantity': 2, 'stock': 10}",
    ]


async def test_bot_steps_read_the_latest_turn_in_order(shop: Path, write_tests: WriteTests) -> None:
    text = """
tests:
  - name: greet
    slots: {customer: Ann}
    steps:
      - user: "hello"
      - bot: "/^Hello/"
      - bot: "Delivery on ."
      - bot: "anything more?"
"""
    found = await failure(shop, write_tests, text)
    assert (found.index, found.expected, found.actual) == (
        4,
        "the reply 'anything more?'",
        "no more replies in the latest turn (only 2 replies)",
    )


async def test_a_pattern_is_searched_not_matched_whole(shop: Path, write_tests: WriteTests) -> None:
    found = await failure(shop, write_tests, ORDER + '      - bot: "/2 te/"\n      - bot: "/x/"\n')
    assert (found.index, found.expected, found.actual) == (
        4,
        "a reply matching /x/",
        "no more replies in the latest turn (only 1 replies)",
    )


async def test_a_bot_step_before_any_turn(shop: Path, write_tests: WriteTests) -> None:
    found = await failure(shop, write_tests, "tests:\n  - name: t\n    steps: [{bot: hi}]\n")
    assert found.actual == "no turn yet: start with a user step"


async def test_pending_checks_the_open_confirmation(shop: Path, write_tests: WriteTests) -> None:
    found = await failure(shop, write_tests, ORDER + '      - pending: {prompt: "/3 tea/"}\n')
    assert found.expected == "a pending confirmation with a prompt matching /3 tea/"
    assert found.actual == "a pending confirmation for place_order: 'Order 2 tea?'"
    found = await failure(shop, write_tests, ORDER + "      - pending: null\n")
    assert found.expected == "no pending confirmation"
    found = await failure(
        shop, write_tests, "tests:\n  - name: t\n    steps: [{user: hello}, {pending: {}}]\n"
    )
    assert (found.expected, found.actual) == (
        "a pending confirmation",
        "no confirmation is pending",
    )


async def test_skip_declines_and_the_action_does_not_run(
    shop: Path, write_tests: WriteTests
) -> None:
    results = await run(
        shop,
        write_tests,
        ORDER
        + """
      - skip: true
      - action_not_executed: place_order
      - bot: "Not ordered."
      - flow: null
""",
    )
    assert results[0].passed, results[0].failure


async def test_action_executed_looks_at_the_latest_turn_only(
    shop: Path, write_tests: WriteTests
) -> None:
    # check_stock ran in the turn of "2", not in the approval's.
    found = await failure(
        shop, write_tests, ORDER + "      - approve: true\n      - action_executed: check_stock\n"
    )
    assert (found.expected, found.actual) == (
        "check_stock to run in the latest turn",
        "ran: place_order",
    )
    found = await failure(shop, write_tests, ORDER + "      - action_not_executed: check_stock\n")
    assert (found.expected, found.actual) == (
        "check_stock not to run in the latest turn",
        "ran: check_stock",
    )


async def test_a_failing_handler(shop: Path, write_tests: WriteTests) -> None:
    text = """
tests:
  - name: no stock
    steps:
      - user: "i want to order unobtainium"
      - user: "1"
      - action_failed: check_stock
      - bot: "We cannot check the stock of unobtainium."
      - action_executed: check_stock
"""
    found = await failure(shop, write_tests, text)
    assert found.index == 5
    assert found.actual.startswith("ran: check_stock (failed: ")
    assert "no such item" in found.actual


async def test_choose_by_name_or_label(shop: Path, write_tests: WriteTests) -> None:
    text = """
tests:
  - name: by name
    steps:
      - user: "return the kettle"
      - pending: {options: [refund_item, replace_item]}
      - choose: replace_item
      - action_executed: replace_item
      - bot: "Done: kettle replaced."
  - name: by label
    steps:
      - user: "return the kettle"
      - choose: "Refund it"
      - action_executed: refund_item
      - bot: "Done: kettle refunded."
  - name: approve is not a choice
    steps:
      - user: "return the kettle"
      - approve: true
"""
    by_name, by_label, approve = await run(shop, write_tests, text)
    assert by_name.passed, by_name.failure
    assert by_label.passed, by_label.failure
    assert approve.failure is not None
    assert approve.failure.expected == "the pending confirmation to approve"
    assert approve.failure.actual.startswith("refused: ")


async def test_a_decision_with_nothing_pending(shop: Path, write_tests: WriteTests) -> None:
    found = await failure(shop, write_tests, "tests:\n  - name: t\n    steps: [{skip: true}]\n")
    assert (found.expected, found.actual) == (
        "a pending confirmation to skip",
        "no confirmation is pending",
    )


async def test_expiry_closes_the_confirmation_for_real(shop: Path, write_tests: WriteTests) -> None:
    results = await run(
        shop,
        write_tests,
        ORDER
        + """
      - expire: true
      - pending: null
      - flow: order
      - user: "yes"
      - action_not_executed: place_order
      - bot: "The request to place order expired, so I did not do it."
      - bot: "Not ordered."
""",
    )
    assert results[0].passed, results[0].failure
    found = await failure(shop, write_tests, "tests:\n  - name: t\n    steps: [{expire: true}]\n")
    assert found.expected == "a pending confirmation to expire"


async def test_an_expired_confirmation_cannot_be_approved(
    shop: Path, write_tests: WriteTests
) -> None:
    steps = "      - expire: true\n      - approve: true\n"
    found = await failure(shop, write_tests, ORDER + steps)
    assert (found.index, found.actual) == (4, "no confirmation is pending")


async def test_slot_values_compare_as_written(shop: Path, write_tests: WriteTests) -> None:
    text = """
tests:
  - name: slots
    slots: {delivery: "2030-05-01"}
    steps:
      - slot: {delivery: "2030-05-01", item: null}
      - user: "i want to order tea"
      - slot: {item: tea, quantity: 3}
"""
    found = await failure(shop, write_tests, text)
    assert (found.index, found.expected, found.actual) == (3, "quantity=3", "quantity=null")


async def test_flow_reads_the_top_of_the_stack(shop: Path, write_tests: WriteTests) -> None:
    found = await failure(shop, write_tests, ORDER + "      - flow: greet\n")
    assert (found.expected, found.actual) == ("the active flow 'greet'", "'order'")
    found = await failure(shop, write_tests, ORDER + "      - flow: null\n")
    assert (found.expected, found.actual) == ("no active flow", "'order'")


def test_times_compare_as_a_test_writes_them() -> None:
    assert same_value("19:30", dt.time(19, 30))
    assert same_value("2030-05-01T19:30", dt.datetime(2030, 5, 1, 19, 30))
    assert not same_value("19:30", dt.time(19, 31))
    assert not same_value("19:30:00", dt.time(19, 30))  # written to the minute
    assert as_written(dt.time(9, 30, 15)) == "09:30:15"
