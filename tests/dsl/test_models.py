"""Every element of the bot format loads from YAML into its model."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

from soni.dsl import (
    ActionStep,
    BotConfig,
    BranchStep,
    CallStep,
    ChooseStep,
    CollectStep,
    ConfirmStep,
    EndStep,
    LinkStep,
    SayStep,
    SetStep,
    SlotDef,
    WhileStep,
    load_bot,
)

from ._helpers import MINIMAL_FLOW, write


def load(tmp_path: Path, *parts: str) -> BotConfig:
    return load_bot(write(tmp_path / "bot.yaml", *parts))


def test_a_minimal_bot_gets_every_default(tmp_path: Path) -> None:
    bot = load(tmp_path, MINIMAL_FLOW)

    assert bot.version == "1.0"
    assert bot.settings.persistence.backend == "sqlite"
    assert bot.settings.persistence.path == ".soni/state.db"
    assert bot.settings.persistence.url is None
    assert bot.settings.confirmations.ttl == 300
    assert bot.settings.nlu.engine == "rules"
    assert bot.slots == {}
    assert bot.actions == {}
    flow = bot.flows["greet"]
    assert flow.description is None
    assert flow.trigger.intents == []
    assert flow.slots == []
    assert flow.steps == [SayStep(step="hello", message="Hello!")]


def test_settings_load_and_keep_keys_for_other_tools(tmp_path: Path) -> None:
    bot = load(
        tmp_path,
        """
        version: "1.0"
        settings:
          persistence: {backend: postgres, url: "postgresql://db/soni"}
          confirmations: {ttl: 30.5}
          nlu: {engine: llm, model: small, temperature: 0.1}
          logging: {level: DEBUG}
          models: {nlu: {provider: local}}
        """,
        MINIMAL_FLOW,
    )

    settings = bot.settings
    assert settings.persistence.backend == "postgres"
    assert settings.persistence.url == "postgresql://db/soni"
    assert settings.confirmations.ttl == 30.5
    assert settings.nlu.engine == "llm"
    assert settings.nlu.model_extra == {"model": "small", "temperature": 0.1}
    assert settings.model_extra == {
        "logging": {"level": "DEBUG"},
        "models": {"nlu": {"provider": "local"}},
    }


def test_an_unquoted_version_number_is_text(tmp_path: Path) -> None:
    bot = load(tmp_path, "version: 1.0\n", MINIMAL_FLOW)

    assert bot.version == "1.0"


@pytest.mark.parametrize(
    ("declared", "kind"),
    [
        ("string", "string"),
        ("text", "string"),
        ("integer", "integer"),
        ("int", "integer"),
        ("number", "float"),
        ("float", "float"),
        ("boolean", "boolean"),
        ("date", "date"),
        ("email", "email"),
        ("any", "any"),
    ],
)
def test_slot_types_keep_the_declared_name_and_expose_a_kind(
    tmp_path: Path, declared: str, kind: str
) -> None:
    bot = load(tmp_path, f"slots:\n  value: {{type: {declared}}}\n", MINIMAL_FLOW)

    slot = bot.slots["value"]
    assert slot.type == declared
    assert slot.kind == kind


def test_a_top_level_slot_is_named_by_its_key_and_keeps_every_field(tmp_path: Path) -> None:
    bot = load(
        tmp_path,
        """
        slots:
          amount:
            type: float
            prompt: "How much?"
            validator: positive
            validation_error_message: "Please enter a positive amount."
            required: false
            default: 10
        """,
        MINIMAL_FLOW,
    )

    assert bot.slots["amount"] == SlotDef(
        name="amount",
        type="float",
        prompt="How much?",
        validator="positive",
        validation_error_message="Please enter a positive amount.",
        required=False,
        default=10,
    )


def test_a_slot_without_a_type_is_text_and_required(tmp_path: Path) -> None:
    bot = load(tmp_path, "slots:\n  name: {}\n", MINIMAL_FLOW)

    assert bot.slots["name"].kind == "string"
    assert bot.slots["name"].required is True


@pytest.mark.parametrize(
    "choices",
    [
        "[checking, savings]",
        "{checking: [current, main], savings: []}",
        "{checking: [current, main], savings: null}",
        "[{checking: [current, main]}, savings]",
        "[{checking: [current, main]}, {savings: []}]",
    ],
)
def test_choices_in_every_form_become_one_mapping(tmp_path: Path, choices: str) -> None:
    bot = load(
        tmp_path, f"slots:\n  account:\n    type: choice\n    choices: {choices}\n", MINIMAL_FLOW
    )

    account = bot.slots["account"]
    assert list(account.choices or {}) == ["checking", "savings"]
    assert account.choices is not None
    assert account.choices["savings"] == []
    if "current" in choices:
        assert account.choices["checking"] == ["current", "main"]


def test_choices_imply_the_choice_type_and_yes_no_stay_text(tmp_path: Path) -> None:
    bot = load(tmp_path, "slots:\n  answer:\n    choices: [yes, no, 'on']\n", MINIMAL_FLOW)

    assert bot.slots["answer"].kind == "choice"
    assert bot.slots["answer"].choices == {"yes": [], "no": [], "on": []}


def test_actions_load(tmp_path: Path) -> None:
    bot = load(
        tmp_path,
        """
        slots:
          amount: {type: float}
          iban: {}
        actions:
          execute_transfer:
            description: "Send money"
            inputs: [amount, iban]
            outputs: [transaction_id]
            confirm: "Send {amount} EUR to {iban}?"
            timeout: 10
          ping: {}
        """,
        MINIMAL_FLOW,
    )

    transfer = bot.actions["execute_transfer"]
    assert transfer.description == "Send money"
    assert transfer.inputs == ["amount", "iban"]
    assert transfer.outputs == ["transaction_id"]
    assert transfer.confirm == "Send {amount} EUR to {iban}?"
    assert transfer.timeout == 10
    ping = bot.actions["ping"]
    assert (ping.inputs, ping.outputs, ping.confirm, ping.timeout) == ([], [], None, None)


def test_a_flow_loads_its_trigger_and_slots(tmp_path: Path) -> None:
    bot = load(
        tmp_path,
        """
        flows:
          transfer:
            description: "Transfer money"
            trigger:
              intents: ["send money", "send {amount} to {who}"]
            slots:
              - {name: amount, type: number}
              - name: who
            steps:
              - {step: ask, type: collect, slot: amount}
        """,
    )

    flow = bot.flows["transfer"]
    assert flow.description == "Transfer money"
    assert flow.trigger.intents == ["send money", "send {amount} to {who}"]
    assert [(s.name, s.kind) for s in flow.slots] == [("amount", "float"), ("who", "string")]
    assert bot.slots_for("transfer")["amount"].kind == "float"


STEPS_YAML = """
slots:
  amount: {type: float}
  account: {choices: [checking, savings]}
  ok: {type: boolean}
  counter: {type: integer}
flows:
  sub:
    slots: [{name: result}, {name: given}]
    steps:
      - {step: only, type: say, message: "in sub"}
  main:
    steps:
      - step: s_say
        type: say
        message: "Hi {amount}"
      - step: s_collect
        type: collect
        slot: amount
        message: "How much?"
        validator: positive
        validation_error_message: "Must be positive."
      - step: s_set
        type: set
        condition: "amount > 0"
        slots:
          counter: "{counter} + 1"
          ok: true
      - step: s_branch
        type: branch
        slot: amount
        cases: {">100": s_while, "default": s_action}
      - step: s_branch_expr
        type: branch
        evaluate: "amount * 2"
        cases: {"==4": s_while}
      - step: s_while
        type: while
        condition: "counter < 3"
        do:
          - s_say
          - {step: inline, type: set, slots: {counter: "{counter} + 1"}}
        exit_to: s_action
      - step: s_action
        type: action
        call: execute_transfer
        map_outputs: {transaction_id: tx}
        confirm: "Send {amount}?"
        on_skip: s_end
        on_error: s_end
      - step: s_choose
        type: choose
        message: "Pick one"
        options:
          - {action: refund, label: "Refund me"}
          - replace
        on_skip: s_end
      - step: s_confirm
        type: confirm
        slot: ok
        message: "Sure?"
        on_confirm: s_link
        on_deny: s_end
      - step: s_call
        type: call
        target: sub
        inputs: [amount]
        outputs: {result: tx}
        next: s_end
      - step: s_link
        type: link
        target: sub
      - step: s_end
        type: end
        message: "Bye"
"""


def test_every_step_type_loads_into_its_model(tmp_path: Path) -> None:
    bot = load(tmp_path, STEPS_YAML)
    steps = {step.step: step for step in bot.flows["main"].steps}

    assert steps["s_say"] == SayStep(step="s_say", message="Hi {amount}")
    assert steps["s_collect"] == CollectStep(
        step="s_collect",
        slot="amount",
        message="How much?",
        validator="positive",
        validation_error_message="Must be positive.",
    )
    assert steps["s_set"] == SetStep(
        step="s_set", condition="amount > 0", slots={"counter": "{counter} + 1", "ok": True}
    )
    assert steps["s_branch"] == BranchStep(
        step="s_branch", slot="amount", cases={">100": "s_while", "default": "s_action"}
    )
    assert steps["s_branch_expr"] == BranchStep(
        step="s_branch_expr", evaluate="amount * 2", cases={"==4": "s_while"}
    )
    loop = steps["s_while"]
    assert isinstance(loop, WhileStep)
    assert loop.condition == "counter < 3"
    assert loop.exit_to == "s_action"
    assert loop.do == ["s_say", SetStep(step="inline", slots={"counter": "{counter} + 1"})]
    assert steps["s_action"] == ActionStep(
        step="s_action",
        call="execute_transfer",
        map_outputs={"transaction_id": "tx"},
        confirm="Send {amount}?",
        on_skip="s_end",
        on_error="s_end",
    )
    choose = steps["s_choose"]
    assert isinstance(choose, ChooseStep)
    assert [(o.action, o.label) for o in choose.options] == [
        ("refund", "Refund me"),
        ("replace", None),
    ]
    assert choose.on_skip == "s_end"
    assert steps["s_confirm"] == ConfirmStep(
        step="s_confirm", slot="ok", message="Sure?", on_confirm="s_link", on_deny="s_end"
    )
    assert steps["s_call"] == CallStep(
        step="s_call",
        target="sub",
        inputs={"amount": "amount"},
        outputs={"result": "tx"},
        next="s_end",
    )
    assert steps["s_link"] == LinkStep(step="s_link", target="sub")
    assert steps["s_end"] == EndStep(step="s_end", message="Bye")


def test_iter_steps_includes_inline_loop_steps_in_order(tmp_path: Path) -> None:
    flow = load(tmp_path, STEPS_YAML).flows["main"]

    ids = [step.step for step in flow.iter_steps()]

    assert ids[:7] == [
        "s_say",
        "s_collect",
        "s_set",
        "s_branch",
        "s_branch_expr",
        "s_while",
        "inline",
    ]
    assert "inline" in flow.step_ids()


def test_numbers_where_text_is_expected_are_text(tmp_path: Path) -> None:
    bot = load(
        tmp_path,
        """
        flows:
          f:
            steps:
              - {step: 1, type: say, message: 404}
        """,
    )

    assert bot.flows["f"].steps[0] == SayStep(step="1", message="404")


def test_steps_can_be_built_in_code_without_a_type() -> None:
    step = CollectStep(step="ask", slot="amount")

    assert step.type == "collect"
    assert step.next is None


def test_models_are_frozen(tmp_path: Path) -> None:
    bot = load(tmp_path, MINIMAL_FLOW)

    with pytest.raises(pydantic.ValidationError):
        bot.version = "2.0"  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError):
        bot.flows["greet"].steps[0].step = "other"  # type: ignore[misc]


def test_the_source_map_locates_elements(tmp_path: Path) -> None:
    path = write(tmp_path / "bot.yaml", MINIMAL_FLOW)
    bot = load_bot(path)

    assert bot.source_map is not None
    location = bot.source_map.locate(("flows", "greet", "steps", 0, "message"))
    assert (location.path, location.line, location.column) == (str(path), 6, 18)
    assert BotConfig.model_validate({"flows": {}}).source_map is None
