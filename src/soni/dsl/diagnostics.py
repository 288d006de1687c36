"""Turning pydantic's validation errors into messages a bot author understands.

Pydantic names an error by its ``loc`` — field names, list indexes, dict keys and,
for discriminated unions, the tag that picked the model. Walking that ``loc``
through the model types *and* the loaded data at the same time tells us which
model the error is about (to name it, "a collect step", and list its keys) and
which element of the file it points at (to find its line).
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel, Tag, ValidationError
from pydantic_core import ErrorDetails

from soni.dsl.errors import ConfigError
from soni.dsl.models import (
    ActionDef,
    BotConfig,
    ConfirmationSettings,
    FlowDef,
    NluSettings,
    PersistenceSettings,
    Settings,
    SlotDef,
    Trigger,
)
from soni.dsl.source import DataPath, Location, SourceMap, format_path
from soni.dsl.steps import ACTION_NAME_PATTERN, SLOT_NAME_PATTERN, STEP_TYPES, ChooseOption
from soni.errors import did_you_mean

__all__ = ("describe_value", "translate")

_LABELS: dict[type[BaseModel], str] = {
    BotConfig: "the bot",
    Settings: "settings",
    PersistenceSettings: "the persistence settings",
    ConfirmationSettings: "the confirmations settings",
    NluSettings: "the nlu settings",
    SlotDef: "a slot",
    ActionDef: "an action",
    FlowDef: "a flow",
    Trigger: "a trigger",
    ChooseOption: "a choose option",
}

# What a literal field's values are called, for "unknown slot type 'strng'".
_LITERAL_NOUNS = {"type": "slot type", "backend": "persistence backend", "engine": "NLU engine"}

_PATTERN_HINTS = {
    SLOT_NAME_PATTERN: "a slot name uses letters, digits and '_', and does not start with a digit",
    ACTION_NAME_PATTERN: (
        "a name uses letters, digits, '_', '.' and '-', and starts with a letter or '_'"
    ),
}

_STEP_HINT = "a mapping with 'step' and 'type'"


def describe_value(value: Any) -> str:
    """A value as an error message shows it: ``'abc'``, ``12``, ``a list``, ``nothing``."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _label(model: type[BaseModel] | None) -> str:
    if model is None:
        return "this element"
    if model in _LABELS:
        return _LABELS[model]
    step_type = getattr(model.model_fields.get("type"), "default", None)
    if isinstance(step_type, str) and step_type in STEP_TYPES:
        article = "an" if step_type[0] in "aeiou" else "a"
        return f"{article} {step_type} step"
    return f"a {model.__name__}"  # pragma: no cover - every model has a label


@dataclass(slots=True)
class _Target:
    """Where a ``loc`` leads: the element in the data and the model around it."""

    path: DataPath  # as far as the data goes: an element left out stops it early
    container: type[BaseModel] | None
    container_path: DataPath
    key: bool  # the error is about a mapping key, not its value
    annotation: Any  # the expected type at the end of the loc


def _unwrap(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


def _tagged_member(union: Any, tag: object) -> Any:
    """The union member that ``tag`` selects, or ``None`` if ``tag`` is not a tag."""
    for member in typing.get_args(union):
        if typing.get_origin(member) is typing.Annotated:
            if any(isinstance(m, Tag) and m.tag == tag for m in typing.get_args(member)[1:]):
                return member
            member = _unwrap(member)
        if isinstance(member, type) and issubclass(member, BaseModel):
            field = member.model_fields.get("type")
            if field is not None and field.default == tag:
                return member
        elif _is_union(member):
            found = _tagged_member(member, tag)
            if found is not None:
                return found
    return None


def _has(datum: Any, segment: int | str) -> bool:
    if isinstance(datum, dict):
        return segment in datum
    return isinstance(datum, list) and isinstance(segment, int) and 0 <= segment < len(datum)


def _follow(loc: Sequence[int | str], data: Any) -> _Target:
    annotation: Any = BotConfig
    datum = data
    path: DataPath = ()
    reached = True
    container: type[BaseModel] | None = None
    container_path: DataPath = ()
    key = False
    for segment in loc:
        annotation = _unwrap(annotation)
        if segment == "[key]":
            key = True
            continue
        if _is_union(annotation):
            member = _tagged_member(annotation, segment) or _named_member(annotation, segment)
            if member is not None:
                annotation = member
                continue  # a tag names a model or a form, not an element of the data
            others = [m for m in typing.get_args(annotation) if m is not type(None)]
            annotation = _unwrap(others[0]) if len(others) == 1 else Any
        origin = typing.get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            container, container_path = annotation, path
            field = annotation.model_fields.get(str(segment))
            annotation = field.annotation if field is not None else Any
        elif origin is dict:
            annotation = typing.get_args(annotation)[1]
        elif origin is list:
            annotation = typing.get_args(annotation)[0]
        else:
            annotation = Any
        if reached and _has(datum, segment):
            datum = datum[segment]
            path = (*path, segment)
        else:
            reached = False
    return _Target(path, container, container_path, key, _unwrap(annotation))


def _named_member(union: Any, segment: int | str) -> Any:
    """The member of a plain union that pydantic names in an error's location: ``str``
    or ``list[str]`` of a message that may be text or a list of variants."""
    if not isinstance(segment, str):
        return None
    for member in typing.get_args(union):
        form = _unwrap(member)
        origin = typing.get_origin(form)
        if (form is str and segment == "str") or (
            origin is not None and segment.startswith(f"{origin.__name__}[")
        ):
            return member
    return None


def _name(path: DataPath) -> str:
    """The element's own name for a message: ``ttl``, ``intents[2]``."""
    for index in range(len(path) - 1, -1, -1):
        if isinstance(path[index], str):
            return format_path(path[index:])
    return format_path(path)


def _prefixed(path: DataPath, message: str) -> str:
    return f"{format_path(path)}: {message}" if path else message


def _expected_values(expected: str) -> list[str]:
    return re.findall(r"'((?:[^'\\]|\\.)*)'", expected)


def _is_step_union(annotation: Any) -> bool:
    return _is_union(annotation) and _tagged_member(annotation, "say") is not None


@dataclass(slots=True)
class _Translated:
    location: Location
    message: str
    container_path: DataPath
    path: DataPath
    missing: str | None = None
    suggested: str | None = None
    bad_key: bool = False


def _translate_one(error: ErrorDetails, data: Any, source: SourceMap) -> _Translated:
    kind = error["type"]
    target = _follow(error["loc"], data)
    given = describe_value(error.get("input"))
    ctx = error.get("ctx") or {}
    label = _label(target.container)
    fields = list(target.container.model_fields) if target.container is not None else []

    if kind == "extra_forbidden":
        key = str(error["loc"][-1])
        candidates = list(fields)
        hint = did_you_mean(key, candidates)
        where = "at the top level" if target.container is BotConfig else f"in {label}"
        close = hint and difflib.get_close_matches(key, candidates, n=1, cutoff=0.6)[0]
        return _Translated(
            source.locate(target.path, key=True),
            _prefixed(target.container_path, f"unknown key {key!r} {where}{hint}"),
            target.container_path,
            target.path,
            suggested=close or None,
        )
    if kind == "missing":
        field = str(error["loc"][-1])
        return _Translated(
            source.locate(target.container_path),
            _prefixed(target.container_path, f"missing required field {field!r} in {label}"),
            target.container_path,
            target.path,
            missing=field,
        )
    at = source.locate(target.path, key=target.key)
    if kind == "union_tag_invalid":
        tag = str(ctx.get("tag", ""))
        if (*target.path, "type") in source:
            at = source.locate((*target.path, "type"), key=True)
        message = f"unknown step type {tag!r}{did_you_mean(tag, STEP_TYPES)}"
        if not did_you_mean(tag, STEP_TYPES):
            message += "; expected one of: " + ", ".join(STEP_TYPES)
    elif kind == "union_tag_not_found":
        message = "missing required field 'type' in a step; expected one of: " + ", ".join(
            STEP_TYPES
        )
    elif kind in ("model_attributes_type", "model_type", "dict_type"):
        if _is_step_union(target.annotation):
            message = f"expected a step ({_STEP_HINT}), got {given}"
        else:
            message = f"expected a mapping for {_name(target.path)!r}, got {given}"
    elif kind == "while_item":
        message = f"expected a step id or an inline step ({_STEP_HINT}), got {given}"
    elif kind == "list_type":
        message = f"expected a list for {_name(target.path)!r}, got {given}"
    elif kind == "string_type":
        message = f"expected text for {_name(target.path)!r}, got {given}"
    elif kind in ("int_type", "int_parsing", "int_from_float"):
        message = f"expected a whole number for {_name(target.path)!r}, got {given}"
    elif kind in ("float_type", "float_parsing", "finite_number"):
        message = f"expected a number for {_name(target.path)!r}, got {given}"
    elif kind in ("bool_type", "bool_parsing"):
        message = f"expected true or false for {_name(target.path)!r}, got {given}"
    elif kind == "literal_error":
        options = _expected_values(str(ctx.get("expected", "")))
        field = str(error["loc"][-1])
        noun = _LITERAL_NOUNS.get(field, f"value for {field!r}")
        value = str(error.get("input"))
        message = f"unknown {noun} {given}{did_you_mean(value, options)}"
        message += "; expected one of: " + ", ".join(options)
    elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        relation = {
            "greater_than": "greater than",
            "greater_than_equal": "at least",
            "less_than": "less than",
            "less_than_equal": "at most",
        }[kind]
        bound = next(iter(ctx.values()), "?")
        if isinstance(bound, float) and bound.is_integer():
            bound = int(bound)
        message = f"{_name(target.path)!r} must be {relation} {bound}, got {given}"
    elif kind in ("too_short", "string_too_short"):
        message = _too_short(target)
    elif kind == "string_pattern_mismatch":
        hint = _PATTERN_HINTS.get(str(ctx.get("pattern")), f"it must match {ctx.get('pattern')}")
        what = "name" if target.key else f"value for {_name(target.path)!r}"
        message = f"invalid {what} {given}: {hint}"
    elif kind in ("value_error", "assertion_error"):
        message = str(ctx.get("error", error["msg"]))
    else:
        message = f"{error['msg']} (got {given})"
    return _Translated(
        at, _prefixed(target.path, message), target.container_path, target.path, bad_key=target.key
    )


def _too_short(target: _Target) -> str:
    name = str(target.path[-1]) if target.path else ""
    if name == "cases":
        return "a branch step needs at least one case"
    if name == "steps":
        return "a flow needs at least one step"
    if name == "do":
        return "a while loop needs at least one step in 'do'"
    if name == "options":
        return "a choose step needs at least one option"
    if name == "slots" and target.container is not None and target.container is not FlowDef:
        return "a set step needs at least one slot to set"
    return f"{_name(target.path)!r} must not be empty"


def translate(exc: ValidationError, data: Any, source: SourceMap) -> list[ConfigError]:
    """One ``ConfigError`` per problem pydantic found, located in the source files.

    Follow-on errors are dropped: a "missing 'message'" next to an unknown key that
    suggests ``message`` is one typo, and nothing more is said about an element
    whose name (its key) is already invalid.
    """
    translated = _one_per_message([_translate_one(error, data, source) for error in exc.errors()])
    typos = {(t.container_path, t.suggested) for t in translated if t.suggested}
    bad_keys = [t.path for t in translated if t.bad_key]
    return [
        t.location.error(t.message)
        for t in translated
        if (t.missing is None or (t.container_path, t.missing) not in typos)
        and not (not t.bad_key and any(t.path[: len(bad)] == bad and bad for bad in bad_keys))
    ]


def _one_per_message(translated: list[_Translated]) -> list[_Translated]:
    """A message may be text or a list of variants: given neither, it is one error
    ("expected text or a list of texts"), not one per form it could have taken; given a
    list that is wrong as a list (empty), only that is said."""
    texts = {t.path for t in translated if "expected text for " in t.message}
    lists = {t.path for t in translated if "expected a list for " in t.message}
    forms = ("expected text for ", "expected a list for ")
    listed = {  # a list was given: what is wrong with it, or with an item, is said
        p
        for p in texts
        for t in translated
        if (t.path == p and not any(f in t.message for f in forms))
        or (len(t.path) > len(p) and t.path[: len(p)] == p)
    }
    kept: list[_Translated] = []
    for t in translated:
        if t.path in texts & lists and "expected a list for " in t.message:
            continue
        if t.path in listed and "expected text for " in t.message:
            continue  # it is a list: what is wrong with it as a list is said instead
        if t.path in texts & lists:
            t = replace(
                t,
                message=t.message.replace(
                    "expected text for", "expected text or a list of texts for"
                ),
            )
        kept.append(t)
    return kept
