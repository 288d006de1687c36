"""The step types of a flow, as pydantic models discriminated by ``type``.

Every step has ``step`` (its id, unique in the flow) and ``type``, and may name an
explicit ``next`` step; without one the flow goes on with the step below. Jump
fields (``next``, ``on_deny``, a branch's case targets, ...) name a step of the same
flow or ``end``, which ends the flow; :mod:`soni.dsl.validate` checks that they do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    model_validator,
)

__all__ = (
    "ACTION_NAME_PATTERN",
    "END",
    "SLOT_NAME_PATTERN",
    "STEP_TYPES",
    "ActionName",
    "ActionStep",
    "BranchStep",
    "CallStep",
    "ChooseOption",
    "ChooseStep",
    "CollectStep",
    "ConfirmStep",
    "EndStep",
    "LinkStep",
    "Message",
    "SayStep",
    "SetStep",
    "SlotName",
    "Step",
    "StepId",
    "WhileItem",
    "WhileStep",
    "each_action_step",
)

END = "end"
"""The jump target that ends the flow; no step may take it as its id."""

SLOT_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
ACTION_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.-]*$"

STRICT = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)
"""Unknown keys are errors; a number where text is expected (``step: 1``) is text."""

StepId = Annotated[str, StringConstraints(min_length=1)]
SlotName = Annotated[str, StringConstraints(pattern=SLOT_NAME_PATTERN)]
"""Slot names are identifiers: they appear in expressions and as handler parameters."""
ActionName = Annotated[str, StringConstraints(pattern=ACTION_NAME_PATTERN)]
Message: TypeAlias = str | Annotated[list[str], Field(min_length=1)]
"""What the bot says: a template, or a list of variants (one is said per turn)."""


def _name_pairs(value: Any) -> Any:
    # ``inputs: [a, b]`` is shorthand for ``inputs: {a: a, b: b}``.
    if value is None:
        return {}
    if isinstance(value, list):
        pairs: dict[Any, Any] = {}
        for item in value:
            if isinstance(item, dict | list):
                raise ValueError("list entries must be slot names; use a mapping to rename")
            pairs[item] = item
        return pairs
    return value


SlotPairs = Annotated[dict[SlotName, SlotName], BeforeValidator(_name_pairs)]


class _Step(BaseModel):
    model_config = STRICT

    step: StepId
    """The step's id, unique in its flow."""
    next: StepId | None = None
    """Where to go after this step instead of the step below (a step id or ``end``)."""


class SayStep(_Step):
    """Reply with ``message`` (``{slot}`` placeholders filled)."""

    type: Literal["say"] = "say"
    message: Message


class CollectStep(_Step):
    """Ask for ``slot`` unless it already holds a valid value; re-ask when invalid."""

    type: Literal["collect"] = "collect"
    slot: SlotName
    message: Message | None = None
    """The question; the slot's ``prompt`` when absent."""
    validator: str | None = None
    """A registered validator, on top of the slot's own."""
    validation_error_message: str | None = None


class SetStep(_Step):
    """Assign ``slots``; a text value containing ``{slot}`` references is an expression."""

    type: Literal["set"] = "set"
    slots: dict[SlotName, Any] = Field(min_length=1)
    condition: str | None = None
    """Assign only when this expression holds."""


class BranchStep(_Step):
    """Jump by the value of ``slot`` or of the expression ``evaluate``.

    ``cases`` maps a pattern (``>N >=N <N <=N ==x !=x``, a literal, ``true``/``false``,
    ``default``) to a step id. With no match and no ``default`` the flow goes on.
    """

    type: Literal["branch"] = "branch"
    slot: SlotName | None = None
    evaluate: str | None = None
    cases: dict[str, StepId] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_subject(self) -> BranchStep:
        if (self.slot is None) == (self.evaluate is None):
            which = "both" if self.slot is not None else "neither"
            raise ValueError(f"a branch step needs either 'slot' or 'evaluate' ({which} given)")
        return self


def _while_item_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        return "step"
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return "ref"
    return None


WhileItem = Annotated[
    Annotated[StepId, Tag("ref")] | Annotated["Step", Tag("step")],
    Discriminator(
        _while_item_kind,
        custom_error_type="while_item",
        custom_error_message="expected a step id or an inline step",
    ),
]
"""An entry of a while loop's body: the id of a step of the flow, or an inline step."""


class WhileStep(_Step):
    """Run the ``do`` steps, in order, while ``condition`` holds; then go to ``exit_to``.

    Without ``exit_to`` the loop exits to the step below it.
    """

    type: Literal["while"] = "while"
    condition: str
    do: list[WhileItem] = Field(min_length=1)
    exit_to: StepId | None = None


class ActionStep(_Step):
    """Run the handler ``call``; copy result keys into slots with ``map_outputs``.

    With ``confirm`` (or an action declared with ``confirm``) the call first becomes
    a pending confirmation.
    """

    type: Literal["action"] = "action"
    call: ActionName
    map_outputs: dict[str, SlotName] = Field(default_factory=dict)
    """``{result key: slot}``."""
    confirm: str | None = None
    """The question that asks for approval; makes the call need one."""
    on_skip: StepId | None = None
    """Where to go when the user declines (or the approval expires)."""
    on_error: StepId | None = None
    """Where to go when the handler fails."""
    on_unknown: StepId | None = None
    """Where to go when the call's outcome is unknown (interrupted by a crash)."""


def _option(value: Any) -> Any:
    # ``options: [refund, replace]`` is shorthand for ``[{action: refund}, ...]``.
    return {"action": value} if isinstance(value, str) else value


class ChooseOption(BaseModel):
    """One action a choose step offers."""

    model_config = STRICT

    action: ActionName
    label: str | None = None
    """What the user sees; the action's description or name when absent."""


class ChooseStep(_Step):
    """Offer several actions, or one action over each item of a list; the user picks one
    (or skips).

    With ``options`` the choices are fixed actions. With ``options_from`` (a slot
    holding a list, usually an action's output) there is one option per item: choosing
    it binds the item to ``bind`` and runs ``action`` with it; ``label`` is rendered
    over the slots with the item bound. The approval is bound to the value shown.
    """

    type: Literal["choose"] = "choose"
    message: Message
    options: list[Annotated[ChooseOption, BeforeValidator(_option)]] | None = Field(
        default=None, min_length=1
    )
    options_from: SlotName | None = None
    """A slot holding the list to offer, one option per item."""
    bind: SlotName | dict[SlotName, str] | None = None
    """Where the chosen item goes: a slot (the whole item), or ``{slot: item key}``."""
    action: ActionName | None = None
    """The action every item's option runs (with ``options_from``)."""
    label: str | None = None
    """How each item is shown (with ``options_from``), over the slots with it bound."""
    on_empty: StepId | None = None
    """Where to go when the list is empty (with ``options_from``); else the flow ends."""
    on_skip: StepId | None = None
    on_error: StepId | None = None
    """Where to go when the chosen action's handler fails."""
    on_unknown: StepId | None = None
    """Where to go when the chosen call's outcome is unknown (interrupted by a crash)."""

    @model_validator(mode="after")
    def _one_source(self) -> ChooseStep:
        if (self.options is None) == (self.options_from is None):
            which = "both" if self.options is not None else "neither"
            raise ValueError(
                f"a choose step needs either 'options' or 'options_from' ({which} given)"
            )
        if self.options is not None:
            given = [k for k in ("bind", "action", "label", "on_empty") if getattr(self, k)]
            if given:
                raise ValueError(
                    f"{given[0]!r} goes with 'options_from'; with fixed 'options' each "
                    "option names its action and label"
                )
            return self
        missing = [k for k in ("action", "bind") if getattr(self, k) is None]
        if missing:
            raise ValueError(f"a choose step with 'options_from' needs {missing[0]!r}")
        if isinstance(self.bind, dict) and not self.bind:
            raise ValueError("'bind' needs at least one slot")
        return self

    @property
    def bound_slots(self) -> tuple[str, ...]:
        """The slots a chosen item is bound to."""
        if self.bind is None:
            return ()
        return (self.bind,) if isinstance(self.bind, str) else tuple(self.bind)

    @property
    def actions(self) -> tuple[str, ...]:
        """The actions it may run."""
        if self.options is not None:
            return tuple(option.action for option in self.options)
        return (self.action,) if self.action is not None else ()


class ConfirmStep(_Step):
    """Ask a yes/no question; the answer is stored in ``slot``.

    Yes goes to ``on_confirm`` or the next step. No goes to ``on_deny``, or, when
    absent, ends the flow with a cancellation message.
    """

    type: Literal["confirm"] = "confirm"
    slot: SlotName
    message: Message | None = None
    on_confirm: StepId | None = None
    on_deny: StepId | None = None


class LinkStep(_Step):
    """End this flow and start ``target``."""

    type: Literal["link"] = "link"
    target: str


class CallStep(_Step):
    """Run the flow ``target`` as a sub-flow, then come back.

    ``inputs`` and ``outputs`` map ``{sub-flow slot: this flow's slot}``; a list of
    names passes slots under the same name.
    """

    type: Literal["call"] = "call"
    target: str
    inputs: SlotPairs = Field(default_factory=dict)
    outputs: SlotPairs = Field(default_factory=dict)


class EndStep(_Step):
    """End the flow, optionally with a last message."""

    type: Literal["end"] = "end"
    message: Message | None = None


Step: TypeAlias = Annotated[
    SayStep
    | CollectStep
    | SetStep
    | BranchStep
    | WhileStep
    | ActionStep
    | ChooseStep
    | ConfirmStep
    | LinkStep
    | CallStep
    | EndStep,
    Field(discriminator="type"),
]
"""Any step, chosen by its ``type``."""

STEP_TYPES: tuple[str, ...] = (
    "say",
    "collect",
    "set",
    "branch",
    "while",
    "action",
    "choose",
    "confirm",
    "link",
    "call",
    "end",
)

WhileStep.model_rebuild()


# -- the raw data, before the models read it ----------------------------------------


def each_action_step(
    data: dict[str, Any], visit: Callable[[dict[str, Any], list[str]], None]
) -> None:
    """Call ``visit(step, outputs)`` for each action step, in raw merged data, whose
    action is declared with ``outputs``."""
    actions = data.get("actions")
    flows = data.get("flows")
    if not isinstance(actions, dict) or not isinstance(flows, dict):
        return
    outputs: dict[str, list[str]] = {}
    for name, action in actions.items():
        declared = action.get("outputs") if isinstance(action, dict) else None
        if isinstance(declared, list):
            outputs[name] = [o for o in declared if isinstance(o, str)]

    def step_visit(step: dict[str, Any]) -> None:
        call = step.get("call")
        declared = outputs.get(call) if isinstance(call, str) else None
        if step.get("type") == "action" and declared:
            visit(step, declared)

    for flow in flows.values():
        if isinstance(flow, dict) and isinstance(flow.get("steps"), list):
            _each_step(flow["steps"], step_visit)


def _each_step(steps: list[Any], visit: Callable[[dict[str, Any]], None]) -> None:
    for step in steps:
        if isinstance(step, dict):
            visit(step)
            if step.get("type") == "while" and isinstance(step.get("do"), list):
                _each_step(step["do"], visit)
