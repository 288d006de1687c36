"""Evaluating an understanding on a labeled set: contexts, scoring, comparison rules, errors."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from soni import ActionRegistry
from soni.dsl.errors import ConfigErrors
from soni.engine import Bot
from soni.nlu import (
    Affirm,
    CancelFlow,
    Choose,
    Clarify,
    Command,
    ConversationContext,
    CorrectSlot,
    Deny,
    Help,
    OutOfScope,
    SetSlot,
    SlotInfo,
    StartFlow,
)
from soni.testing import Evaluation, LabeledSet, evaluate, load_labeled_set
from soni.testing.evaluate import LabeledSetErrors, parse_labeled_set

BOT = """
version: "1.0"
slots:
  medication: {type: choice, choices: {ibuprofen: [advil], paracetamol: [tylenol]}}
  quantity: {type: integer, prompt: "How many?"}
  pickup_date: {type: date}
  sure: {type: boolean}
  file_name: {type: string}
  pickup_time: {type: time}
  visit: {type: datetime}
actions:
  place_refill: {confirm: "Order {quantity} packs of {medication}?"}
flows:
  refill:
    description: "refill a prescription"
    trigger: {intents: ["refill my {medication}"]}
    steps:
      - {step: ask_medication, type: collect, slot: medication}
      - {step: ask_quantity, type: collect, slot: quantity}
      - {step: ask_date, type: collect, slot: pickup_date}
      - {step: check, type: confirm, slot: sure}
      - {step: place, type: action, call: place_refill}
  plan_pickup:
    trigger: {intents: ["plan a pickup"]}
    steps:
      - {step: ask_time, type: collect, slot: pickup_time}
      - {step: ask_visit, type: collect, slot: visit}
  tidy_file:
    trigger: {intents: ["tidy up a file"]}
    steps:
      - {step: ask_file, type: collect, slot: file_name}
      - step: propose
        type: choose
        message: "What should I do with {file_name}?"
        options:
          - {action: archive_file, label: "Archive it"}
          - {action: delete_file, label: "Delete it for good"}
"""

Answer = Sequence[Command] | Exception


class Stub:
    """Answers from a table (by text) and remembers the context of each call."""

    def __init__(self, answers: dict[str, Answer] | None = None) -> None:
        self.answers = answers or {}
        self.seen: dict[str, ConversationContext] = {}

    async def understand(self, text: str, context: ConversationContext) -> list[Command]:
        self.seen[text] = context
        answer = self.answers.get(text, [OutOfScope(text)])
        if isinstance(answer, Exception):
            raise answer
        return list(answer)


def _noop() -> None:
    return None


MakeBot = Callable[[Stub], Any]


@pytest.fixture
async def make_bot(tmp_path: Path) -> AsyncIterator[Callable[[Stub], Any]]:
    (tmp_path / "bot.yaml").write_text(BOT)
    registry = ActionRegistry()
    for name in ("place_refill", "archive_file", "delete_file"):
        registry.register_local(name, _noop)
    bots: list[Bot] = []

    async def make(stub: Stub) -> Bot:
        bot = await Bot.load(
            tmp_path / "bot.yaml", db=":memory:", understanding=stub, registry=registry
        )
        bots.append(bot)
        return bot

    yield make
    for bot in bots:
        await bot.aclose()


async def run(make_bot: MakeBot, text: str, answers: dict[str, Answer]) -> Evaluation:
    bot = await make_bot(Stub(answers))
    return await evaluate(bot, parse_labeled_set(text, path="set.yaml"))


SET = """
today: 2026-11-23
cases:
  - text: "refill my advil"
    expect: [{start_flow: refill, slots: {medication: ibuprofen}}]
  - text: "tidy up"
    expect: [{start_flow: tidy_file}]
  - text: "refill please"
    expect: [{start_flow: refill}]
  - text: "2 please"
    context: {flow: refill, expecting: quantity}
    expect: [{set_slot: quantity, value: 2}]
  - text: "tomorrow"
    context: {flow: refill, expecting: pickup_date, slots: {quantity: 2}}
    expect: [{set_slot: pickup_date, value: 2026-11-24}]
  - text: "yes"
    context: {flow: refill, pending: [place_refill]}
    expect: [affirm]
  - text: "stop, check a file instead"
    context: {flow: refill, expecting: quantity}
    expect: [cancel_flow, {start_flow: tidy_file}]
"""


async def test_a_perfect_understanding_scores_every_type_fully(make_bot: MakeBot) -> None:
    answers: dict[str, Answer] = {
        "refill my advil": [StartFlow("refill", {"medication": "ibuprofen"})],
        "tidy up": [StartFlow("tidy_file")],
        "refill please": [StartFlow("refill")],
        "2 please": [SetSlot("quantity", 2)],
        "tomorrow": [SetSlot("pickup_date", datetime.date(2026, 11, 24))],
        "yes": [Affirm()],
        "stop, check a file instead": [CancelFlow(), StartFlow("tidy_file")],
    }
    evaluation = await run(make_bot, SET, answers)

    assert evaluation.accuracy == 1.0
    assert evaluation.failures == ()
    assert {kind: (s.correct, s.total) for kind, s in evaluation.by_type.items()} == {
        "start_flow": (3, 3),
        "set_slot": (2, 2),
        "cancel_flow": (1, 1),
        "affirm": (1, 1),
    }
    assert list(evaluation.by_type) == ["start_flow", "set_slot", "cancel_flow", "affirm"]


async def test_accuracy_is_counted_per_type_of_the_first_expected_command(
    make_bot: MakeBot,
) -> None:
    answers: dict[str, Answer] = {
        "refill my advil": [StartFlow("refill", {"medication": "ibuprofen"})],
        "tidy up": [StartFlow("refill")],  # wrong flow
        "refill please": [StartFlow("refill")],
        "2 please": [SetSlot("quantity", "2 please")],  # wrong value
        "tomorrow": [SetSlot("pickup_date", "2026-11-24")],
        "yes": [Deny()],  # wrong kind
        "stop, check a file instead": [CancelFlow()],  # one command short
    }
    evaluation = await run(make_bot, SET, answers)

    scores = {kind: (s.correct, s.total) for kind, s in evaluation.by_type.items()}
    assert scores == {
        "start_flow": (2, 3),
        "set_slot": (1, 2),
        "cancel_flow": (0, 1),
        "affirm": (0, 1),
    }
    assert (evaluation.overall.correct, evaluation.overall.total) == (3, 7)
    assert evaluation.accuracy == pytest.approx(3 / 7)
    assert evaluation.by_type["start_flow"].accuracy == pytest.approx(2 / 3)
    assert [f.index for f in evaluation.failures] == [1, 3, 5, 6]
    failure = evaluation.failures[2]
    assert failure.text == "yes"
    assert failure.expected == (Affirm(),)
    assert failure.got == (Deny(),)
    assert failure.context.pending is not None


async def test_each_case_gets_the_context_the_engine_would_give(make_bot: MakeBot) -> None:
    stub = Stub()
    bot = await make_bot(stub)
    labeled = parse_labeled_set(
        """
today: 2026-11-23
cases:
  - text: "hello"
    expect: [out_of_scope]
  - text: "5"
    context: {flow: refill, expecting: pickup_date, slots: {medication: ibuprofen, quantity: "3"}}
    expect: [{set_slot: pickup_date, value: 2026-12-05}]
  - text: "the second one"
    context: {flow: tidy_file, pending: [archive_file, delete_file]}
    expect: [{choose: delete_file}]
  - text: "no"
    context: {flow: refill, confirm_step: true}
    expect: [deny]
  - text: "the first"
    context: {flow: refill, pending: {options: [place_refill], labels: {place_refill: Order}}}
    expect: [{choose: place_refill}]
""",
        path="set.yaml",
    )
    await evaluate(bot, labeled)

    idle = stub.seen["hello"]
    assert idle.active_flow is None and idle.expected_slot is None and idle.pending is None
    assert idle.flows == bot.engine.flow_infos
    assert idle.slot_types == bot.engine.slot_infos
    assert idle.today == datetime.date(2026, 11, 23)

    asked = stub.seen["5"]
    assert asked.active_flow == "refill"
    assert asked.expected_slot == SlotInfo("pickup_date", "date")
    assert asked.slot_types == bot.engine.slot_types("refill")
    # Slot values are typed as the engine stores them.
    assert asked.slots == {"medication": "ibuprofen", "quantity": 3}

    offered = stub.seen["the second one"]
    assert offered.pending is not None
    assert list(offered.pending.options) == ["archive_file", "delete_file"]
    assert offered.pending.labels == {
        "archive_file": "Archive it",
        "delete_file": "Delete it for good",
    }
    assert not offered.awaiting_confirm_step

    confirm = stub.seen["no"]
    assert confirm.awaiting_confirm_step
    assert confirm.pending is not None and list(confirm.pending.options) == ["confirm"]

    labelled = stub.seen["the first"]
    assert labelled.pending is not None and labelled.pending.labels == {"place_refill": "Order"}


async def test_without_today_relative_dates_count_from_the_real_today(make_bot: MakeBot) -> None:
    stub = Stub()
    bot = await make_bot(stub)
    await evaluate(bot, parse_labeled_set('cases: [{text: "hi", expect: [help]}]'))

    assert stub.seen["hi"].today is None


@pytest.mark.parametrize(
    ("expected", "got", "same"),
    [
        ("2", 2, True),
        ("2", 2.0, True),
        ("2.5", "2.50", True),
        ("2", "'2'", False),
        ("2", 3, False),
        ("2026-11-24", datetime.date(2026, 11, 24), True),
        ("2026-11-24", datetime.datetime(2026, 11, 24), True),
        ("2026-11-24", "2026-11-24", True),
        ("2026-11-24", datetime.date(2026, 11, 25), False),
        ("Bob", "  bob ", True),
        ("Bob", "Bobby", False),
    ],
)
async def test_values_compare_as_numbers_dates_or_folded_text(
    make_bot: MakeBot, expected: str, got: object, same: bool
) -> None:
    text = f"""
cases:
  - text: "a value"
    context: {{flow: tidy_file, expecting: file_name}}
    expect: [{{set_slot: file_name, value: {expected}}}]
"""
    evaluation = await run(make_bot, text, {"a value": [SetSlot("file_name", got)]})

    assert evaluation.accuracy == (1.0 if same else 0.0)


@pytest.mark.parametrize(
    ("slot", "expected", "got", "same"),
    [
        ("pickup_time", '"14:30"', "14:30", True),
        ("pickup_time", '"14:30"', datetime.time(14, 30), True),
        ("pickup_time", '"14:30:00"', "14:30", True),
        ("pickup_time", '"14:30"', "2:30", False),
        ("pickup_time", '"14:30"', "14:31", False),
        ("pickup_time", '"14:30:15"', "14:30", False),
        ("visit", '"2026-12-07T14:00"', "2026-12-07T14:00", True),
        ("visit", '"2026-12-07 14:00"', datetime.datetime(2026, 12, 7, 14), True),
        ("visit", '"2026-12-07T14:00"', "2026-12-07T14:00:00", True),
        ("visit", '"2026-12-07T14:00"', "2026-12-08T14:00", False),
    ],
)
async def test_times_compare_as_iso_text_to_the_minute(
    make_bot: MakeBot, slot: str, expected: str, got: object, same: bool
) -> None:
    text = f"""
cases:
  - text: "a time"
    context: {{flow: plan_pickup, expecting: {slot}}}
    expect: [{{set_slot: {slot}, value: {expected}}}]
"""
    evaluation = await run(make_bot, text, {"a time": [SetSlot(slot, got)]})

    assert evaluation.accuracy == (1.0 if same else 0.0)


@pytest.mark.parametrize(
    ("got", "same"),
    [
        ([StartFlow("refill", {"medication": "Ibuprofen", "quantity": 2.0})], True),
        ([StartFlow("refill", {"medication": "ibuprofen"})], False),
        ([StartFlow("refill", {"medication": "ibuprofen", "quantity": 2, "sure": True})], False),
        ([StartFlow("tidy_file", {"medication": "ibuprofen", "quantity": 2})], False),
        ([SetSlot("quantity", 2)], False),
    ],
)
async def test_start_flow_slots_compare_as_mappings(
    make_bot: MakeBot, got: list[Command], same: bool
) -> None:
    text = """
cases:
  - text: "refill 2 advil"
    expect: [{start_flow: refill, slots: {medication: ibuprofen, quantity: 2}}]
"""
    evaluation = await run(make_bot, text, {"refill 2 advil": got})

    assert evaluation.accuracy == (1.0 if same else 0.0)


@pytest.mark.parametrize(
    ("expect", "got", "same"),
    [
        ("[{clarify: [refill, tidy_file]}]", [Clarify(("tidy_file", "refill"))], True),
        ("[{clarify: [refill, tidy_file]}]", [Clarify(("refill",))], False),
        ("[{correct_slot: quantity, value: 5}]", [CorrectSlot("quantity", 5)], True),
        ("[{correct_slot: quantity, value: 5}]", [SetSlot("quantity", 5)], False),
        ("[{correct_slot: quantity, value: 5}]", [CorrectSlot("medication", 5)], False),
        ("[out_of_scope]", [OutOfScope("whatever the text")], True),
        ("[help]", [Help(), Help()], False),
        ("[cancel_flow, help]", [Help(), CancelFlow()], False),
        ("[cancel_flow, help]", [CancelFlow(), Help()], True),
    ],
)
async def test_commands_compare_by_count_kind_order_and_names(
    make_bot: MakeBot, expect: str, got: list[Command], same: bool
) -> None:
    text = f"""
cases:
  - text: "something"
    context: {{flow: refill, expecting: pickup_date, slots: {{quantity: 2}}}}
    expect: {expect}
"""
    evaluation = await run(make_bot, text, {"something": got})

    assert evaluation.accuracy == (1.0 if same else 0.0)


@pytest.mark.parametrize(
    ("expected", "got", "same"), [("true", True, True), ("false", True, False)]
)
async def test_booleans_compare_as_booleans(
    make_bot: MakeBot, expected: str, got: bool, same: bool
) -> None:
    text = f"""
cases:
  - text: "sure"
    context: {{flow: refill, expecting: sure}}
    expect: [{{set_slot: sure, value: {expected}}}]
"""
    evaluation = await run(make_bot, text, {"sure": [SetSlot("sure", got)]})

    assert evaluation.accuracy == (1.0 if same else 0.0)


async def test_choosing_compares_the_option(make_bot: MakeBot) -> None:
    text = """
cases:
  - text: "delete it"
    context: {flow: tidy_file, pending: [archive_file, delete_file]}
    expect: [{choose: delete_file}]
  - text: "archive it"
    context: {flow: tidy_file, pending: [archive_file, delete_file]}
    expect: [{choose: archive_file}]
"""
    answers: dict[str, Answer] = {
        "delete it": [Choose("delete_file")],
        "archive it": [Choose("delete_file")],
    }
    evaluation = await run(make_bot, text, answers)

    assert evaluation.by_type["choose"].correct == 1
    assert evaluation.by_type["choose"].total == 2


async def test_an_understanding_that_raises_fails_that_case_only(make_bot: MakeBot) -> None:
    text = """
cases:
  - text: "boom"
    expect: [help]
  - text: "help"
    expect: [help]
"""
    answers: dict[str, Answer] = {"boom": RuntimeError("model down"), "help": [Help()]}
    evaluation = await run(make_bot, text, answers)

    assert evaluation.overall.correct == 1
    (failure,) = evaluation.failures
    assert failure.got == ()
    assert failure.error == "RuntimeError: model down"


async def test_the_report_has_a_row_per_type_and_every_failure(make_bot: MakeBot) -> None:
    answers: dict[str, Answer] = {
        "refill my advil": [StartFlow("refill", {"medication": "ibuprofen"})],
        "2 please": [SetSlot("quantity", 3)],
    }
    evaluation = await run(make_bot, SET, answers)
    report = evaluation.report()

    assert report.startswith("NLU evaluation of set.yaml")
    lines = report.splitlines()
    assert "start_flow            1      3     33.3%" in lines
    assert "overall               1      7     14.3%" in lines
    assert "6 failure(s):" in lines
    assert "  cases[3] '2 please' (flow refill; expecting quantity)" in lines
    assert "    expected: set_slot quantity=2" in lines
    assert "    got:      set_slot quantity=3" in lines


async def test_a_set_loads_from_a_file_and_evaluates_by_path(
    make_bot: MakeBot, tmp_path: Path
) -> None:
    path = tmp_path / "nlu.yaml"
    path.write_text(SET)
    labeled = load_labeled_set(path)

    assert isinstance(labeled, LabeledSet)
    assert len(labeled.cases) == 7
    assert labeled.today == datetime.date(2026, 11, 23)
    assert labeled.cases[6].expect == (CancelFlow(), StartFlow("tidy_file"))
    evaluation = await evaluate(await make_bot(Stub()), path)
    assert evaluation.path == str(path)
    assert evaluation.overall.total == 7


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- just a list", "set.yaml: expected a mapping with 'cases', got a list"),
        ("cases: []", "set.yaml:1:8: cases: expected a list of cases, got a list"),
        (
            "cases: [{text: hi, expect: [help]}]\nbot: x",
            "set.yaml:2:1: bot: unknown key 'bot' (expected today, cases)",
        ),
        ("today: someday\ncases: [{text: hi, expect: [help]}]", "today: expected a date"),
        ("cases: [{text: hi, expect: [help], contxt: {}}]", "(did you mean 'context'?)"),
        ("cases: [{text: 5, expect: [help]}]", "cases[0].text: expected the utterance"),
        ("cases: [{text: /refill, expect: [help]}]", "a structured message"),
        ("cases: [{text: hi}]", "cases[0].expect: expected a list of commands, got nothing"),
        ("cases: [{text: hi, expect: [afirm]}]", "unknown command 'afirm' (did you mean"),
        ("cases: [{text: hi, expect: [start_flow]}]", "unknown command 'start_flow'; it needs"),
        ("cases: [{text: hi, expect: [{set_slot: a}]}]", "cases[0].expect[0]: set_slot needs a"),
        ("cases: [{text: hi, expect: [{choose: a, value: 1}]}]", "unknown key 'value'"),
        ("cases: [{text: hi, expect: [{clarify: [a]}]}]", "a list of at least two flow names"),
        ("cases: [{text: hi, expect: [{hop: a}]}]", "expected one of affirm"),
        (
            "cases: [{text: hi, expect: [help], context: {expecting: a}}]",
            "expecting needs the active 'flow'",
        ),
        (
            "cases: [{text: hi, expect: [help], context: {flow: f, expecting: a, pending: [b]}}]",
            "expecting and pending exclude each other",
        ),
        (
            "cases: [{text: hi, expect: [help], context: {flow: f, pending: {options: [a], "
            "labels: {b: B}}}}]",
            "'b' is not a pending option",
        ),
        (
            "cases: [{text: hi, expect: [help], context: {flow: f, confirm_step: 1}}]",
            "true or false",
        ),
        ("cases: [{text: 'hi\n", "invalid YAML"),
    ],
)
def test_a_malformed_set_names_the_file_line_and_case(text: str, message: str) -> None:
    with pytest.raises(LabeledSetErrors) as caught:
        parse_labeled_set(text, path="set.yaml")

    assert isinstance(caught.value, ConfigErrors)
    assert message in str(caught.value)
    assert str(caught.value).startswith("1 error in the labeled set:")


def test_every_mistake_is_reported_at_once() -> None:
    text = "cases:\n  - {text: hi, expect: [afirm]}\n  - {text: ho, expect: [denny]}\n"
    with pytest.raises(LabeledSetErrors) as caught:
        parse_labeled_set(text, path="set.yaml")

    assert [(e.line, e.message[:8]) for e in caught.value.errors] == [
        (2, "cases[0]"),
        (3, "cases[1]"),
    ]


def test_a_missing_file_is_a_labeled_set_error(tmp_path: Path) -> None:
    with pytest.raises(LabeledSetErrors, match="cannot read the file"):
        load_labeled_set(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("{text: hi, expect: [{start_flow: refil}]}", "unknown flow 'refil' (did you mean"),
        ("{text: hi, expect: [{clarify: [refill, nope]}]}", "clarify[1]: unknown flow 'nope'"),
        ("{text: hi, expect: [{set_slot: qty, value: 2}]}", "no slot named 'qty'"),
        ("{text: hi, expect: [{set_slot: quantity, value: two}]}", "expected a whole number"),
        (
            "{text: hi, expect: [{start_flow: refill, slots: {medication: advil}}]}",
            "write the choice 'ibuprofen' itself, not 'advil'",
        ),
        (
            "{text: hi, expect: [{set_slot: pickup_date, value: tomorrow}]}",
            "expected a date",
        ),
        ("{text: hi, context: {flow: nope}, expect: [help]}", "context.flow: unknown flow"),
        (
            "{text: hi, context: {flow: refill, expecting: file_name}, expect: [help]}",
            "flow 'refill' does not ask for 'file_name'",
        ),
        (
            "{text: hi, context: {flow: refill, slots: {quantity: many}}, expect: [help]}",
            "context.slots.quantity: not a value of slot 'quantity'",
        ),
        (
            "{text: hi, context: {flow: refill, pending: [delete_file]}, expect: [affirm]}",
            "flow 'refill' asks no confirmation of [delete_file]; its confirmations: "
            "[place_refill]",
        ),
        (
            "{text: hi, context: {flow: tidy_file, pending: [delete_file, archive_file]}, "
            "expect: [affirm]}",
            "its confirmations: [archive_file, delete_file]",
        ),
        (
            "{text: hi, context: {flow: refill, pending: {options: [nope]}}, expect: [affirm]}",
            "unknown action 'nope'",
        ),
        (
            "{text: hi, context: {flow: tidy_file, pending: [archive_file, delete_file]}, "
            "expect: [{choose: share_file}]}",
            "'share_file' is not a pending option (archive_file, delete_file)",
        ),
        ("{text: hi, expect: [{choose: archive_file}]}", "choose needs a pending confirmation"),
    ],
)
async def test_names_and_values_the_bot_does_not_have_are_errors(
    make_bot: MakeBot, case: str, message: str
) -> None:
    bot = await make_bot(Stub())
    labeled = parse_labeled_set(f"cases:\n  - {case}\n", path="set.yaml")

    with pytest.raises(LabeledSetErrors) as caught:
        await evaluate(bot, labeled)

    assert str(caught.value).startswith("1 error in the labeled set:\n  set.yaml:2:")
    assert "cases[0]" in str(caught.value)
    assert message in str(caught.value)
    with pytest.raises(LabeledSetErrors):
        labeled.check(bot)


CHOOSING_BOT = """
slots:
  first_time: {type: string}
  second_time: {type: string}
actions:
  book_first: {description: "The first free time", inputs: [first_time]}
  book_second: {inputs: [second_time]}
  call_me: {description: "Call me back instead"}
flows:
  book:
    trigger: {intents: ["book a visit"]}
    steps:
      - step: pick
        type: choose
        message: "Which one?"
        options:
          - {action: book_first, label: "{first_time} with Dr. Ortega"}
          - {action: book_second, label: "{second_time} with Dr. Lindqvist"}
          - {action: call_me}
"""
CHOOSING_ACTIONS = """
from soni import ActionRegistry

@ActionRegistry.register("book_first")
async def book_first(first_time: str) -> dict:
    return {}

@ActionRegistry.register("book_second")
async def book_second(second_time: str) -> dict:
    return {}

@ActionRegistry.register("call_me")
async def call_me() -> dict:
    return {}
"""


async def test_a_choose_steps_labels_are_shown_as_the_bot_shows_them(tmp_path: Path) -> None:
    from .._bots import written_bot

    labeled = parse_labeled_set(
        """
cases:
  - text: "the 12:15 one please"
    context: {flow: book, slots: {first_time: "09:30", second_time: "12:15"},
              pending: [book_first, book_second, call_me]}
    expect: [{choose: book_second}]
  - text: "just call me back"
    context: {flow: book, slots: {first_time: "09:30", second_time: "12:15"},
              pending: [book_first, book_second, call_me]}
    expect: [{choose: call_me}]
"""
    )
    async with written_bot(tmp_path, CHOOSING_BOT, CHOOSING_ACTIONS) as bot:
        evaluation = await evaluate(bot, labeled)

    # "{second_time} with Dr. Lindqvist" rendered over the case's slots holds 12:15;
    # an option without a label is shown by its action's description.
    assert evaluation.accuracy == 1.0, evaluation.report()
