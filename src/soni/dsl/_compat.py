"""soni 1.0 bots: their spellings rewritten to today's, before the models see them.

Bots written for soni 1.0 (the ``jmorenobl/soni`` examples and DSL guide) load
unchanged. Each file's data is rewritten in place right after it is parsed, and the
locations of whatever moved are recorded under the new data path too, so an error
in a rewritten element still points at the line and column where it was written.
Only spellings soni 1.0 used are rewritten; anything else unknown is still an error
(with a did-you-mean that knows the 1.0 names, see :data:`ALIASES`).

What is rewritten (the same table is in ``docs/bot-format.md``):

* flows: ``process`` → ``steps``; ``intent`` (ignored by 1.0) is dropped;
  ``trigger.slots`` entries become flow ``slots``; a flow ``slots`` entry written
  ``- name: {type: ..., ask: ...}`` becomes ``{name: name, ...}``.
* slots: ``ask`` → ``prompt``; ``normalization`` (no effect here) is dropped;
  the free-text types ``address`` and ``city`` are ``string``.
* actions: ``handler`` (deprecated and ignored by 1.0) is dropped.
* steps: ``jump_to`` → ``next``; ``__end__`` / ``__end_flow__`` → ``end``; a
  branch's ``input`` → ``slot``; branch case targets ``continue`` → the step below
  and ``jump_to_<id>`` → ``<id>``; a collect step's ``prompt`` → ``message``;
  ``rephrase`` and a confirm step's ``max_retries`` (no effect here) are dropped;
  ``set`` values with ``{{slot}}`` become single-brace templates.
* settings: ``persistence.backend: postgresql`` → ``postgres`` (its ``path``, the
  connection string, → ``url``); ``persistence.cleanup_interval`` is dropped.
* after the files are merged: ``map_outputs`` written ``{slot: output}`` (the 1.0 DSL
  guide's direction) is turned around when only its values are declared outputs;
  and (unless ``implicit_slots=False``) an ``action`` step without ``map_outputs``
  whose action is declared with ``outputs`` stores each output in the slot of the
  same name (1.0 merged the outputs into the slots).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from soni.dsl.source import DataPath, Location, format_path
from soni.dsl.steps import END, SLOT_NAME_PATTERN
from soni.dsl.yaml_reader import ParsedFile

__all__ = ("ALIASES", "normalise_file", "normalise_merged")

ALIASES: dict[str, dict[str, str]] = {
    "flow": {"process": "steps"},
    "slot": {"ask": "prompt"},
    "step": {"jump_to": "next"},
    "branch": {"input": "slot"},
    "collect": {"prompt": "message"},
}
"""soni 1.0 key → today's key, by where it is written (``step``: any step)."""

_END_NAMES = frozenset({"__end__", "__end_flow__"})
"""soni 1.0's names of the jump target that ends the flow."""

# Keys soni 1.0 accepted that have no effect in this version, by where they are written.
_FLOW_DROPPED = frozenset({"intent"})
_SLOT_DROPPED = frozenset({"normalization"})
_ACTION_DROPPED = frozenset({"handler"})
_PERSISTENCE_DROPPED = frozenset({"cleanup_interval"})
_STEP_DROPPED = frozenset({"rephrase"})
_STEP_TYPE_DROPPED = {"confirm": frozenset({"max_retries"})}

_FREE_TEXT_TYPES = frozenset({"address", "city"})
"""Slot types of soni 1.0 examples that were only hints to its language model."""

_SLOT_NAME = re.compile(SLOT_NAME_PATTERN)
_DOUBLE_BRACE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")

_Entry = tuple[DataPath, Location | None, Location]


class _Rewriter:
    """Rewrites one file's data; records moved paths and the errors found."""

    def __init__(self, parsed: ParsedFile) -> None:
        self.parsed = parsed
        self._where: dict[DataPath, tuple[Location | None, Location]] = {}
        # Every entry under each path (the path's own included), so a move copies
        # only what it moves.
        self._below: dict[DataPath, list[_Entry]] = {}
        for entry in parsed.locations:
            self._index(entry)

    def _index(self, entry: _Entry) -> None:
        path, key, value = entry
        self._where.setdefault(path, (key, value))
        for end in range(len(path) + 1):
            self._below.setdefault(path[:end], []).append(entry)

    # -- bookkeeping --------------------------------------------------------------

    def at(self, path: DataPath, *, key: bool = True) -> Location:
        """Where ``path`` was written: its key (``jump_to:``), or its value."""
        found_key, value = self._where.get(path, (None, Location(self.parsed.path)))
        return (found_key or value) if key else value

    def error(self, path: DataPath, message: str, *, key: bool = True) -> None:
        self.parsed.errors.append(self.at(path, key=key).error(message))

    def move(self, old: DataPath, new: DataPath) -> None:
        """Locate what was written at ``old`` (and below it) at ``new`` as well."""
        size = len(old)
        moved = [
            ((*new, *path[size:]), key, value) for path, key, value in self._below.get(old, [])
        ]
        self.parsed.locations.extend(moved)
        for entry in moved:
            self._index(entry)

    def add(self, path: DataPath, where: Location) -> None:
        entry = (path, where, where)
        self.parsed.locations.append(entry)
        self._index(entry)

    def rename(self, mapping: dict[str, Any], path: DataPath, old: str, new: str) -> bool:
        """Move ``mapping[old]`` to ``mapping[new]``; an error if both are written."""
        if old not in mapping:
            return False
        if new in mapping:
            self.error(
                (*path, old),
                f"{format_path((*path, old))}: {old!r} is the soni 1.0 name of {new!r}; "
                "write only one",
            )
            del mapping[old]  # reported here; not again as an unknown key
            return False
        mapping[new] = mapping.pop(old)
        self.move((*path, old), (*path, new))
        return True

    # -- sections -----------------------------------------------------------------

    def run(self, data: dict[str, Any]) -> None:
        settings = data.get("settings")
        if isinstance(settings, dict):
            self.persistence(settings.get("persistence"), ("settings", "persistence"))
        slots = data.get("slots")
        if isinstance(slots, dict):
            for name, slot in slots.items():
                self.slot(slot, ("slots", name))
        actions = data.get("actions")
        if isinstance(actions, dict):
            for action in actions.values():
                if isinstance(action, dict):
                    _drop(action, _ACTION_DROPPED)
        flows = data.get("flows")
        if isinstance(flows, dict):
            for name, flow in flows.items():
                if isinstance(flow, dict):
                    self.flow(flow, ("flows", name))

    def persistence(self, value: Any, path: DataPath) -> None:
        if not isinstance(value, dict):
            return
        _drop(value, _PERSISTENCE_DROPPED)
        if value.get("backend") == "postgresql":
            value["backend"] = "postgres"
        if value.get("backend") == "postgres" and "url" not in value:
            # soni 1.0 kept the connection string in 'path'.
            self.rename(value, path, "path", "url")

    def slot(self, slot: Any, path: DataPath) -> None:
        if not isinstance(slot, dict):
            return
        self.rename(slot, path, "ask", "prompt")
        _drop(slot, _SLOT_DROPPED)
        kind = slot.get("type")
        if isinstance(kind, str) and kind in _FREE_TEXT_TYPES:
            slot["type"] = "string"

    def flow(self, flow: dict[str, Any], path: DataPath) -> None:
        self.rename(flow, path, "process", "steps")
        _drop(flow, _FLOW_DROPPED)
        if "trigger" in flow and flow["trigger"] is None:
            del flow["trigger"]
        slots = flow.get("slots")
        if isinstance(slots, list):
            for index, entry in enumerate(slots):
                slots[index] = self.named_slot(entry, (*path, "slots", index))
        self.trigger_slots(flow, path)
        if isinstance(flow.get("slots"), list):
            for index, entry in enumerate(flow["slots"]):
                self.slot(entry, (*path, "slots", index))
        steps = flow.get("steps")
        if isinstance(steps, list):
            self.steps(steps, (*path, "steps"))

    def named_slot(self, entry: Any, path: DataPath) -> Any:
        """``{amount: {type: float}}`` (no ``name`` key) → ``{name: amount, type: float}``."""
        if not isinstance(entry, dict) or "name" in entry or len(entry) != 1:
            return entry
        ((name, fields),) = entry.items()
        if fields is not None and not isinstance(fields, dict):
            return entry
        where = self.at((*path, name))
        self.move((*path, name), path)
        self.add((*path, "name"), where)
        return {"name": name, **(fields or {})}

    def trigger_slots(self, flow: dict[str, Any], path: DataPath) -> None:
        trigger = flow.get("trigger")
        if not isinstance(trigger, dict) or "slots" not in trigger:
            return
        extra = trigger.pop("slots")
        if not isinstance(extra, list):
            extra = [] if extra is None else [extra]
        if flow.get("slots") is None:
            flow["slots"] = []
        slots = flow["slots"]
        if not isinstance(slots, list):
            return
        names = {_name_of(s) for s in slots}
        for index, entry in enumerate(extra):
            entry = self.named_slot(entry, (*path, "trigger", "slots", index))
            name = _name_of(entry)
            if name is not None and name in names:
                continue  # the flow declares it already
            names.add(name)
            self.move((*path, "trigger", "slots", index), (*path, "slots", len(slots)))
            slots.append(entry)

    # -- steps --------------------------------------------------------------------

    def steps(self, steps: list[Any], path: DataPath) -> None:
        ids = _all_ids(steps)
        for index, step in enumerate(steps):
            if isinstance(step, dict):
                following = _step_id(steps[index + 1]) if index + 1 < len(steps) else END
                self.step(step, (*path, index), ids, following, in_loop=False)

    def step(
        self,
        step: dict[str, Any],
        path: DataPath,
        ids: set[Any],
        following: Any,
        *,
        in_loop: bool,
    ) -> None:
        kind = step.get("type")
        _drop(step, _STEP_DROPPED | _STEP_TYPE_DROPPED.get(str(kind), frozenset()))
        if self.rename(step, path, "jump_to", "next") and _is_end(step["next"]):
            step["next"] = END
        if kind == "collect":
            if "message" in step:
                step.pop("prompt", None)  # soni 1.0 ignored it next to 'message'
            else:
                self.rename(step, path, "prompt", "message")
        elif kind == "branch":
            self.rename(step, path, "input", "slot")
            cases = step.get("cases")
            if isinstance(cases, dict):
                for pattern, target in cases.items():
                    cases[pattern] = self.case_target(
                        target, (*path, "cases", pattern), ids, following, in_loop=in_loop
                    )
        elif kind == "set":
            values = step.get("slots")
            if isinstance(values, dict):
                for name, value in values.items():
                    values[name] = _template_value(value)
        elif kind == "while":
            body = step.get("do")
            if isinstance(body, list):
                for index, item in enumerate(body):
                    if isinstance(item, dict):
                        after = _step_id(body[index + 1]) if index + 1 < len(body) else None
                        self.step(item, (*path, "do", index), ids, after, in_loop=True)

    def case_target(
        self, target: Any, path: DataPath, ids: set[Any], following: Any, *, in_loop: bool
    ) -> Any:
        if not isinstance(target, str) or target in ids:
            return target
        if _is_end(target):
            return END
        if target == "continue":
            if following is not None:
                return following
            if in_loop:
                self.error(
                    path,
                    f"{format_path(path)}: 'continue' (soni 1.0: go on to the step below) "
                    "cannot be used in the last step of a loop body; name the step to go to",
                    key=False,
                )
            return target
        if target.startswith("jump_to_"):
            named = target[len("jump_to_") :]
            if named in ids:
                return named
            if _is_end(named) or named == END:
                return END
        return target


def normalise_file(parsed: ParsedFile) -> None:
    """Rewrite the soni 1.0 spellings in one parsed file, in place."""
    if not parsed.parsed or not isinstance(parsed.data, dict):
        return
    _Rewriter(parsed).run(parsed.data)


def normalise_merged(data: dict[str, Any], *, implicit_slots: bool = True) -> None:
    """The rewrites that need the action declarations, which may be in another file.

    * ``map_outputs`` written ``{slot: output}`` (soni 1.0's DSL guide) is turned
      around when every value is a declared output of the action and no key is.
    * A step without ``map_outputs`` stores each declared output in the slot of the
      same name -- unless ``implicit_slots=False``: then assigning must not declare,
      and the engine already stores the result keys that are declared slots.
    """
    actions = data.get("actions")
    flows = data.get("flows")
    if not isinstance(actions, dict) or not isinstance(flows, dict):
        return
    outputs: dict[str, list[str]] = {}
    for name, action in actions.items():
        declared = action.get("outputs") if isinstance(action, dict) else None
        if isinstance(declared, list):
            outputs[name] = [o for o in declared if isinstance(o, str)]

    def visit(step: dict[str, Any]) -> None:
        call = step.get("call")
        declared = outputs.get(call) if isinstance(call, str) else None
        if step.get("type") != "action" or not declared:
            return
        mapping = step.get("map_outputs")
        if mapping is None and implicit_slots:
            step["map_outputs"] = {o: o for o in declared if _SLOT_NAME.fullmatch(o)}
        elif (
            isinstance(mapping, dict)
            and mapping
            and all(isinstance(v, str) and v in declared for v in mapping.values())
            and not any(k in declared for k in mapping)
        ):
            step["map_outputs"] = {output: slot for slot, output in mapping.items()}

    for flow in flows.values():
        if isinstance(flow, dict) and isinstance(flow.get("steps"), list):
            _each_step(flow["steps"], visit)


def _each_step(steps: list[Any], visit: Callable[[dict[str, Any]], None]) -> None:
    for step in steps:
        if isinstance(step, dict):
            visit(step)
            if step.get("type") == "while" and isinstance(step.get("do"), list):
                _each_step(step["do"], visit)


def _drop(mapping: dict[str, Any], keys: frozenset[str]) -> None:
    for key in keys & mapping.keys():
        del mapping[key]


def _step_id(item: Any) -> Any:
    """A step's id as the models will read it (``step: 1`` is ``"1"``), or ``None``."""
    if isinstance(item, dict):
        item = item.get("step")
    if isinstance(item, int | float) and not isinstance(item, bool):
        return str(item)
    return item if isinstance(item, str) else None


def _is_end(target: Any) -> bool:
    return isinstance(target, str) and target in _END_NAMES


def _name_of(slot: Any) -> str | None:
    name = slot.get("name") if isinstance(slot, dict) else None
    return name if isinstance(name, str) else None


def _all_ids(steps: list[Any]) -> set[Any]:
    """The ids of a flow's steps, inline loop steps included."""
    ids: set[Any] = set()
    for step in steps:
        if isinstance(step, dict):
            ids.add(_step_id(step))
            if step.get("type") == "while" and isinstance(step.get("do"), list):
                ids |= _all_ids(step["do"])
    return ids


def _template_value(value: Any) -> Any:
    """A soni 1.0 ``set`` template: ``"Hi {{name}}"`` is today's ``"Hi {name}"``.

    soni 1.0 turned ``{{`` / ``}}`` into single braces and filled every ``{slot}``.
    Today a ``set`` text that is not an expression is rendered as a template the
    same way, and ``"{name}"`` alone copies the slot's value.
    """
    if not isinstance(value, str) or not _DOUBLE_BRACE.search(value):
        return value
    return _DOUBLE_BRACE.sub(r"{\1}", value)
