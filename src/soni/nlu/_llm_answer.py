"""Reading the model's answer: JSON text to checked commands, or a reason it is unusable."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
)

from soni.nlu._llm_prompt import known_slots
from soni.nlu.commands import (
    Affirm,
    CancelFlow,
    Choose,
    Clarify,
    Command,
    CorrectSlot,
    Deny,
    Help,
    OutOfScope,
    SetSlot,
    StartFlow,
)
from soni.nlu.protocol import MAX_MESSAGE_CHARS, ConversationContext

__all__ = (
    "MAX_COMMANDS",
    "StreamedAnswer",
    "UnusableAnswer",
    "read_answer",
    "read_completion",
    "read_ollama_chat",
)

MAX_COMMANDS = 16
"""More commands than this in one answer is no reading of one message."""


class UnusableAnswer(Exception):
    """The answer cannot be used; ``str()`` says why (without the answer's text)."""


Scalar = (
    StrictBool | StrictInt | StrictFloat | Annotated[StrictStr, Field(max_length=MAX_MESSAGE_CHARS)]
)


class _Model(BaseModel):
    # Strict structured outputs cannot add keys; a model answering freely may add
    # a "reason" or the like, which is harmless.
    model_config = ConfigDict(extra="ignore", frozen=True)


class _SlotValue(_Model):
    slot: StrictStr
    value: Scalar


class _StartFlow(_Model):
    kind: Literal["start_flow"]
    flow: StrictStr
    # The schema asks for a list of pairs (strict mode has no free-form objects);
    # a plain mapping is the natural answer without it.
    slots: list[_SlotValue] | dict[StrictStr, Scalar] = Field(default_factory=list)


class _SetSlot(_Model):
    kind: Literal["set_slot"]
    slot: StrictStr
    value: Scalar


class _CorrectSlot(_Model):
    kind: Literal["correct_slot"]
    slot: StrictStr
    value: Scalar


class _Choose(_Model):
    kind: Literal["choose"]
    option: StrictStr


class _Clarify(_Model):
    kind: Literal["clarify"]
    candidates: list[StrictStr] = Field(min_length=1, max_length=MAX_COMMANDS)


class _Bare(_Model):
    kind: Literal["cancel_flow", "affirm", "deny", "help", "out_of_scope"]


_Item = Annotated[
    _StartFlow | _SetSlot | _CorrectSlot | _Choose | _Clarify | _Bare,
    Field(discriminator="kind"),
]


class _Answer(_Model):
    commands: list[_Item] = Field(min_length=1, max_length=MAX_COMMANDS)


def _json(content: str) -> Any:
    text = content.strip()
    if text.startswith("```"):
        # A fenced block (```json ... ```), as models answering freely often write.
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0]
    try:
        return json.loads(text)
    except ValueError:
        pass
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        try:
            return json.loads(text[start : end + 1])
        except ValueError:
            pass
    raise UnusableAnswer("the answer is not JSON")


def _shape(data: Any) -> _Answer:
    if isinstance(data, list):
        data = {"commands": data}
    elif isinstance(data, dict) and "commands" not in data and "kind" in data:
        data = {"commands": [data]}
    try:
        return _Answer.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "the answer"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise UnusableAnswer(
            f"the answer does not match the schema: {where}: {first['msg']}{more}"
        ) from None


def read_answer(content: str, text: str, context: ConversationContext) -> list[Command]:
    """The commands in ``content``, each checked against the context.

    Raises:
        UnusableAnswer: not JSON, not the schema, or naming a flow, slot or option
            the context does not offer.
    """
    answer = _shape(_json(content))
    flows = {flow.name for flow in context.flows}
    slots = set(known_slots(context))

    def flow_name(name: str) -> str:
        if name not in flows:
            raise UnusableAnswer(f"unknown flow {name!r}")
        return name

    def slot_name(name: str) -> str:
        if name not in slots:
            raise UnusableAnswer(f"unknown slot {name!r}")
        return name

    commands: list[Command] = []
    for item in answer.commands:
        if isinstance(item, _StartFlow):
            pairs = (
                item.slots.items()
                if isinstance(item.slots, dict)
                else ((p.slot, p.value) for p in item.slots)
            )
            values = {slot_name(name): value for name, value in pairs}
            commands.append(StartFlow(flow_name(item.flow), values))
        elif isinstance(item, _SetSlot):
            commands.append(SetSlot(slot_name(item.slot), item.value))
        elif isinstance(item, _CorrectSlot):
            commands.append(CorrectSlot(slot_name(item.slot), item.value))
        elif isinstance(item, _Choose):
            commands.append(Choose(_option(item.option, context)))
        elif isinstance(item, _Clarify):
            candidates = tuple(dict.fromkeys(flow_name(name) for name in item.candidates))
            commands.append(Clarify(candidates))
        elif item.kind == "out_of_scope":
            commands.append(OutOfScope(text))
        else:
            commands.append(_BARE[item.kind]())
    return commands


def _option(said: str, context: ConversationContext) -> str:
    pending = context.pending
    if pending is None or not pending.options:
        raise UnusableAnswer(f"choose {said!r} but no options are offered")
    if said in pending.options:
        return said
    # A model may answer with the label it was shown rather than the name.
    wanted = said.strip().casefold()
    for option in pending.options:
        if option.casefold() == wanted or pending.labels.get(option, "").casefold() == wanted:
            return option
    raise UnusableAnswer(f"option {said!r} is not offered (offered: {', '.join(pending.options)})")


_BARE: dict[str, type[CancelFlow | Affirm | Deny | Help]] = {
    "cancel_flow": CancelFlow,
    "affirm": Affirm,
    "deny": Deny,
    "help": Help,
}


class _Message(BaseModel):
    content: str | None = None
    refusal: str | None = None


class _Choice(BaseModel):
    message: _Message
    finish_reason: str | None = None


class _Completion(BaseModel):
    """The part of a chat-completions response this backend reads."""

    choices: list[_Choice] = Field(min_length=1)


def read_completion(raw: bytes) -> str:
    """The first choice's message text from a chat-completions response body.

    Raises:
        UnusableAnswer: not a chat completion, a refusal, a cut-short or empty answer.
    """
    try:
        completion = _Completion.model_validate_json(raw)
    except ValidationError:
        raise UnusableAnswer("the response is not a chat completion") from None
    choice = completion.choices[0]
    if choice.message.refusal:
        raise UnusableAnswer("the model refused to answer")
    return _text(choice.message.content, choice.finish_reason)


def _text(content: str | None, finish_reason: str | None) -> str:
    if finish_reason == "length":
        raise UnusableAnswer(f"the answer was cut short (finish_reason {finish_reason!r})")
    if not content or not content.strip():
        raise UnusableAnswer("the answer is empty")
    return content


class _OllamaChat(BaseModel):
    """The part of an Ollama ``/api/chat`` response (``stream: false``) this backend reads."""

    message: _Message
    done_reason: str | None = None


def read_ollama_chat(raw: bytes) -> str:
    """The message text of an Ollama native ``/api/chat`` response.

    Raises:
        UnusableAnswer: not such a response, a cut-short or empty answer.
    """
    try:
        chat = _OllamaChat.model_validate_json(raw)
    except ValidationError:
        raise UnusableAnswer("the response is not an Ollama chat response") from None
    return _text(chat.message.content, chat.done_reason)


class _Delta(BaseModel):
    content: str | None = None
    refusal: str | None = None


class _ChunkChoice(BaseModel):
    delta: _Delta = Field(default_factory=_Delta)
    finish_reason: str | None = None


class _Chunk(BaseModel):
    """One server-sent event of a streamed chat completion (a usage-only one has no choices)."""

    choices: list[_ChunkChoice] = Field(default_factory=list)
    error: Any = None


class _OllamaLine(BaseModel):
    message: _Message = Field(default_factory=_Message)
    done: bool = False
    done_reason: str | None = None
    error: Any = None


class StreamedAnswer:
    """A streamed answer put together line by line: OpenAI-style server-sent events
    (``data: {...}`` up to ``data: [DONE]``) or, for Ollama's native chat, one JSON
    object a line up to ``"done": true``.

    Streaming lets the backend hang up when the turn's budget is spent, and a server
    that streams stops generating for a client that left (llama-cpp-python's, for one,
    finishes a non-streamed answer nobody waits for, holding up the next request).
    """

    def __init__(self, *, ollama: bool = False) -> None:
        self._ollama = ollama
        self._parts: list[str] = []
        self._finish_reason: str | None = None
        self._refused = False
        self.done = False

    def feed(self, line: str) -> None:
        """Take one line of the stream.

        Raises:
            UnusableAnswer: the line is not part of such a stream, or reports an error.
        """
        line = line.strip()
        if not line:
            return
        if self._ollama:
            payload = line
        elif line.startswith("data:"):
            payload = line[5:].strip()
            if payload == "[DONE]":
                self.done = True
                return
        else:
            return  # an SSE comment (": ping"), an event name, an id
        try:
            if self._ollama:
                ollama = _OllamaLine.model_validate_json(payload)
            else:
                chunk = _Chunk.model_validate_json(payload)
        except ValidationError:
            raise UnusableAnswer("the response is not a chat completion stream") from None
        if self._ollama:
            if ollama.error is not None:
                raise UnusableAnswer("the server reported an error while answering")
            self._parts.append(ollama.message.content or "")
            if ollama.done:
                self._finish_reason = ollama.done_reason
                self.done = True
            return
        if chunk.error is not None:
            raise UnusableAnswer("the server reported an error while answering")
        if chunk.choices:
            choice = chunk.choices[0]
            self._parts.append(choice.delta.content or "")
            self._refused = self._refused or bool(choice.delta.refusal)
            self._finish_reason = choice.finish_reason or self._finish_reason

    def text(self) -> str:
        """The whole answer's text.

        Raises:
            UnusableAnswer: a refusal, an answer cut short, empty, or never finished.
        """
        if self._refused:
            raise UnusableAnswer("the model refused to answer")
        if not self.done and self._finish_reason is None:
            raise UnusableAnswer("the answer stream ended before the answer did")
        return _text("".join(self._parts), self._finish_reason)
