"""What the LLM backend sends: the system prompt and the JSON schema of the answer."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from typing import Any

from soni.nlu._llm_settings import ResponseFormat
from soni.nlu.protocol import ConversationContext, SlotInfo

__all__ = (
    "ENFORCED",
    "SCHEMA_NAME",
    "command_schema",
    "known_slots",
    "request_body",
    "system_prompt",
)

SCHEMA_NAME = "soni_commands"

ENFORCED: frozenset[ResponseFormat] = frozenset(
    {"json_schema", "llama_cpp", "ollama", "vllm", "guided_json"}
)
"""The forms whose server holds the answer to the schema; the others carry the schema
in the prompt and hope."""

# The forms whose servers turn the schema into a llama.cpp grammar, which honours
# maxItems and maxLength (llama-cpp-python's converter, llama-server's, which Ollama uses).
_GRAMMARS: frozenset[ResponseFormat] = frozenset({"llama_cpp", "ollama"})

# Bounds on what one prompt carries: a bot's own text is trusted, but a slot value
# may be a long free-text answer, and a long list of trigger phrases adds little.
_MAX_VALUE_CHARS = 200
_MAX_INTENTS = 20
# What one message says, at most, in a bounded schema (a sentence is rarely more than
# a flow and two corrections).
_MAX_BOUNDED_COMMANDS = 4
# How a value of these slot types is written in an answer.
_FORMATS = {"date": "YYYY-MM-DD", "time": "HH:MM", "datetime": "YYYY-MM-DDTHH:MM"}

_GUIDE = """\
You read one message a user sent to a task-oriented chatbot and say what it means \
as dialogue commands. Answer with a JSON object {"commands": [...]}; each command \
has a "kind":
- start_flow: the user wants to do one of the flows below; "slots" lists the values \
the message already gives (as {"slot": name, "value": value}).
- set_slot: the message gives a slot's value, typically the one the bot just asked for.
- correct_slot: the user changes a value they gave before ("actually, make it 5").
- cancel_flow: the user wants to stop what they are doing.
- affirm / deny: yes / no to the pending confirmation or the bot's yes/no question.
- choose: the user picks one of the offered options (give its name).
- clarify: the message could mean several flows; list them as "candidates".
- help: the user asks what the bot can do.
- out_of_scope: nothing above fits.
Use only the flow, slot and option names listed below. Give dates as YYYY-MM-DD, \
times as HH:MM (24-hour clock), dates with times as YYYY-MM-DDTHH:MM, numbers as \
JSON numbers, yes/no slot values as true/false, and choices by their name. Several \
commands are allowed when the message says several things; never an empty list."""


def known_slots(context: ConversationContext) -> list[str]:
    """Every slot name the context mentions, in a stable order."""
    names: dict[str, None] = dict.fromkeys(context.slot_types)
    for flow in context.flows:
        names.update(dict.fromkeys(flow.slots))
    if context.expected_slot is not None:
        names[context.expected_slot.name] = None
    names.update(dict.fromkeys(context.slots))
    return list(names)


def _name(names: Iterable[str]) -> dict[str, Any]:
    """A string, one of ``names`` when there are any (an empty enum is no schema)."""
    listed = list(dict.fromkeys(names))
    return {"type": "string", "enum": listed} if listed else {"type": "string"}


def _command(kind: str, **properties: dict[str, Any]) -> dict[str, Any]:
    # Structured outputs in strict mode: every property required, nothing else.
    return {
        "type": "object",
        "properties": {"kind": {"type": "string", "enum": [kind]}, **properties},
        "required": ["kind", *properties],
        "additionalProperties": False,
    }


def _array(items: dict[str, Any], most: int | None, *, least: int = 0) -> dict[str, Any]:
    array: dict[str, Any] = {"type": "array", "items": items}
    if most:  # bounded
        if least:
            array["minItems"] = least
        array["maxItems"] = most
    return array


def command_schema(context: ConversationContext, *, bounded: bool = False) -> dict[str, Any]:
    """The JSON schema of an answer: ``{"commands": [...]}`` with one shape per kind.

    Flow, slot and option names are enumerated from the context, so a model with
    structured outputs cannot name anything else; ``choose`` is offered only when a
    confirmation offers options.

    ``bounded`` adds ``minItems``, ``maxItems`` and ``maxLength``, which a
    grammar-constrained server (llama.cpp's) enforces: without them a small model
    answers ``{"commands": []}``, or repeats items until
    ``max_tokens`` (llama-cpp-python's server, Gemma 3 270M: the same four slots over and
    over, 400 tokens, 40 s). OpenAI's strict mode is not sent them: its subset of JSON
    Schema is the narrowest, and a keyword outside it fails the request.
    """
    flows = [f.name for f in context.flows]
    slots = known_slots(context)
    flow = _name(flows)
    slot = _name(slots)
    text = {"type": "string", "maxLength": _MAX_VALUE_CHARS} if bounded else {"type": "string"}
    value = {"anyOf": [text, {"type": "number"}, {"type": "boolean"}]}
    options = context.pending.options if context.pending is not None else ()
    slot_value = {
        "type": "object",
        "properties": {"slot": slot, "value": value},
        "required": ["slot", "value"],
        "additionalProperties": False,
    }
    commands = [
        _command("start_flow", flow=flow, slots=_array(slot_value, bounded and len(slots))),
        _command("set_slot", slot=slot, value=value),
        _command("correct_slot", slot=slot, value=value),
        _command("cancel_flow"),
        _command("affirm"),
        _command("deny"),
        _command("clarify", candidates=_array(flow, bounded and len(flows))),
        _command("help"),
        _command("out_of_scope"),
    ]
    if options:
        # Without options a choice can only be unusable: a constrained model cannot make one.
        commands.insert(6, _command("choose", option=_name(options)))
    return {
        "type": "object",
        "properties": {
            "commands": _array({"anyOf": commands}, bounded and _MAX_BOUNDED_COMMANDS, least=1)
        },
        "required": ["commands"],
        "additionalProperties": False,
    }


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 3] + "..."


def _describe_slot(name: str, context: ConversationContext) -> str:
    info: SlotInfo | None = context.slot_types.get(name)
    if info is None and context.expected_slot is not None and context.expected_slot.name == name:
        info = context.expected_slot
    if info is None:
        return name
    text = f"{name} ({info.kind}"
    if info.kind in _FORMATS:
        text += f", as {_FORMATS[info.kind]}"
    if info.choices:
        listed = []
        for choice, synonyms in info.choices.items():
            said = f" [also said: {', '.join(synonyms)}]" if synonyms else ""
            listed.append(f"{choice}{said}")
        text += "; one of: " + ", ".join(listed)
    if info.pattern is not None:
        # The model gives the matching part alone ("BK-1234", not "my code is BK-1234").
        text += f"; the value matches the regular expression {info.pattern.pattern} whole"
    return text + ")"


def _flows(context: ConversationContext) -> list[str]:
    lines = ["Flows:"]
    for flow in context.flows:
        line = f"- {flow.name}"
        if flow.description:
            line += f": {flow.description}"
        if flow.intents:
            said = "; ".join(json.dumps(i, ensure_ascii=False) for i in flow.intents[:_MAX_INTENTS])
            line += f"\n  Said like: {said}"
        if flow.slots:
            line += "\n  Slots: " + ", ".join(_describe_slot(s, context) for s in flow.slots)
        lines.append(line)
    if len(lines) == 1:
        lines.append("- (none)")
    return lines


def _state(context: ConversationContext) -> list[str]:
    lines = ["Now:"]
    lines.append(f"- Active flow: {context.active_flow or '(none)'}")
    if context.expected_slot is not None:
        described = _describe_slot(context.expected_slot.name, context)
        lines.append(f"- The bot just asked for the slot {described}.")
    if context.slots:
        values = ", ".join(f"{k}={_short(v)}" for k, v in context.slots.items())
        lines.append(f"- Slot values so far: {values}")
    if context.pending is not None:
        options = []
        for option in context.pending.options:
            label = context.pending.labels.get(option)
            options.append(
                f"{option} ({json.dumps(label, ensure_ascii=False)})" if label else option
            )
        lines.append(
            "- The bot is waiting for a confirmation; its options: "
            + (", ".join(options) or "(none)")
            + ". Answer with affirm, deny, or choose one option."
        )
    elif context.awaiting_confirm_step:
        lines.append("- The bot just asked a yes/no question: answer with affirm or deny.")
    return lines


def system_prompt(context: ConversationContext, *, schema: dict[str, Any] | None = None) -> str:
    """The instructions: the commands, the bot's flows and slots, where the talk is.

    ``schema`` is written out in the prompt when the request cannot carry it as a
    structured-output format.
    """
    today = context.today or date.today()
    parts = [
        _GUIDE,
        f"Today is {today.isoformat()} ({today.strftime('%A')}).",
        "\n".join(_flows(context)),
        "\n".join(_state(context)),
    ]
    if schema is not None:
        parts.append("The answer must match this JSON schema:\n" + json.dumps(schema))
    return "\n\n".join(parts)


def request_body(
    form: ResponseFormat,
    text: str,
    context: ConversationContext,
    *,
    model: str,
    temperature: float,
    max_tokens: int,
) -> dict[str, Any]:
    """The JSON body asking for ``text`` to be read, in the shape ``form``'s servers take.

    ``form`` is a concrete one (never ``auto``). Every form but ``ollama`` is an OpenAI
    chat-completions body; ``ollama`` is the body of Ollama's native ``/api/chat``.
    """
    schema = command_schema(context, bounded=form in _GRAMMARS)
    prompt = system_prompt(context, schema=None if form in ENFORCED else schema)
    messages = [{"role": "system", "content": prompt}, {"role": "user", "content": text}]
    if form == "ollama":
        # /api/chat streams unless told not to; sampling settings sit under "options".
        options: dict[str, Any] = {"temperature": temperature}
        if max_tokens:
            options["num_predict"] = max_tokens
        return {
            "model": model,
            "messages": messages,
            "stream": False,
            "format": schema,
            "options": options,
        }
    body: dict[str, Any] = {"model": model, "temperature": temperature, "messages": messages}
    if max_tokens:
        body["max_tokens"] = max_tokens
    if form == "json_schema":
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": SCHEMA_NAME, "strict": True, "schema": schema},
        }
    elif form == "llama_cpp":
        body["response_format"] = {"type": "json_object", "schema": schema}
    elif form == "vllm":
        body["structured_outputs"] = {"json": schema}
    elif form == "guided_json":
        body["guided_json"] = schema
    elif form == "json_object":
        body["response_format"] = {"type": "json_object"}
    return body
