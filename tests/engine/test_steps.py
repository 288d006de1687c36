"""Each step type on its own, with the tiny bots under ``tests/engine/bots/``."""

from __future__ import annotations

import textwrap
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest

from soni import ActionRegistry, load_actions
from soni.actions import ActionSpec
from soni.confirmations.errors import ConfirmationExpired
from soni.engine import Bot
from soni.engine.graph import MAX_STEPS_PER_TURN

from .._handlers import registered_by
from .conftest import BotFactory, talk

BOTS = Path(__file__).resolve().parent / "bots"


def stuck_text(flow: str) -> str:
    return f"Sorry, {flow} got stuck in a loop, so I stopped it."


BROKEN = "Sorry, something went wrong on my side, so I stopped broken."

LoadBot = Callable[[str], Awaitable[Bot]]


@pytest.fixture(scope="session")
def bot_handlers() -> Mapping[str, ActionSpec]:
    """The handlers of every test bot, registered once by (re)running their modules."""
    return registered_by(sorted(BOTS.glob("*/actions.py")))


@pytest.fixture
def load(
    make_bot: BotFactory,
    handlers: Mapping[str, ActionSpec],
    bot_handlers: Mapping[str, ActionSpec],
) -> LoadBot:
    """Load ``tests/engine/bots/<name>`` (state in the test's tmp_path)."""
    ActionRegistry._replace_global({**handlers, **bot_handlers})

    async def load_bot(name: str) -> Bot:
        return await make_bot(str(BOTS / name))

    return load_bot


def handlers_of(name: str) -> ModuleType:
    return load_actions(BOTS / name / "actions.py")[0]


def calls_in(conversation: str) -> list[str]:
    return [action for c, action in handlers_of("actions").CALLS if c == conversation]


# -- say --------------------------------------------------------------------------


async def test_say_fills_placeholders_and_a_missing_slot_renders_empty(load: LoadBot) -> None:
    bot = await load("say")

    result = await bot.handle("say-1", "/greet")

    assert result.texts == [
        "Hello Ana, you have 3 new messages.",
        "Nickname: []; literal braces: {name}.",
    ]
    assert result.status == "ended"


# -- collect ----------------------------------------------------------------------


async def test_collect_asks_and_goes_on_with_the_answer(load: LoadBot) -> None:
    bot = await load("collect")

    asked, told = await talk(bot, "collect-1", "/weather", "Lyon")

    assert (asked.texts, asked.status) == (["Which city?"], "awaiting_input")
    assert (told.texts, told.status) == (["Sunny in Lyon."], "ended")


async def test_collect_is_skipped_when_the_slot_is_filled(load: LoadBot) -> None:
    bot = await load("collect")

    given = await bot.handle("collect-2", '/weather{"city": "Paris"}')
    preset = await bot.handle("collect-2", "/preset")  # a set step filled it

    assert given.texts == ["Sunny in Paris."]
    assert preset.texts == ["Sunny in Rome."]


async def test_collect_rejects_a_value_of_the_wrong_type_and_asks_again(load: LoadBot) -> None:
    bot = await load("collect")

    *_, rejected = await talk(bot, "collect-3", "/ask_age", "abc")

    assert rejected.status == "awaiting_input"
    assert len(rejected.texts) == 2 and rejected.texts[-1] == "How old are you?"
    assert (await bot.handle("collect-3", "41")).texts == ["You are 41."]


async def test_a_collect_steps_own_validator_rejects_a_value(load: LoadBot) -> None:
    bot = await load("collect")

    *_, rejected = await talk(bot, "collect-4", "/ask_age", "-3")

    assert rejected.texts == ["An age above zero, please.", "How old are you?"]
    assert rejected.status == "awaiting_input"
    assert "age" not in rejected.slots


# -- set --------------------------------------------------------------------------


async def test_set_computes_arithmetic(load: LoadBot) -> None:
    bot = await load("set")

    result = await bot.handle("set-1", '/order{"price": 2.5, "qty": 4}')

    assert result.texts == ["4 x 2.5 = 10 (standard)"]
    assert result.slots["total"] == 10.0
    # A text that is not an expression is a template: numbers are written out.
    assert result.slots["summary"] == "4 pieces at 2.5"


async def test_a_conditional_set_applies_only_when_its_condition_holds(load: LoadBot) -> None:
    bot = await load("set")

    result = await bot.handle("set-2", '/order{"price": 2.5, "qty": 10}')

    assert result.texts == ["10 x 2.5 = 22.5 (bulk)"]


async def test_set_assigns_all_values_from_the_slots_before_the_step(load: LoadBot) -> None:
    bot = await load("set")

    result = await bot.handle("set-3", "/swap")

    assert result.texts == ["a=2 b=1 counter=1"]


def write_bot(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / name
    folder.mkdir(exist_ok=True)
    (folder / "bot.yaml").write_text(textwrap.dedent(text))
    return folder


async def test_a_set_text_with_a_dash_between_texts_is_a_template(
    make_bot: BotFactory, tmp_path: Path
) -> None:
    folder = write_bot(
        tmp_path,
        "tpl",
        """
        slots:
          first: {type: string, prompt: "first?"}
          last: {type: string, prompt: "last?"}
          year: {type: integer, prompt: "year?"}
          month: {type: integer, prompt: "month?"}
        flows:
          names:
            steps:
              - {step: a, type: collect, slot: first}
              - {step: b, type: collect, slot: last}
              - {step: s, type: set, slots: {full: "{{first}}-{{last}}"}}
              - {step: t, type: say, message: "full={full}"}
          numbers:
            steps:
              - {step: a, type: collect, slot: year}
              - {step: b, type: collect, slot: month}
              - {step: s, type: set, slots: {gap: "{year}-{month}"}}
              - {step: t, type: say, message: "gap={gap}"}
        """,
    )
    bot = await make_bot(str(folder))
    texts = [(await bot.handle("tp", t)).texts for t in ("/names", "Ann", "Lee")]
    numbers = [(await bot.handle("tp", t)).texts for t in ("/numbers", "2024", "5")]

    assert texts[-1] == ["full=Ann-Lee"]
    assert numbers[-1] == ["gap=2019"]  # numbers on both sides: arithmetic


# -- branch -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "answer"),
    [
        (150, "big"),  # >100
        (100, "just 100"),  # not >100: default
        (0, "not positive"),  # <=0
        (-4, "not positive"),
        (42, "the answer"),  # ==42
        (7, "lucky"),  # a bare literal
        (8, "just 8"),  # default
    ],
)
async def test_branch_on_a_slot(load: LoadBot, n: int, answer: str) -> None:
    bot = await load("branch")

    result = await bot.handle(f"branch-slot-{n}", f'/classify{{"n": {n}}}')

    assert result.texts == [answer]


@pytest.mark.parametrize(
    ("a", "b", "answer"),
    [(4, 7, "large sum"), (1, 1, "tiny sum"), (2, 3, "five"), (2, 4, "medium sum")],
)
async def test_branch_on_an_expression(load: LoadBot, a: int, b: int, answer: str) -> None:
    bot = await load("branch")

    result = await bot.handle(f"branch-eval-{a}-{b}", f'/total{{"a": {a}, "b": {b}}}')

    assert result.texts == [answer]


@pytest.mark.parametrize(
    ("colour", "answer"),
    [("red", "warm"), ("blue", "cool"), ("green", "no case matched green")],
)
async def test_branch_on_text_and_with_no_match_and_no_default(
    load: LoadBot, colour: str, answer: str
) -> None:
    bot = await load("branch")

    result = await bot.handle(f"branch-text-{colour}", f'/paint{{"colour": "{colour}"}}')

    assert result.texts == [answer]


# -- while ------------------------------------------------------------------------


async def test_while_runs_its_body_until_the_condition_fails_then_exits_to(
    load: LoadBot,
) -> None:
    bot = await load("loops")

    result = await bot.handle("while-1", '/count{"times": 3}')

    assert result.texts == ["tick 1", "tick 2", "tick 3", "counted 3"]
    assert handlers_of("loops").TICKS.count("while-1") == 3


async def test_a_loop_whose_condition_is_false_at_once_runs_zero_times(load: LoadBot) -> None:
    bot = await load("loops")

    result = await bot.handle("while-2", '/count{"times": 0}')

    assert result.texts == ["counted 0"]
    assert "while-2" not in handlers_of("loops").TICKS


async def test_loop_body_steps_named_by_id_return_to_the_loop_and_are_skipped_after(
    load: LoadBot,
) -> None:
    bot = await load("loops")

    result = await bot.handle("while-3", '/refs{"times": 2}')

    # Twice in the loop; on the way out the body steps written below the loop are
    # not run once more (soni 1.0's rule): the flow goes on after them.
    assert result.texts == ["i=1", "i=2", "done at i=2"]


async def test_nested_loops(load: LoadBot) -> None:
    bot = await load("loops")

    result = await bot.handle("while-4", "/grid")

    assert result.texts == ["6 cells"]
    assert result.slots["cells"] == 6


# -- action -----------------------------------------------------------------------


async def test_an_action_maps_only_the_outputs_it_names(load: LoadBot) -> None:
    bot = await load("actions")

    asked, told = await talk(bot, "action-1", "/quote", "pen")

    assert asked.texts == ["Which item?"]
    assert told.texts == ["pen costs 12.5."]
    assert told.slots["item_price"] == 12.5
    assert "stock" not in told.slots
    assert calls_in("action-1") == ["steps_quote"]


async def test_without_map_outputs_the_results_named_like_declared_slots_are_kept(
    load: LoadBot,
) -> None:
    bot = await load("actions")

    result = await bot.handle("action-2", "/quote_all")

    assert result.texts == ["7 left."]
    assert result.slots["stock"] == 7
    assert "price" not in result.slots and "colour" not in result.slots


async def test_a_failing_action_jumps_to_on_error(load: LoadBot) -> None:
    bot = await load("actions")

    result = await bot.handle("action-3", "/fragile")

    assert result.texts == ["Plan B."]
    assert calls_in("action-3") == ["steps_explode"]


async def test_a_failing_action_without_on_error_ends_the_flow_and_the_next_message_works(
    load: LoadBot,
) -> None:
    bot = await load("actions")

    failed = await bot.handle("action-4", "/reckless")
    after = await bot.handle("action-4", "/quote")

    assert len(failed.texts) == 1
    # The handler's own error text stays in the logs, not in the chat.
    assert failed.texts[0] == "Sorry, I couldn't steps explode."
    assert "the printer is on fire" not in failed.texts[0]
    assert failed.status == "ended"
    assert (after.texts, after.status) == (["Which item?"], "awaiting_input")
    assert calls_in("action-4") == ["steps_explode"]


async def test_an_action_past_its_declared_timeout_fails_to_on_error(load: LoadBot) -> None:
    bot = await load("actions")

    result = await bot.handle("action-5", "/slow")

    assert result.texts == ["Too slow."]
    assert calls_in("action-5") == ["steps_slow"]


async def test_an_action_past_its_declared_timeout_without_on_error_ends_the_flow(
    load: LoadBot,
) -> None:
    bot = await load("actions")

    result = await bot.handle("action-6", "/slow_unguarded")

    assert result.texts == ["Sorry, I couldn't steps slow."]
    assert result.status == "ended"


async def test_a_guarded_action_can_take_a_date_slot(load: LoadBot) -> None:
    bot = await load("actions")

    asked, confirm, done = await talk(bot, "action-7", "/note_day", "2025-07-01", "yes")

    assert asked.texts == ["Which day?"]
    assert confirm.texts == ["Note 2025-07-01 in the diary?"]
    assert confirm.status == "awaiting_confirmation"
    assert done.texts == ["Noted 2025-07-01."]
    assert calls_in("action-7") == ["steps_note_day 2025-07-01"]


# -- confirm ----------------------------------------------------------------------


async def test_confirm_yes_goes_on_to_the_next_step(load: LoadBot) -> None:
    bot = await load("confirm")

    asked, yes = await talk(bot, "confirm-1", "/delete_draft", "yes")

    assert (asked.texts, asked.status) == (["Delete the draft?"], "awaiting_confirmation")
    assert yes.texts == ["Deleted (sure=true)."]
    assert yes.slots["sure"] is True


async def test_confirm_no_without_on_deny_cancels_the_flow(load: LoadBot) -> None:
    bot = await load("confirm")

    _, no = await talk(bot, "confirm-2", "/delete_draft", "no")

    assert no.texts == ["OK, I've cancelled delete the draft."]
    assert no.status == "ended"
    assert no.slots["sure"] is False


async def test_confirm_yes_jumps_to_on_confirm(load: LoadBot) -> None:
    bot = await load("confirm")

    _, yes = await talk(bot, "confirm-3", "/archive_draft", "yes")

    assert yes.texts == ["Archived (sure=true)."]


async def test_confirm_no_jumps_to_on_deny(load: LoadBot) -> None:
    bot = await load("confirm")

    _, no = await talk(bot, "confirm-4", "/archive_draft", "/deny")

    assert no.texts == ["Kept (sure=false)."]


# -- link, call, end --------------------------------------------------------------


async def test_link_replaces_the_flow(load: LoadBot) -> None:
    bot = await load("jumps")

    linked = await bot.handle("jump-1", "/first")
    state = await bot.state("jump-1")
    answered = await bot.handle("jump-1", "teal")

    assert linked.texts == ["in first", "in second", "Which colour?"]
    assert [frame["flow"] for frame in state["stack"]] == ["second"]
    assert answered.texts == ["second got teal"]  # never "back in first"
    assert answered.status == "ended"


async def test_call_runs_a_sub_flow_and_maps_its_outputs_back(load: LoadBot) -> None:
    bot = await load("jumps")

    result = await bot.handle("jump-2", "/caller")

    assert result.texts == ["21 doubled is 42"]
    assert result.slots["y"] == 42


async def test_a_called_flow_may_pause_and_still_comes_back(load: LoadBot) -> None:
    bot = await load("jumps")

    asked = await bot.handle("jump-3", "/painter")
    state = await bot.state("jump-3")
    answered = await bot.handle("jump-3", "olive")

    assert asked.texts == ["Which colour?"]
    assert [frame["flow"] for frame in state["stack"]] == ["painter", "pick_colour"]
    assert answered.texts == ["painting it olive"]
    assert answered.status == "ended"


async def test_a_called_flow_asks_its_questions_anew(load: LoadBot) -> None:
    bot = await load("jumps")
    await talk(bot, "jump-4", "/first", "teal")  # another flow left a colour behind

    result = await bot.handle("jump-4", "/painter")

    assert result.texts == ["Which colour?"]


async def test_end_ends_the_flow_with_its_message(load: LoadBot) -> None:
    bot = await load("jumps")

    result = await bot.handle("jump-5", "/ender")

    assert result.texts == ["bye from ender"]
    assert result.status == "ended"


# -- turns that never pause, or fail ----------------------------------------------


def test_the_step_limit_per_turn_is_set() -> None:
    assert 10 <= MAX_STEPS_PER_TURN <= 10_000


@pytest.mark.parametrize("flow", ["spin", "forever"])
async def test_a_flow_that_never_pauses_is_stopped_and_the_conversation_goes_on(
    load: LoadBot, flow: str
) -> None:
    bot = await load("stuck")

    stuck = await bot.handle(f"stuck-{flow}", f"/{flow}")
    after = await bot.handle(f"stuck-{flow}", "/hello")

    assert stuck.texts == [stuck_text(flow)]
    assert after.texts == ["hello"]
    assert after.status == "ended"


async def test_a_turn_that_fails_leaves_the_conversation_usable(load: LoadBot) -> None:
    bot = await load("stuck")

    failed = await bot.handle("stuck-broken", "/broken")  # "{missing} + 1" with no value
    after = await bot.handle("stuck-broken", "/hello")

    assert failed.texts == [BROKEN]
    assert after.texts == ["hello"]


# -- expiry -----------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def wipes_in(conversation: str) -> int:
    wipes: list[str] = handlers_of("expiry").WIPES
    return wipes.count(conversation)


async def test_yes_before_the_confirmation_expires_runs_the_action(
    load: LoadBot, clock: FakeClock
) -> None:
    bot = await load("expiry")
    bot.engine.confirmations.clock = clock
    asked = await bot.handle("expiry-1", "/wipe")
    clock.advance(59)

    result = await bot.handle("expiry-1", "yes")

    assert asked.pending[0].expires_at == clock.now + timedelta(seconds=1)
    assert result.texts == ["Wiped."]
    assert wipes_in("expiry-1") == 1


async def test_yes_after_the_confirmation_expired_does_not_run_the_action(
    load: LoadBot, clock: FakeClock
) -> None:
    bot = await load("expiry")
    bot.engine.confirmations.clock = clock
    await bot.handle("expiry-2", "/wipe")
    clock.advance(61)

    result = await bot.handle("expiry-2", "yes")

    assert result.texts == ["The request to steps wipe expired, so I did not do it."]
    assert result.status == "ended"
    assert wipes_in("expiry-2") == 0
    assert (await bot.handle("expiry-2", "yes")).texts != ["Wiped."]
    assert wipes_in("expiry-2") == 0


async def test_a_link_decision_after_expiry_is_refused(load: LoadBot, clock: FakeClock) -> None:
    bot = await load("expiry")
    bot.engine.confirmations.clock = clock
    asked = await bot.handle("expiry-3", "/wipe")
    token = asked.pending[0].token
    assert token is not None
    clock.advance(61)

    with pytest.raises(ConfirmationExpired):
        await bot.decide(token, "approve", actor="u1", channel="http")
    after = await bot.handle("expiry-3", "hello?")

    assert after.texts[-1] == "The request to steps wipe expired, so I did not do it."
    assert wipes_in("expiry-3") == 0
