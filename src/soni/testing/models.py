"""The conversation-test file format, as pydantic models (see docs/testing.md).

A test file holds ``tests:``, a list of conversations. Each step of a conversation
is a mapping with exactly one key, which says what the step does (``user:``) or
checks (``bot:``, ``pending:``, …). The key picks the model, as ``type`` picks a
step model in a bot file.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, ClassVar, Literal, TypeAlias

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
)

__all__ = (
    "STEP_KEYS",
    "ActionExecutedStep",
    "ActionFailedStep",
    "ActionNotExecutedStep",
    "ApproveStep",
    "BotStep",
    "ChooseStep",
    "ConversationFileModel",
    "ConversationTest",
    "ExpireStep",
    "FlowStep",
    "PendingExpectation",
    "PendingStep",
    "SkipStep",
    "SlotStep",
    "Step",
    "UserStep",
    "is_pattern",
)

_STRICT = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

_SLOT = r"^[A-Za-z_][A-Za-z0-9_]*$"
_ACTION = r"^[A-Za-z_][A-Za-z0-9_.-]*$"


def is_pattern(text: str) -> bool:
    """Whether an expected text is written as a ``/regular expression/``."""
    return len(text) >= 2 and text.startswith("/") and text.endswith("/")


def _valid_pattern(text: str) -> str:
    if is_pattern(text):
        try:
            pattern = re.compile(text[1:-1])
        except re.error as exc:
            raise ValueError(f"invalid regular expression {text}: {exc}") from None
        if pattern.search("") is not None:
            # It would be found in any reply: a step that cannot fail.
            raise ValueError(f"the regular expression {text} matches any text")
    return text


Expected = Annotated[str, AfterValidator(_valid_pattern)]
"""Text a reply must equal, or ``/pattern/`` it must contain a match of."""
SlotName = Annotated[str, StringConstraints(pattern=_SLOT)]
ActionName = Annotated[str, StringConstraints(pattern=_ACTION)]


class _Step(BaseModel):
    model_config = _STRICT
    key: ClassVar[str]

    def describe(self) -> str:
        """The step as written: ``bot: 'What is their IBAN?'``."""
        value = getattr(self, self.key)
        if isinstance(value, BaseModel):
            value = value.model_dump(exclude_none=True)
        return f"{self.key}: {_show(value)}"


class UserStep(_Step):
    """Send a message as the user: a new turn."""

    key: ClassVar[str] = "user"
    user: str


class BotStep(_Step):
    """The next reply of the latest turn is this text (or matches ``/pattern/``)."""

    key: ClassVar[str] = "bot"
    bot: Expected


class PendingExpectation(BaseModel):
    """What the open confirmation must look like; every given field is checked."""

    model_config = _STRICT

    action: ActionName | None = None
    """An action it offers."""
    prompt: Expected | None = None
    """Its question: exact text or ``/pattern/``."""
    options: list[ActionName] | None = None
    """Every action it offers, in order."""


class PendingStep(_Step):
    """A confirmation is open now (``null``: none is)."""

    key: ClassVar[str] = "pending"
    pending: PendingExpectation | None


class ApproveStep(_Step):
    """Approve the open confirmation out of band (``bot.decide``): a new turn."""

    key: ClassVar[str] = "approve"
    approve: Literal[True]


class SkipStep(_Step):
    """Skip (decline) the open confirmation out of band: a new turn."""

    key: ClassVar[str] = "skip"
    skip: Literal[True]


class ChooseStep(_Step):
    """Pick one offered action (by name or label) out of band: a new turn."""

    key: ClassVar[str] = "choose"
    choose: Annotated[str, StringConstraints(min_length=1)]


class ExpireStep(_Step):
    """Let the open confirmation expire: its time runs out, nobody decided."""

    key: ClassVar[str] = "expire"
    expire: Literal[True]


class ActionExecutedStep(_Step):
    """The action's handler ran, and returned, in the latest turn."""

    key: ClassVar[str] = "action_executed"
    action_executed: ActionName


class ActionFailedStep(_Step):
    """The action's handler was called in the latest turn and failed (raised, timed out)."""

    key: ClassVar[str] = "action_failed"
    action_failed: ActionName


class ActionNotExecutedStep(_Step):
    """The action's handler was not called in the latest turn."""

    key: ClassVar[str] = "action_not_executed"
    action_not_executed: ActionName


class SlotStep(_Step):
    """The conversation's slots hold these values now (``null``: unset)."""

    key: ClassVar[str] = "slot"
    slot: Annotated[dict[SlotName, Any], Field(min_length=1)]


class FlowStep(_Step):
    """The active flow (the top of the stack) now; ``null``: no flow is active."""

    key: ClassVar[str] = "flow"
    flow: ActionName | None


_STEP_MODELS: tuple[type[_Step], ...] = (
    UserStep,
    BotStep,
    PendingStep,
    ApproveStep,
    SkipStep,
    ChooseStep,
    ExpireStep,
    ActionExecutedStep,
    ActionNotExecutedStep,
    ActionFailedStep,
    SlotStep,
    FlowStep,
)
STEP_KEYS: tuple[str, ...] = tuple(model.key for model in _STEP_MODELS)
"""Every step key, in the order the documentation lists them."""


def _step_key(value: Any) -> str | None:
    # A mapping with one known key; anything else has no tag, and the loader
    # explains what is wrong with it (see soni.testing.loading).
    if isinstance(value, dict) and len(value) == 1:
        (key,) = value
        return key if key in STEP_KEYS else None
    if isinstance(value, _Step):
        return value.key
    return None


Step: TypeAlias = Annotated[
    Annotated[UserStep, Tag("user")]
    | Annotated[BotStep, Tag("bot")]
    | Annotated[PendingStep, Tag("pending")]
    | Annotated[ApproveStep, Tag("approve")]
    | Annotated[SkipStep, Tag("skip")]
    | Annotated[ChooseStep, Tag("choose")]
    | Annotated[ExpireStep, Tag("expire")]
    | Annotated[ActionExecutedStep, Tag("action_executed")]
    | Annotated[ActionNotExecutedStep, Tag("action_not_executed")]
    | Annotated[ActionFailedStep, Tag("action_failed")]
    | Annotated[SlotStep, Tag("slot")]
    | Annotated[FlowStep, Tag("flow")],
    Discriminator(_step_key),
]


class ConversationTest(BaseModel):
    """One conversation, run on a fresh state."""

    model_config = _STRICT

    name: Annotated[str, StringConstraints(min_length=1)]
    description: str | None = None
    slots: dict[SlotName, Any] = Field(default_factory=dict)
    """Slots set before the first step (a ``/set`` message; see docs/testing.md)."""
    stub_actions: dict[ActionName, dict[str, Any] | None] = Field(default_factory=dict)
    """Actions whose handler is replaced, for this test, by one returning the dict."""
    today: dt.date | None = None
    """The day the conversation happens (in the bot's time zone); the file's, if not set."""
    steps: Annotated[list[Step], Field(min_length=1)]


class ConversationFileModel(BaseModel):
    """A file of conversation tests."""

    model_config = _STRICT

    today: dt.date | None = None
    """The day every test of the file happens, unless a test says its own."""
    tests: Annotated[list[ConversationTest], Field(min_length=1)]


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)
