"""soni 1.0 bots: their spellings rewritten to today's, before the models see them.

Bots written for soni 1.0 (the ``jmorenobl/soni`` examples and DSL guide) load
unchanged. Both kinds say ``version: "1.0"``, so a file is told apart by its
spellings: :func:`soni1_spelling` finds the first one (a dry run of the rewrite),
and only a file that has one is rewritten (:func:`rewrite_file`), in place, right
after it is parsed. A file in today's format is never changed and its errors speak
today's format. The locations of whatever moved are recorded under the new data
path too, so an error in a rewritten element still points at the line and column
where it was written. Only spellings soni 1.0 used are rewritten; anything else
unknown is still an error.

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
* after the files are merged (:func:`turn_outputs_around`): ``map_outputs`` written
  ``{slot: output}`` (the 1.0 DSL guide's direction) is turned around when only its
  values are declared outputs — in today's format that is an error, so no bot
  written in it changes.

An action step without ``map_outputs`` storing each declared output in the slot of
the same name is part of today's format (see ``soni.dsl.loader``), not a rewrite.
"""

from __future__ import annotations

import re
from typing import Any

from soni.dsl.source import DataPath, Location, format_path
from soni.dsl.steps import END, each_action_step
from soni.dsl.yaml_reader import ParsedFile

__all__ = ("rewrite_file", "soni1_spelling", "turn_outputs_around")

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

_DOUBLE_BRACE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")

_Entry = tuple[DataPath, Location | None, Location]


class _Found(Exception):
    """A dry run met a soni 1.0 spelling."""

    def __init__(self, spelling: str) -> None:
        super().__init__(spelling)
        self.spelling = spelling


class _Rewriter:
    """Rewrites one file's data; records moved paths and the errors found.

    With ``dry=True`` nothing is changed: the first rewrite it would make raises
    :class:`_Found` naming the spelling.
    """

    def __init__(self, parsed: ParsedFile, *, dry: bool = False) -> None:
        self.parsed = parsed
        self.dry = dry
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

    def changing(self, spelling: str) -> None:
        """About to rewrite ``spelling``: in a dry run, stop and say so."""
        if self.dry:
            raise _Found(spelling)

    def drop(self, mapping: dict[str, Any], keys: frozenset[str]) -> None:
        for key in sorted(keys & mapping.keys()):
            self.changing(key)
            del mapping[key]

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
        self.changing(old)
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
                    self.drop(action, _ACTION_DROPPED)
        flows = data.get("flows")
        if isinstance(flows, dict):
            for name, flow in flows.items():
                if isinstance(flow, dict):
                    self.flow(flow, ("flows", name))

    def persistence(self, value: Any, path: DataPath) -> None:
        if not isinstance(value, dict):
            return
        self.drop(value, _PERSISTENCE_DROPPED)
        if value.get("backend") == "postgresql":
            self.changing("backend: postgresql")
            value["backend"] = "postgres"
        if value.get("backend") == "postgres" and "url" not in value:
            # soni 1.0 kept the connection string in 'path'.
            self.rename(value, path, "path", "url")

    def slot(self, slot: Any, path: DataPath) -> None:
        if not isinstance(slot, dict):
            return
        self.rename(slot, path, "ask", "prompt")
        self.drop(slot, _SLOT_DROPPED)
        kind = slot.get("type")
        if isinstance(kind, str) and kind in _FREE_TEXT_TYPES:
            self.changing(f"type: {kind}")
            slot["type"] = "string"

    def flow(self, flow: dict[str, Any], path: DataPath) -> None:
        self.rename(flow, path, "process", "steps")
        self.drop(flow, _FLOW_DROPPED)
        if "trigger" in flow and flow["trigger"] is None:
            self.changing("trigger: null")
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
        self.changing(f"- {name}: {{...}}")
        where = self.at((*path, name))
        self.move((*path, name), path)
        self.add((*path, "name"), where)
        return {"name": name, **(fields or {})}

    def trigger_slots(self, flow: dict[str, Any], path: DataPath) -> None:
        trigger = flow.get("trigger")
        if not isinstance(trigger, dict) or "slots" not in trigger:
            return
        self.changing("trigger.slots")
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
        self.drop(step, _STEP_DROPPED | _STEP_TYPE_DROPPED.get(str(kind), frozenset()))
        if self.rename(step, path, "jump_to", "next") and _is_end(step["next"]):
            step["next"] = END
        if kind == "collect":
            if "message" in step:
                if "prompt" in step:
                    self.changing("prompt")
                    del step["prompt"]  # soni 1.0 ignored it next to 'message'
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
                    if isinstance(value, str) and _DOUBLE_BRACE.search(value):
                        self.changing("{{slot}}")
                        values[name] = _DOUBLE_BRACE.sub(r"{\1}", value)
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
            self.changing(target)
            return END
        if target == "continue":
            self.changing(target)
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
            if named in ids or _is_end(named) or named == END:
                self.changing(target)
                return named if named in ids else END
        return target


def soni1_spelling(parsed: ParsedFile) -> str | None:
    """The first soni 1.0 spelling in a parsed file, or ``None`` (today's format)."""
    if not parsed.parsed or not isinstance(parsed.data, dict):
        return None
    try:
        _Rewriter(parsed, dry=True).run(parsed.data)
    except _Found as found:
        return found.spelling
    return None


def rewrite_file(parsed: ParsedFile) -> None:
    """Rewrite the soni 1.0 spellings in one parsed file, in place."""
    if not parsed.parsed or not isinstance(parsed.data, dict):
        return
    _Rewriter(parsed).run(parsed.data)


def turn_outputs_around(data: dict[str, Any]) -> None:
    """``map_outputs`` written ``{slot: output}`` (soni 1.0's DSL guide), turned around
    when every value is a declared output of the action and no key is.

    The action declarations may be in another file, hence after the merge. Today's
    format maps outputs to slots, so this never changes a bot written in it.
    """

    def visit(step: dict[str, Any], declared: list[str]) -> None:
        mapping = step.get("map_outputs")
        if (
            isinstance(mapping, dict)
            and mapping
            and all(isinstance(v, str) and v in declared for v in mapping.values())
            and not any(k in declared for k in mapping)
        ):
            step["map_outputs"] = {output: slot for slot, output in mapping.items()}

    each_action_step(data, visit)


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
