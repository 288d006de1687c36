"""Pydantic models of the bot format: settings, slots, actions, flows.

The models check each element on its own (types, required fields, unknown keys);
references between elements are checked afterwards by :mod:`soni.dsl.validate`.
Every model is frozen and rejects unknown keys, except where the format leaves
room for other tools (``settings`` and ``settings.nlu``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from soni.dsl.slot_types import SLOT_TYPES, SlotKind, normalise_choices
from soni.dsl.source import SourceMap
from soni.dsl.steps import (
    ACTION_NAME_PATTERN,
    STRICT,
    ActionName,
    ActionStep,
    BranchStep,
    CallStep,
    ChooseOption,
    ChooseStep,
    CollectStep,
    ConfirmStep,
    EndStep,
    LinkStep,
    Message,
    SayStep,
    SetStep,
    SlotName,
    Step,
    WhileStep,
)

__all__ = (
    "ActionDef",
    "ActionStep",
    "BotConfig",
    "BranchStep",
    "CallStep",
    "ChooseOption",
    "ChooseStep",
    "CollectStep",
    "ConfirmStep",
    "ConfirmationSettings",
    "EndStep",
    "FlowDef",
    "LinkStep",
    "NluSettings",
    "PersistenceSettings",
    "SayStep",
    "SetStep",
    "Settings",
    "SlotDef",
    "Step",
    "Trigger",
    "WhileStep",
)

FlowName = Annotated[str, StringConstraints(pattern=ACTION_NAME_PATTERN)]

SlotType = Literal[
    "string",
    "text",
    "integer",
    "int",
    "number",
    "float",
    "boolean",
    "date",
    "time",
    "datetime",
    "email",
    "choice",
    "any",
]


# -- settings ---------------------------------------------------------------------


class PersistenceSettings(BaseModel):
    """Where conversation state is kept.

    Attributes:
        backend: ``memory`` (lost on restart), ``sqlite`` (one file) or ``postgres``.
        path: The SQLite file.
        url: The PostgreSQL connection URL (required for ``postgres``).
    """

    model_config = STRICT

    backend: Literal["memory", "sqlite", "postgres"] = "sqlite"
    path: str = ".soni/state.db"
    url: str | None = None

    @model_validator(mode="after")
    def _postgres_needs_url(self) -> PersistenceSettings:
        if self.backend == "postgres" and not self.url:
            raise ValueError("the postgres backend needs a 'url'")
        return self


class ConfirmationSettings(BaseModel):
    """Pending confirmations.

    Attributes:
        ttl: Seconds until a pending confirmation expires.
    """

    model_config = STRICT

    ttl: float = Field(default=300.0, gt=0, allow_inf_nan=False)


class NluSettings(BaseModel):
    """Language understanding. Keys other than ``engine`` are kept for the engine chosen.

    Attributes:
        engine: ``rules`` (offline, the default) or ``llm``.
    """

    model_config = ConfigDict(extra="allow", frozen=True, coerce_numbers_to_str=True)

    engine: Literal["rules", "llm"] = "rules"


class Settings(BaseModel):
    """Bot-wide settings.

    Keys other than these three are accepted and kept (in ``model_extra``) for other
    tools, e.g. ``models`` or ``logging``.
    """

    model_config = ConfigDict(extra="allow", frozen=True, coerce_numbers_to_str=True)

    persistence: PersistenceSettings = Field(default_factory=PersistenceSettings)
    confirmations: ConfirmationSettings = Field(default_factory=ConfirmationSettings)
    nlu: NluSettings = Field(default_factory=NluSettings)
    timezone: str | None = None
    """The bot's time zone, an IANA name ("Europe/Madrid"): what "today" and "tomorrow"
    mean to its users. Not set: the machine's."""
    messages: dict[str, Message] = Field(default_factory=dict)
    """Built-in messages in the bot's own words (see :mod:`soni.dsl.responses`)."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            zone_of(value)
        except ValueError as exc:
            raise ValueError(str(exc)) from None
        return value


def zone_of(name: str) -> ZoneInfo:
    """The time zone named ``name`` (IANA).

    Raises:
        ValueError: no such zone.
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"unknown time zone {name!r}: use an IANA name such as 'Europe/Madrid' or 'UTC'"
        ) from None


# -- slots and actions ------------------------------------------------------------


class SlotDef(BaseModel):
    """A slot: a named value the conversation collects or computes.

    Attributes:
        name: The slot's name (a top-level slot takes it from its key).
        type: The declared type, as written (aliases included); see ``kind``.
        prompt: The question a collect step asks when it has no ``message``.
        validator: A registered validator the value must pass.
        validation_error_message: What to say when the value is rejected (by its
            type, its ``pattern`` or a validator).
        pattern: For a ``string`` slot, a regular expression the whole value must
            match (``re.fullmatch``, case-sensitive unless it says ``(?i)``); see
            ``compiled_pattern``.
        required: Whether the flow needs a value.
        choices: For a ``choice`` slot, ``{value: [synonyms]}``.
        default: The value before anything sets it.
        description: What the slot holds, for language understanding and listings.
        examples: Example values, for language understanding.
    """

    model_config = STRICT

    name: SlotName
    type: SlotType = "string"
    prompt: Message | None = None
    validator: str | None = None
    validation_error_message: str | None = None
    pattern: str | None = None
    required: bool = True
    choices: dict[str, list[str]] | None = None
    default: Any = None
    description: str | None = None
    examples: list[str] = Field(default_factory=list)

    _compiled: re.Pattern[str] | None = PrivateAttr(default=None)

    @property
    def compiled_pattern(self) -> re.Pattern[str] | None:
        """``pattern``, compiled once when the slot loaded; ``None`` without one."""
        return self._compiled

    @property
    def kind(self) -> SlotKind:
        """The type with aliases resolved: ``int`` → ``integer``, ``number`` → ``float``,
        ``text`` → ``string``."""
        return SLOT_TYPES[self.type]

    @model_validator(mode="before")
    @classmethod
    def _choice_type(cls, data: Any) -> Any:
        # Choices make the type obvious; saying "type: choice" as well is optional.
        if isinstance(data, dict) and data.get("choices") is not None and "type" not in data:
            return {**data, "type": "choice"}
        return data

    @field_validator("choices", mode="before")
    @classmethod
    def _choices(cls, value: Any) -> Any:
        return None if value is None else normalise_choices(value)

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        declared = info.data.get("type")
        if declared is not None and SLOT_TYPES[declared] != "string":
            # The other types read the text into a number, a date, a choice or an
            # address, whose form the type already decides; a pattern would be
            # matched against something the user never wrote.
            raise ValueError(f"'pattern' only applies to string slots, not to type {declared!r}")
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _choices_match_type(self) -> SlotDef:
        if self.kind == "choice" and not self.choices:
            raise ValueError("a choice slot needs 'choices'")
        if self.kind != "choice" and self.choices is not None:
            raise ValueError(f"'choices' only apply to a choice slot, not a {self.type} slot")
        if self.pattern is not None:
            self._compiled = re.compile(self.pattern)
        return self


class ActionDef(BaseModel):
    """A declaration of a handler the flows call. Declaring an action is optional.

    Attributes:
        description: What it does (shown in listings and choose prompts).
        inputs: The slots it reads.
        outputs: The keys of the dict it returns.
        confirm: A question; when set, every call of the action needs approval.
        timeout: Seconds the handler may take.
    """

    model_config = STRICT

    description: str | None = None
    inputs: list[SlotName] = Field(default_factory=list)
    outputs: list[str] = Field(default_factory=list)
    confirm: str | None = None
    timeout: float | None = Field(default=None, gt=0, allow_inf_nan=False)


# -- flows --------------------------------------------------------------------------


class Trigger(BaseModel):
    """What starts a flow.

    Attributes:
        intents: Example phrases; ``{slot}`` marks a value to extract.
    """

    model_config = STRICT

    intents: list[str] = Field(default_factory=list)


class FlowDef(BaseModel):
    """A flow: a sequence of steps the conversation walks.

    Attributes:
        description: What the flow does (used by the NLU and in listings).
        trigger: What starts it.
        slots: Slots that only this flow uses, in list form (each with ``name``).
        steps: The steps, in order.
    """

    model_config = STRICT

    description: str | None = None
    trigger: Trigger = Field(default_factory=Trigger)
    slots: list[SlotDef] = Field(default_factory=list)
    steps: list[Step] = Field(min_length=1)
    messages: dict[str, Message] = Field(default_factory=dict)
    """Built-in messages in this flow's own words (see :mod:`soni.dsl.responses`)."""

    def iter_steps(self) -> Iterator[Step]:
        """Every step of the flow: each listed step, then its inline loop steps, in order."""
        for step in self.steps:
            yield step
            if isinstance(step, WhileStep):
                yield from _inline_steps(step)

    def step_ids(self) -> frozenset[str]:
        """The ids a jump in this flow may target (besides ``end``)."""
        return frozenset(step.step for step in self.iter_steps())


def _inline_steps(loop: WhileStep) -> Iterator[Step]:
    for item in loop.do:
        if not isinstance(item, str):
            yield item
            if isinstance(item, WhileStep):
                yield from _inline_steps(item)


# -- the bot ------------------------------------------------------------------------


# The format versions this release reads: "1.0" (the current format, and soni 1.0's
# spellings, read through its compatibility), "1" as YAML may write it, and "0.1",
# which soni 1.0's own examples declare.
FORMAT_VERSIONS: tuple[str, ...] = ("1.0", "1", "0.1")


class BotConfig(BaseModel):
    """A whole bot, as loaded from its YAML file or folder.

    Attributes:
        version: The format version the bot is written for.
        settings: Bot-wide settings.
        slots: Top-level slots by name, shared by all flows.
        actions: Declared actions by name.
        flows: Flows by name.
    """

    model_config = STRICT

    version: str = "1.0"
    settings: Settings = Field(default_factory=Settings)
    slots: dict[SlotName, SlotDef] = Field(default_factory=dict)
    actions: dict[ActionName, ActionDef] = Field(default_factory=dict)
    flows: dict[FlowName, FlowDef] = Field(default_factory=dict)

    _source: SourceMap | None = PrivateAttr(default=None)

    @field_validator("version")
    @classmethod
    def _known_version(cls, value: str) -> str:
        if value.strip() not in FORMAT_VERSIONS:
            known = ", ".join(f'"{v}"' for v in FORMAT_VERSIONS)
            raise ValueError(
                f"{value!r} is not a format version this release reads (it reads {known})"
            )
        return value.strip()

    @model_validator(mode="before")
    @classmethod
    def _prepare(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = {key: value for key, value in data.items() if value is not None}
        slots = data.get("slots")
        if isinstance(slots, dict):
            # A top-level slot is named by its key.
            data["slots"] = {
                name: {"name": name, **slot} if isinstance(slot, dict) else slot
                for name, slot in slots.items()
            }
        return data

    @property
    def source_map(self) -> SourceMap | None:
        """Where each element was written, or ``None`` for a bot built in code."""
        return self._source

    def slots_for(self, flow: str) -> dict[str, SlotDef]:
        """The slots a flow sees: the top-level ones, overridden by the flow's own.

        Raises:
            KeyError: no such flow.
        """
        own = {slot.name: slot for slot in self.flows[flow].slots}
        return {**self.slots, **own}
