"""What the client hands back: the server's answers, read into ``soni.wire``'s models.

The client's names for them are the ones its users know: a ``Reply`` is the
server's ``TurnOut``, a ``BotMessage`` its ``ReplyOut``, and so on. The server's
JSON is read once, here, and checked as it is read: a missing or mistyped field
raises ``ProtocolError`` naming it, instead of a ``KeyError`` in the caller's code
later on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from soni.client.errors import ProtocolError
from soni.wire import DecisionOut, EventOut, PendingOut, ReplyOut, TurnOut

__all__ = ("BotMessage", "Decision", "Event", "Pending", "Reply")

BotMessage = ReplyOut
"""One message from the bot: ``text`` and ``kind``; ``str()`` of it is its text."""

Pending = PendingOut
"""A confirmation the conversation waits for: ``id``, ``token`` (``None`` when the
server no longer knows it; the user can still answer in chat), ``prompt``,
``options``, ``labels`` and ``expires_at``."""

Reply = TurnOut
"""The answer to a chat message: the bot's replies and what it waits for now."""

Decision = DecisionOut
"""The outcome of a decision: what was recorded and the resumed conversation's replies."""

Event = EventOut
"""Something that happened in a subscribed conversation."""

M = TypeVar("M", bound=BaseModel)


def reply_from_wire(result: Mapping[str, Any]) -> Reply:
    return _read(TurnOut, result, "message result")


def decision_from_wire(result: Mapping[str, Any]) -> Decision:
    return _read(DecisionOut, result, "decide result")


def event_from_wire(payload: Mapping[str, Any]) -> Event:
    return _read(EventOut, payload, "event")


def _read(model: type[M], data: Mapping[str, Any], where: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ProtocolError(_describe(model, exc.errors(include_url=False)[0], where)) from None


_TYPES = {
    "string_type": "str",
    "int_type": "int",
    "bool_type": "bool",
    "dict_type": "object",
    "list_type": "list",
    "tuple_type": "list",
}


def _describe(model: type[BaseModel], error: ErrorDetails, where: str) -> str:
    """The first thing wrong with an answer, as the path to it and what it should be."""
    loc = error["loc"]
    at = where + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)
    kind = error["type"]
    if kind == "missing":
        parent = at.removesuffix(f".{loc[-1]}")
        return f"{parent} has no {loc[-1]!r}"
    if kind in ("model_type", "model_attributes_type"):
        return f"{at} is not an object"
    if kind in _TYPES:
        expected = _TYPES[kind] + (" or null" if _accepts_null(model, loc) else "")
        return f"{at} should be {expected}, got {type(error['input']).__name__}"
    return f"{at}: {error['msg']}"


def _accepts_null(model: type[BaseModel], loc: tuple[int | str, ...]) -> bool:
    """Whether the member at ``loc`` of ``model`` may be ``null``."""
    annotation: Any = model
    for part in loc:
        if isinstance(part, int):  # an item of a tuple[X, ...]
            annotation = get_args(annotation)[0]
            continue
        (inner,) = (
            t
            for t in (annotation, *get_args(annotation))
            if isinstance(t, type) and issubclass(t, BaseModel)
        )
        annotation = next(
            f.annotation
            for name, f in inner.model_fields.items()
            if part in (name, f.validation_alias)
        )
    return type(None) in get_args(annotation)
