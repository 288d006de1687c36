"""Structured messages: commands typed directly, bypassing understanding.

For tests, buttons and scripts::

    /transfer_funds                         start a flow
    /transfer_funds{"amount": 50}           start a flow with slots (a JSON object)
    /set amount=50                          fill a slot (several: /set a=1 b=two)
    /affirm   /deny   /cancel   /help       answer or repair
    /choose archive_file                    pick an offered action
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

from soni.nlu.commands import (
    Affirm,
    CancelFlow,
    Choose,
    Command,
    Deny,
    Help,
    SetSlot,
    StartFlow,
)
from soni.nlu.errors import StructuredMessageError
from soni.nlu.protocol import MAX_MESSAGE_CHARS

__all__ = ("is_structured", "parse_structured")

_NAME = r"[A-Za-z_][A-Za-z0-9_.-]*"
_START = re.compile(rf"/(?P<flow>{_NAME})\s*(?P<slots>\{{.*)?", re.DOTALL)
_KEYWORDS = {"affirm": Affirm, "deny": Deny, "cancel": CancelFlow, "help": Help}
_COMMANDS = frozenset({*_KEYWORDS, "set", "choose"})
_SHAPE = re.compile(rf"/(?P<name>{_NAME})(?P<rest>\s*\{{.*|\s.*)?", re.DOTALL)


def is_structured(text: str) -> bool:
    """Whether ``text`` is meant as a structured message.

    It is ``/name`` alone, ``/name{...}``, or a command (``/set``, ``/choose``,
    ``/affirm``, …) followed by its arguments. Other text starting with a slash —
    a path (``/home/ann/report.pdf``), ``/name`` followed by words — is ordinary
    text: it cannot be a structured message, so it is not read as a broken one.
    """
    match = _SHAPE.fullmatch(text.strip())
    if match is None:
        return False
    rest = match["rest"]
    return not rest or rest.lstrip().startswith("{") or match["name"] in _COMMANDS


MAX_NESTING = 32
"""How deeply lists and objects may nest in a structured message's JSON. Deeper
values break whatever walks them later (templates, the checkpoint's serialiser)."""


def _json(text: str, what: str) -> Any:
    """``text`` as JSON.

    Raises:
        ValueError: not JSON.
        StructuredMessageError: nested deeper than ``MAX_NESTING`` (``what`` names it).
    """
    try:
        loaded = json.loads(text)
    except RecursionError:
        loaded = None  # deeper than Python's own limit
    else:
        if _depth(loaded) <= MAX_NESTING:
            return loaded
    raise StructuredMessageError(f"{what} nested more than {MAX_NESTING} levels deep")


def _depth(value: Any) -> int:
    """How deeply ``value`` nests lists and mappings, counted without recursion."""
    deepest = 0
    todo = [(value, 1)]
    while todo:
        item, level = todo.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level <= MAX_NESTING:
                todo.extend((inner, level + 1) for inner in _items(item))
    return deepest


def _items(container: dict[str, Any] | list[Any]) -> list[Any]:
    return list(container.values()) if isinstance(container, dict) else container


def _value(name: str, text: str) -> Any:
    """A /set value: JSON when it parses (numbers, true, quoted text), else the text."""
    try:
        return _json(text, f"the value of {name} is")
    except StructuredMessageError:
        raise
    except ValueError:
        return text


def parse_structured(text: str) -> list[Command]:
    """The commands a structured message stands for.

    Raises:
        StructuredMessageError: the message starts like one but is malformed; the
            message says what was expected.
    """
    stripped = text.strip()
    if len(stripped) > MAX_MESSAGE_CHARS:
        raise StructuredMessageError(
            f"structured message longer than {MAX_MESSAGE_CHARS} characters"
        )
    head, _, rest = stripped.partition(" ")
    verb = head[1:]
    if verb in _KEYWORDS:
        if rest.strip():
            raise StructuredMessageError(f"/{verb} takes no arguments, got {rest.strip()!r}")
        return [_KEYWORDS[verb]()]
    if verb == "choose":
        option = rest.strip()
        if not re.fullmatch(_NAME, option):
            raise StructuredMessageError("expected /choose <option>, e.g. /choose archive_file")
        return [Choose(option)]
    if verb == "set":
        try:
            parts = shlex.split(rest)
        except ValueError as exc:
            raise StructuredMessageError(f"cannot read /set arguments: {exc}") from exc
        if not parts:
            raise StructuredMessageError("expected /set slot=value, e.g. /set amount=50")
        commands: list[Command] = []
        for part in parts:
            name, sep, value = part.partition("=")
            if not sep or not re.fullmatch(_NAME, name):
                hint = (
                    '; quote a value with spaces: /set name="Jo Smith"'
                    if commands and not sep
                    else " (e.g. /set amount=50)"
                )
                raise StructuredMessageError(f"expected slot=value in /set, got {part!r}{hint}")
            commands.append(SetSlot(name, _value(name, value)))
        return commands
    match = _START.fullmatch(stripped)
    if match is None:
        raise StructuredMessageError(
            f"not a structured message: {stripped[:40]!r}; expected /flow_name, "
            '/flow_name{"slot": value}, /set slot=value, /affirm, /deny, /cancel, /help '
            "or /choose option"
        )
    slots: dict[str, Any] = {}
    if match["slots"]:
        try:
            loaded = _json(match["slots"], f"the slots of /{match['flow']} are")
        except StructuredMessageError:
            raise
        except ValueError as exc:
            raise StructuredMessageError(
                f"the slots of /{match['flow']} are not a JSON object: {exc}"
            ) from exc
        if not isinstance(loaded, dict):
            raise StructuredMessageError(f"the slots of /{match['flow']} must be a JSON object")
        slots = loaded
    return [StartFlow(match["flow"], slots)]
