"""Bots written in the soni 1.0 format load and run unchanged.

The bots under ``bots/soni1/`` are our own, written with the spellings of soni 1.0's
examples and DSL guide (``jump_to``, ``__end_flow__``, ``process``, branch ``input``,
``continue`` / ``jump_to_<step>`` cases, ``{{slot}}`` set templates, ...). Each
conversation below is what a soni 1.0 user relies on; each spelling is also checked
to load to exactly the bot today's spelling gives.
"""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from soni import ActionRegistry
from soni.dsl import parse_bot, validator
from soni.dsl._soni1 import soni1_spelling
from soni.dsl.yaml_reader import parse_yaml
from soni.engine import Bot, TurnResult

from ._helpers import messages, write

BOTS = Path(__file__).resolve().parent / "bots" / "soni1"

LoadBot = Callable[[str], Awaitable[Bot]]


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


@pytest.fixture
def sent() -> list[tuple[str, float]]:
    """Registers the handlers and validators of the soni 1.0 test bots; the transfers made."""
    transfers: list[tuple[str, float]] = []

    def register(name: str, handler: Callable[..., Any]) -> None:
        ActionRegistry.register(name)(handler)

    def execute_transfer(beneficiary_name: str, amount: float) -> dict[str, Any]:
        transfers.append((beneficiary_name, amount))
        return {"transaction_id": f"TX-{len(transfers)}", "status": "completed"}

    def get_page(page: int) -> dict[str, Any]:
        return {"summary": f"Page {page}", "has_more": "yes" if page < 2 else "no"}

    register("check_transfer_limits", lambda amount: {"requires_auth": _yes_no(amount > 1000)})
    register("execute_transfer", execute_transfer)
    register("get_page", get_page)
    register("increment_page", lambda page: {"page": page + 1})
    register("get_balance", lambda account: {"balance": 120.5})
    register(
        "validate_input",
        lambda user_input: {"validation_result": "valid" if user_input.isupper() else "invalid"},
    )
    register("request_correction", lambda: {"user_input": None})
    register("process_data", lambda user_input: {"result": user_input.lower()})
    register("add_to_cart", lambda product, quantity: {})
    register("process_payment", lambda: {})
    validator("person_name")(lambda value: len(value) >= 2)
    validator("positive_amount")(lambda value: value > 0)
    return transfers


@pytest.fixture
async def load(sent: list[tuple[str, float]]) -> AsyncIterator[LoadBot]:
    bots: list[Bot] = []

    async def load_bot(name: str) -> Bot:
        bot = await Bot.load(BOTS / name, db=":memory:")
        bots.append(bot)
        return bot

    yield load_bot
    for bot in bots:
        await bot.aclose()


async def talk(bot: Bot, conversation: str, *texts: str) -> list[TurnResult]:
    return [await bot.handle(conversation, text) for text in texts]


# -- whole conversations ------------------------------------------------------------


async def test_a_transfer_flow_written_with_process_jump_to_and_continue_runs(
    load: LoadBot, sent: list[tuple[str, float]]
) -> None:
    bot = await load("banking")

    turns = await talk(bot, "t1", "/transfer_funds", "Bob", "50", "yes")

    assert [t.texts for t in turns] == [
        ["Who would you like to send the money to?"],  # the collect step's 1.0 'prompt'
        ["How much would you like to transfer?"],
        ["Send 50 EUR to Bob?"],  # "no": continue -> the step below the branch
        ["Done! Transaction ID: TX-1."],  # jump_to: __end_flow__ skips the steps below
    ]
    assert turns[-1].status == "ended"
    assert sent == [("Bob", 50.0)]


async def test_declared_outputs_feed_a_branch_and_jump_to_step_cases_jump(
    load: LoadBot, sent: list[tuple[str, float]]
) -> None:
    bot = await load("banking")

    turns = await talk(bot, "t2", "/transfer_funds", "Bob", "5000", "123456", "no")

    # check_limits has no map_outputs: its declared output 'requires_auth' is a slot,
    # the branch reads it with 'input', "yes" goes to jump_to_collect_security_code,
    # whose jump_to returns to the confirmation; "no" goes to on_deny.
    assert [t.texts for t in turns[2:]] == [
        ["This transfer needs the 6-digit security code."],
        ["Send 5000 EUR to Bob?"],
        ["Transfer cancelled."],
    ]
    assert turns[2].slots["requires_auth"] == "yes"
    assert turns[-1].status == "ended"
    assert sent == []


async def test_a_jump_to_loop_back_pages_until_there_is_no_more(load: LoadBot) -> None:
    bot = await load("banking")

    first, second = await talk(bot, "t3", "/browse_transactions", "yes")

    assert first.texts == ["Page 1", "See more? (yes/no)"]
    assert second.texts == ["Page 2", "That's all your recent transactions."]
    assert second.status == "ended"
    assert second.slots["page"] == 2


async def test_a_flow_slot_written_name_first_with_ask_is_asked(load: LoadBot) -> None:
    bot = await load("banking")

    asked, told = await talk(bot, "t4", "/check_balance", "savings")

    assert asked.texts == ["Which account? (checking/savings)"]
    assert told.texts == ["Your savings balance is 120.5 EUR."]


async def test_set_templates_with_double_braces_fill_in_slot_values(load: LoadBot) -> None:
    bot = await load("banking")

    (result,) = await talk(bot, "t5", "/initialize_session")

    assert result.texts == [
        "Welcome back, Alice Johnson! You have a premium account. "
        "Daily limit: 50000 EUR. (Alice Johnson)"
    ]
    assert result.slots["display_name"] == "Alice Johnson"
    # A number inside a longer template is written out, as soni 1.0 did.
    assert result.slots["limit_text"] == "Daily limit: 50000 EUR."


async def test_a_single_file_retry_flow_loops_back_with_jump_to_and_ends_with_end(
    load: LoadBot,
) -> None:
    bot = await load("retry_flow.yaml")

    turns = await talk(bot, "t6", "/retry_flow", "bad", "GOOD")

    assert [t.texts for t in turns] == [
        ["Please enter your input"],
        ["That is not valid, try again.", "Please enter your input"],
        ["Processed good."],  # jump_to: __end__ -- "Something went wrong." is not said
    ]
    assert turns[-1].status == "ended"


async def test_a_bot_with_rephrasing_settings_and_trigger_slots_runs(load: LoadBot) -> None:
    bot = await load("shop")

    turns = await talk(bot, "t7", "/add_to_cart", "shoes", "2", "/checkout", "1 Main St", "Paris")

    assert [t.texts for t in turns] == [
        ["What product would you like to add?"],
        ["How many?"],
        ["Added 2 shoes to your cart."],
        ["What's the shipping address?"],
        ["Which city?"],
        ["Order confirmed! It will be shipped to 1 Main St, Paris."],
    ]


# -- each spelling loads to the bot today's spelling gives --------------------------

_SAY = "{step: a, type: say, message: hi}"

SPELLINGS = {
    "process is steps": (
        f"flows:\n  f:\n    process:\n      - {_SAY}\n",
        f"flows:\n  f:\n    steps:\n      - {_SAY}\n",
    ),
    "jump_to is next": (
        """
        flows:
          f:
            steps:
              - {step: a, type: say, message: hi, jump_to: c}
              - {step: b, type: say, message: skipped}
              - {step: c, type: say, message: bye, jump_to: __end_flow__}
              - {step: d, type: say, message: never, jump_to: __end__}
        """,
        """
        flows:
          f:
            steps:
              - {step: a, type: say, message: hi, next: c}
              - {step: b, type: say, message: skipped}
              - {step: c, type: say, message: bye, next: end}
              - {step: d, type: say, message: never, next: end}
        """,
    ),
    "branch input and case targets": (
        """
        flows:
          f:
            steps:
              - {step: s, type: set, slots: {status: ok}}
              - step: b
                type: branch
                input: status
                cases: {ok: continue, retry: jump_to_s, done: jump_to_end, gone: __end_flow__}
              - {step: m, type: say, message: mid}
        """,
        """
        flows:
          f:
            steps:
              - {step: s, type: set, slots: {status: ok}}
              - step: b
                type: branch
                slot: status
                cases: {ok: m, retry: s, done: end, gone: end}
              - {step: m, type: say, message: mid}
        """,
    ),
    "collect prompt is message": (
        """
        slots:
          city: {type: string, prompt: "Which city?"}
        flows:
          f:
            steps:
              - {step: a, type: collect, slot: city, prompt: "From where?", rephrase: false}
              - {step: b, type: collect, slot: city, message: kept, prompt: ignored}
        """,
        """
        slots:
          city: {type: string, prompt: "Which city?"}
        flows:
          f:
            steps:
              - {step: a, type: collect, slot: city, message: "From where?"}
              - {step: b, type: collect, slot: city, message: kept}
        """,
    ),
    "flow slots name-first, ask, trigger slots, free-text types": (
        """
        flows:
          f:
            intent: f
            trigger:
              intents: [hi]
              slots: [{name: product, type: string, description: "What?"}, {size: {type: number}}]
            slots:
              - account: {type: string, ask: "Which account?"}
              - {name: address, type: address}
              - {name: town, type: city, normalization: {strategy: city}}
            steps:
              - {step: a, type: say, message: hi}
        """,
        """
        flows:
          f:
            trigger:
              intents: [hi]
            slots:
              - {name: account, type: string, prompt: "Which account?"}
              - {name: address, type: string}
              - {name: town, type: string}
              - {name: product, type: string, description: "What?"}
              - {name: size, type: number}
            steps:
              - {step: a, type: say, message: hi}
        """,
    ),
    "ignored 1.0 keys": (
        """
        settings:
          persistence: {backend: memory, path: ":memory:", cleanup_interval: 3600}
        actions:
          pay: {description: Pay, handler: bank.pay}
        flows:
          f:
            steps:
              - {step: a, type: confirm, slot: ok, message: "Sure?", max_retries: 2, rephrase: true}
              - {step: b, type: action, call: pay}
        """,
        """
        settings:
          persistence: {backend: memory, path: ":memory:"}
        actions:
          pay: {description: Pay}
        flows:
          f:
            steps:
              - {step: a, type: confirm, slot: ok, message: "Sure?"}
              - {step: b, type: action, call: pay}
        """,
    ),
    "postgresql path is a postgres url": (
        f"""
        settings:
          persistence: {{backend: postgresql, path: "postgresql://db/soni"}}
        flows:
          f:
            steps: [{_SAY}]
        """,
        f"""
        settings:
          persistence: {{backend: postgres, url: "postgresql://db/soni"}}
        flows:
          f:
            steps: [{_SAY}]
        """,
    ),
    "set templates": (
        """
        flows:
          f:
            steps:
              - step: s
                type: set
                slots:
                  name: Ann
                  tier: gold
              - step: t
                type: set
                slots:
                  whole: "{{name}}"
                  text: "It's {{ name }}\\n({{tier}})"
                  two: "{{name}}{{tier}}"
                  plain: "no braces"
        """,
        """
        flows:
          f:
            steps:
              - step: s
                type: set
                slots:
                  name: Ann
                  tier: gold
              - step: t
                type: set
                slots:
                  whole: "{name}"
                  text: "It's {name}\\n({tier})"
                  two: "{name}{tier}"
                  plain: "no braces"
        """,
    ),
    "declared outputs without map_outputs are stored": (
        """
        actions:
          quote: {outputs: [price, in-stock]}
        flows:
          f:
            steps:
              - {step: a, type: action, call: quote}
              - {step: b, type: action, call: quote, map_outputs: {price: cost}}
              - {step: c, type: action, call: other}
        """,
        """
        actions:
          quote: {outputs: [price, in-stock]}
        flows:
          f:
            steps:
              - {step: a, type: action, call: quote, map_outputs: {price: price}}
              - {step: b, type: action, call: quote, map_outputs: {price: cost}}
              - {step: c, type: action, call: other}
        """,
    ),
    "map_outputs written slot-first is turned around": (
        """
        actions:
          search: {outputs: [api_flights, api_price]}
        flows:
          f:
            steps:
              - {step: a, type: action, call: search, map_outputs: {flights: api_flights}}
              - {step: b, type: action, call: search, map_outputs: {api_price: price}}
        """,
        """
        actions:
          search: {outputs: [api_flights, api_price]}
        flows:
          f:
            steps:
              - {step: a, type: action, call: search, map_outputs: {api_flights: flights}}
              - {step: b, type: action, call: search, map_outputs: {api_price: price}}
        """,
    ),
}


@pytest.mark.parametrize("old, new", SPELLINGS.values(), ids=list(SPELLINGS))
def test_a_soni1_spelling_loads_to_the_same_bot_as_todays(old: str, new: str) -> None:
    soni1 = parse_bot(textwrap.dedent(old).lstrip("\n"), path="soni1.yaml")
    today = parse_bot(textwrap.dedent(new).lstrip("\n"), path="today.yaml")

    assert soni1.model_dump() == today.model_dump()


def test_a_slot_keeps_its_description_and_examples() -> None:
    bot = parse_bot(
        "slots:\n  city: {type: string, description: Where to, examples: [Madrid, Oslo]}\n"
        f"flows:\n  f:\n    steps: [{_SAY}]\n"
    )

    assert bot.slots["city"].description == "Where to"
    assert bot.slots["city"].examples == ["Madrid", "Oslo"]


# -- errors stay precise ------------------------------------------------------------


def test_errors_inside_soni1_spellings_point_where_they_were_written(workdir: Path) -> None:
    write(
        workdir / "bot.yaml",
        """
        flows:
          f:
            process:
              - {step: a, type: say, message: hi, jump_to: nowhre}
              - {step: nowhere, type: branch, input: 3x, cases: {x: a}}
            slots:
              - amount: {type: flot, ask: "How much?"}
        """,
    )

    assert messages("bot.yaml") == [
        "bot.yaml:5:46: flows.f.steps[1].slot: invalid value for 'slot' '3x': a slot name "
        "uses letters, digits and '_', and does not start with a digit",
        "bot.yaml:7:24: flows.f.slots[0].type: unknown slot type 'flot' (did you mean "
        "'float'?); expected one of: string, text, integer, int, number, float, boolean, "
        "date, time, datetime, email, choice, any",
    ]


def test_a_jump_to_an_unknown_step_is_reported_at_the_jump(workdir: Path) -> None:
    write(
        workdir / "bot.yaml",
        """
        flows:
          f:
            process:
              - {step: ask, type: say, message: hi, jump_to: fnish}
              - {step: finish, type: say, message: bye}
        """,
    )

    assert messages("bot.yaml") == [
        "bot.yaml:4:54: flows.f.steps[0].next: 'next' names unknown step 'fnish' "
        "(did you mean 'finish'?); a jump names a step of this flow or 'end'"
    ]


def test_unknown_keys_are_errors_in_todays_words(workdir: Path) -> None:
    # A file with no soni 1.0 spelling is today's format: no 1.0 name is suggested.
    write(
        workdir / "bot.yaml",
        """
        flows:
          f:
            steps:
              - {step: a, type: say, message: hi, jump_too: b, wait_for_ack: true}
              - {step: b, type: branch, inptu: x, cases: {y: a}}
          g:
            proces:
              - {step: a, type: say, message: hi}
        """,
    )

    assert messages("bot.yaml") == [
        "bot.yaml:4:43: flows.f.steps[0]: unknown key 'jump_too' in a say step",
        "bot.yaml:4:56: flows.f.steps[0]: unknown key 'wait_for_ack' in a say step",
        "bot.yaml:5:33: flows.f.steps[1]: unknown key 'inptu' in a branch step",
        "bot.yaml:7:5: flows.g: missing required field 'steps' in a flow",
        "bot.yaml:7:5: flows.g: unknown key 'proces' in a flow",
    ]


def test_a_file_in_todays_format_is_left_as_written() -> None:
    today = "flows:\n  f:\n    steps:\n      - {step: a, type: say, message: hi}\n"
    soni1 = today.replace("steps:", "process:")

    assert soni1_spelling(parse_yaml(today, "today.yaml")) is None
    assert soni1_spelling(parse_yaml(soni1, "soni1.yaml")) == "process"


def test_a_soni1_name_next_to_todays_is_an_error(workdir: Path) -> None:
    write(
        workdir / "bot.yaml",
        """
        flows:
          f:
            steps:
              - {step: a, type: say, message: hi, jump_to: b, next: b}
              - {step: b, type: branch, slot: x, input: x, cases: {y: a}}
            process:
              - {step: a, type: say, message: hi}
        """,
    )

    assert messages("bot.yaml") == [
        "bot.yaml:4:43: flows.f.steps[0].jump_to: 'jump_to' is the soni 1.0 name of "
        "'next'; write only one",
        "bot.yaml:5:42: flows.f.steps[1].input: 'input' is the soni 1.0 name of 'slot'; "
        "write only one",
        "bot.yaml:6:5: flows.f.process: 'process' is the soni 1.0 name of 'steps'; write only one",
    ]


def test_continue_at_the_end_of_a_loop_body_is_an_error(workdir: Path) -> None:
    write(
        workdir / "bot.yaml",
        """
        flows:
          f:
            steps:
              - step: loop
                type: while
                condition: "x < 3"
                do:
                  - {step: check, type: branch, slot: x, cases: {"1": continue}}
        """,
    )

    assert messages("bot.yaml") == [
        "bot.yaml:8:63: flows.f.steps[0].do[0].cases.1: 'continue' (soni 1.0: go on to "
        "the step below) cannot be used in the last step of a loop body; name the step to "
        "go to"
    ]
