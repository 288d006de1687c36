"""Flows compiled to programs: steps with every jump resolved to an index.

The engine never looks a step up by id at run time. Each flow becomes a list of
``Instruction``s; fall-through, explicit ``next``, branch cases, confirmation
outcomes and loop bodies are all resolved here, once, to positions in that list.
Loop bodies get their own copies of the steps they name, so a step reached inside a
``while`` returns to the loop, and the same step reached in sequence falls through.
A loop without ``exit_to`` leaves to the first step below it that its body does not
name (as in soni 1.0): the body steps written right after the loop are not run once
more on the way out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ("END", "Instruction", "Program", "compile_flow")

END = -1
"""The position that ends the flow."""


@dataclass(frozen=True, slots=True)
class Instruction:
    """One step, ready to run.

    Attributes:
        id: The step id (loop-body copies are ``<while id>.do[<i>]:<step id>``).
        kind: The step type.
        step: The step's definition from the bot file.
        next: Where the flow goes after this step.
        targets: Named jumps resolved to positions (``on_error``, ``on_skip``,
            ``on_confirm``, ``on_deny``, ``exit_to``, ``body`` for a loop's first
            body step, and ``case:<pattern>`` for branch cases).
    """

    id: str
    kind: str
    step: Any
    next: int
    targets: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Program:
    """A compiled flow."""

    flow: str
    instructions: tuple[Instruction, ...]
    positions: Mapping[str, int]

    def at(self, position: int) -> Instruction | None:
        if 0 <= position < len(self.instructions):
            return self.instructions[position]
        return None


_JUMP_FIELDS = (
    "on_error", "on_unknown", "on_skip", "on_empty", "on_confirm", "on_deny", "exit_to"
)  # fmt: skip


def _after_loop(steps: Sequence[Any], index: int) -> int:
    """Where the loop at ``index`` goes when done: below it, past the steps it names."""
    named = {item for item in steps[index].do if isinstance(item, str)}
    for position in range(index + 1, len(steps)):
        if steps[position].step not in named:
            return position
    return END


def _jump(value: str | None, positions: Mapping[str, int]) -> int | None:
    if value is None:
        return None
    if value == "end":
        return END
    return positions[value]


def compile_flow(name: str, steps: Sequence[Any]) -> Program:
    """Compile a flow's validated steps.

    The steps are the ``soni.dsl`` step models; every jump target is assumed to
    exist (the loader's validation guarantees it).
    """
    # Main sequence first: its positions are the step ids'.
    positions: dict[str, int] = {step.step: i for i, step in enumerate(steps)}
    by_id = {step.step: step for step in steps}
    slots: list[tuple[str, str, Any, int | None]] = []  # (id, kind, step, fixed next)
    for i, step in enumerate(steps):
        slots.append((step.step, step.type, step, None if i + 1 < len(steps) else END))

    # Loop bodies: a copy of each body step, chained, the last returning to the loop.
    # A loop inside a body is itself a copy and gets its own body, so nesting works.
    bodies: dict[str, int] = {}
    pending = [(step.step, step, positions[step.step]) for step in steps if step.type == "while"]
    while pending:
        loop_id, loop, loop_pos = pending.pop(0)
        first = len(slots)
        items = list(loop.do)
        for j, item in enumerate(items):
            body_step = by_id[item] if isinstance(item, str) else item
            copy_id = f"{loop_id}.do[{j}]:{body_step.step}"
            after = first + j + 1 if j + 1 < len(items) else loop_pos
            slots.append((copy_id, body_step.type, body_step, after))
            if not isinstance(item, str):
                positions.setdefault(body_step.step, first + j)
                by_id.setdefault(body_step.step, body_step)
            if body_step.type == "while":
                pending.append((copy_id, body_step, first + j))
        bodies[loop_id] = first

    instructions: list[Instruction] = []
    for i, (sid, kind, step, fixed) in enumerate(slots):
        explicit = getattr(step, "next", None)
        if explicit is not None:
            nxt = _jump(explicit, positions)
        elif fixed is not None:
            nxt = fixed
        elif kind == "while" and i < len(steps):
            nxt = _after_loop(steps, i)
        else:
            nxt = i + 1
        targets: dict[str, int] = {}
        for field_name in _JUMP_FIELDS:
            target = _jump(getattr(step, field_name, None), positions)
            if target is not None:
                targets[field_name] = target
        if kind == "branch":
            for pattern, target_id in step.cases.items():
                resolved = _jump(target_id, positions)
                assert resolved is not None
                targets[f"case:{pattern}"] = resolved
        if kind == "while" and sid in bodies:
            targets["body"] = bodies[sid]
        instructions.append(Instruction(sid, kind, step, END if nxt is None else nxt, targets))
    return Program(name, tuple(instructions), dict(positions))
