"""Warnings about a bot that loads: steps no conversation reaches, dead code in flows.

A bot with warnings runs; each warning points at something its author most likely
did not mean. They are computed on the compiled programs (:mod:`soni.dsl.program`),
so "reachable" means exactly what the engine will do:

* A flow starts at its first step. From each step the walk follows the moves the
  engine can make there: the step below or ``next`` for ``say``, ``collect``,
  ``set`` and ``call``; a ``branch``'s case targets, plus the step below when it
  has no ``default`` case; a ``while`` loop's body and its exit (``exit_to``, else
  the step below the loop); a ``confirm`` step's ``on_confirm`` (else the step
  below) and ``on_deny``; an ``action``'s step below, ``on_error`` and
  ``on_unknown``, and its ``on_skip`` when the call asks for a confirmation; a
  ``choose``'s step below, ``on_skip``, ``on_error`` and ``on_unknown``. ``end``
  and ``link`` steps go nowhere in the flow.
* A correction walks a flow back to where it first collects the corrected slot
  (:meth:`soni.engine.core.Engine.collect_position`): that step is reachable as soon
  as any reachable step comes after it.
* Conditions are never evaluated, so a loop or a case that can never hold in practice
  still counts. Only a case that an earlier case shadows is known to be dead: a
  pattern repeated (``==x`` after ``x``), or an ordering inside an earlier one
  (``>100`` below ``>10``).

A step, inline loop steps included, is unreachable when no reachable position of
its flow runs it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from soni.dsl.errors import PatternError
from soni.dsl.models import BotConfig, FlowDef, SlotDef
from soni.dsl.patterns import Pattern, compile_pattern
from soni.dsl.program import END, Instruction, Program, compile_flow
from soni.dsl.responses import variants
from soni.dsl.source import DataPath, SourceMap, format_path
from soni.dsl.steps import ActionStep, BranchStep, ConfirmStep, Step, WhileStep
from soni.dsl.templates import compile_template
from soni.errors import format_location

__all__ = ("ConfigWarning", "lint", "step_paths")


@dataclass(frozen=True, slots=True)
class ConfigWarning:
    """Something in a bot that works, but most likely not as meant.

    ``str()`` is ``path:line:col: warning: message``, as compilers print warnings.

    Attributes:
        path: The file.
        line: 1-based line, or ``None``.
        column: 1-based column, or ``None``.
        message: What is wrong, starting with the element it concerns.
    """

    path: str
    line: int | None
    column: int | None
    message: str

    @property
    def location(self) -> str:
        """``path:line:col``, ``path:line`` or ``path``, as far as known."""
        return format_location(self.path, self.line, self.column)

    def __str__(self) -> str:
        return f"{self.location}: warning: {self.message}"


def lint(config: BotConfig) -> list[ConfigWarning]:
    """The warnings of a bot that validated, ordered by file, line and column.

    Args:
        config: A loaded bot (see :func:`soni.dsl.load_bot`); its ``source_map``
            locates the warnings.

    Returns:
        Unreachable steps, case patterns that never match, and jumps that are never
        taken; empty for a bot without any.
    """
    source = config.source_map or SourceMap("<bot>")
    warnings: list[ConfigWarning] = []
    for name, flow in config.flows.items():
        warnings.extend(_FlowLint(config, name, flow, source).run())
    return sorted(warnings, key=lambda w: (w.path, w.line or 0, w.column or 0))


_ORDERINGS = (">", ">=", "<", "<=")


def _covers(earlier: Pattern, later: Pattern) -> bool:
    """Whether every value ``later`` matches is matched by ``earlier``, tried first."""
    if earlier.operator in _ORDERINGS and later.operator in _ORDERINGS:
        x, y = earlier.operand, later.operand
        assert isinstance(x, int | float) and isinstance(y, int | float)
        if earlier.operator[0] != later.operator[0]:
            return False  # one bounded below, the other above
        if earlier.operator[0] == ">":
            return y > x if (earlier.operator, later.operator) == (">", ">=") else y >= x
        return y < x if (earlier.operator, later.operator) == ("<", "<=") else y <= x
    if earlier.operator != later.operator:
        return False
    if earlier.operator == "bool":
        return earlier.operand is later.operand
    # ==x and !=x: the same text (ignoring case) matches exactly the same values.
    return str(earlier.operand).casefold() == str(later.operand).casefold()


def dead_cases(step: BranchStep) -> dict[str, str]:
    """The cases of a branch that never match, each with the case that takes its values.

    A ``default`` case is tried after all others, and of several the last one
    written is used (as the engine does).
    """
    dead: dict[str, str] = {}
    earlier: list[Pattern] = []
    defaults: list[str] = []
    for text in step.cases:
        try:
            pattern = compile_pattern(text)
        except PatternError:
            continue  # reported by validation
        if pattern.is_default:
            defaults.append(text)
            continue
        cover = next((e for e in earlier if _covers(e, pattern)), None)
        if cover is not None:
            dead[text] = cover.source
        else:
            earlier.append(pattern)
    for text in defaults[:-1]:
        dead[text] = defaults[-1]
    return dead


class _FlowLint:
    def __init__(self, config: BotConfig, name: str, flow: FlowDef, source: SourceMap) -> None:
        self.config = config
        self.name = name
        self.flow = flow
        self.source = source
        self.paths = dict(step_paths(flow.steps, ("flows", name, "steps")))
        by_id = {step.step: step for step in flow.iter_steps()}
        self.steps_at = {path: by_id[step_id] for step_id, path in self.paths.items()}
        self.dead = {
            step.step: dead_cases(step)
            for step in flow.iter_steps()
            if isinstance(step, BranchStep)
        }
        self.warnings: list[ConfigWarning] = []

    def warn(self, path: DataPath, message: str, *, key: bool = False) -> None:
        where = self.source.locate(path, key=key)
        text = f"{format_path(path)}: {message}"
        self.warnings.append(ConfigWarning(where.path, where.line, where.column, text))

    def run(self) -> list[ConfigWarning]:
        for step in self.flow.iter_steps():
            self.ineffective(step)
        program = compile_flow(self.name, self.flow.steps)
        reached = {program.instructions[p].step.step for p in self.reach(program)}
        for step in self.flow.iter_steps():
            if step.step not in reached:
                self.warn(
                    self.paths[step.step],
                    f"step {step.step!r} is never reached: {self.why(step, reached)}",
                )
        self.unset_reads(program)
        return self.warnings

    # -- slots a message may render unset ----------------------------------------------

    def unset_reads(self, program: Program) -> None:
        """Messages that name a slot the flow sets, at a step some way to which does
        not set it first: the message would say nothing where the value should be
        ("14:30, 15:00 or ."). Only slots this flow itself sets are judged (another
        flow may have set the others), and one with a default is always set."""
        own = self.written(program)
        self.unfilled_lists(program, own)
        defaults = {name for name, slot in self.config.slots.items() if slot.default is not None}
        defaults |= {slot.name for slot in self.flow.slots if slot.default is not None}
        judged = own - defaults
        if not judged:
            return
        set_before = self.must_set(program, judged)
        for position, inst in enumerate(program.instructions):
            known = set_before.get(position)
            if known is None:
                continue  # never reached: warned about already
            for path, text, extra in self.messages(inst):
                # The bot validated: every message compiles.
                unset = compile_template(text).names & (judged - known - extra)
                for name in sorted(unset, key=text.find):
                    self.warn(
                        path,
                        f"{{{name}}} may be unset here, or hold a value from before: some "
                        f"way to step {inst.step.step!r} does not set {name!r} first",
                    )

    def unfilled_lists(self, program: Program, own: frozenset[str]) -> None:
        """A choice from data whose list no step of the flow fills: most likely a
        look-up whose output goes to another slot (``outputs: [free]`` for
        ``options_from: free_slots``)."""
        for inst in program.instructions:
            listed = getattr(inst.step, "options_from", None) if inst.kind == "choose" else None
            if listed is not None and listed not in own:
                self.warn(
                    (*self.paths[inst.step.step], "options_from"),
                    f"no step of this flow sets {listed!r}, the list this choice offers "
                    "(an action's outputs or map_outputs would)",
                )

    def written(self, program: Program) -> frozenset[str]:
        """Every slot a step of the flow sets."""
        names: set[str] = set()
        for inst in program.instructions:
            for _, gen in self.edges(inst, frozenset()):
                names |= gen
        return frozenset(names)

    def must_set(self, program: Program, judged: frozenset[str]) -> dict[int, frozenset[str]]:
        """For each reachable position, the judged slots set on every way to it."""
        entering: dict[int, frozenset[str]] = {0: frozenset()}
        todo = [0]
        while todo:
            position = todo.pop()
            inst = program.instructions[position]
            for target, gen in self.edges(inst, judged):
                if target == END or target >= len(program.instructions):
                    continue
                after = (entering[position] | gen) & judged
                before = entering.get(target)
                merged = after if before is None else before & after
                if merged != before:
                    entering[target] = merged
                    todo.append(target)
        return entering

    def edges(self, inst: Instruction, judged: frozenset[str]) -> list[tuple[int, frozenset[str]]]:
        """Where the engine goes from ``inst``, with the slots it has set on the way."""
        step = inst.step
        gen: frozenset[str] = frozenset()
        done = inst.next  # the move on which the step's own work is done
        if inst.kind == "collect":
            gen = frozenset({step.slot})
        elif inst.kind == "set" and step.condition is None:
            gen = frozenset(step.slots)
        elif inst.kind == "confirm":
            gen = frozenset({step.slot})  # yes and no both set it
            return [(t, gen) for t in self.moves(inst)]
        elif inst.kind == "call":
            gen = frozenset(step.outputs.values())
        elif inst.kind == "action":
            gen = self.outputs(step.call, step.map_outputs, judged)
        elif inst.kind == "choose":
            ran = [self.outputs(action, {}, judged) for action in step.actions]
            # One action over a list: its outputs and the bound slots; fixed options:
            # what every one of them sets.
            gen = (
                frozenset(step.bound_slots).union(*ran)
                if step.options_from
                else frozenset.intersection(*ran)
            )
        return [(t, gen if t == done else frozenset()) for t in self.moves(inst)]

    def outputs(
        self, action: str, map_outputs: Mapping[str, str], judged: frozenset[str]
    ) -> frozenset[str]:
        """The slots a run of ``action`` sets: those it maps its outputs to, else its
        declared outputs that are slots; an action that declares none may set any."""
        if map_outputs:
            return frozenset(map_outputs.values())
        declared = self.config.actions.get(action)
        if declared is None or not declared.outputs:
            return judged
        return frozenset(declared.outputs)

    def messages(self, inst: Instruction) -> Iterator[tuple[DataPath, str, frozenset[str]]]:
        """The templates ``inst`` renders: path, text, slots it sets for them itself."""
        step = inst.step
        path = self.paths[step.step]
        none: frozenset[str] = frozenset()
        if inst.kind in ("say", "end", "confirm", "collect", "choose"):
            for index, text in enumerate(variants(getattr(step, "message", None))):
                at = (
                    (*path, "message")
                    if isinstance(step.message, str)
                    else (*path, "message", index)
                )
                yield at, text, none
        if inst.kind == "collect" and step.message is None:
            definition = self.slot(step.slot)
            for text in variants(definition.prompt if definition else None):
                yield (*path, "slot"), text, none
        if inst.kind == "action":
            declared = self.config.actions.get(step.call)
            question = step.confirm or (declared.confirm if declared else None)
            if question:
                yield (*path, "confirm" if step.confirm else "call"), question, none
        if inst.kind == "choose":
            for index, option in enumerate(step.options or ()):
                if option.label:
                    yield (*path, "options", index, "label"), option.label, none
            if step.label:
                yield (*path, "label"), step.label, frozenset(step.bound_slots)

    def slot(self, name: str) -> SlotDef | None:
        own = next((slot for slot in self.flow.slots if slot.name == name), None)
        return own if own is not None else self.config.slots.get(name)

    def ineffective(self, step: Step) -> None:
        """Cases that never match and jumps that are never taken."""
        path = self.paths[step.step]
        for text, cover in self.dead.get(step.step, {}).items():
            if _is_default(text):
                reason = f"the default case {cover!r} written after it is used instead"
            else:
                reason = f"case {cover!r} above already takes every value it would"
            self.warn((*path, "cases", text), f"case {text!r} never matches: {reason}", key=True)
        if isinstance(step, ActionStep) and step.on_skip is not None and not self.guarded(step):
            self.warn(
                (*path, "on_skip"),
                f"'on_skip' is never taken: action {step.call!r} asks for no confirmation "
                "(give the step or the action a 'confirm' question)",
            )
        if isinstance(step, BranchStep) and step.next is not None and self.has_default(step):
            self.warn((*path, "next"), "'next' is never taken: the branch has a default case")
        if isinstance(step, ConfirmStep) and step.next is not None and step.on_confirm:
            self.warn(
                (*path, "next"),
                "'next' is never taken: a yes goes to 'on_confirm', a no to 'on_deny' "
                "or the end of the flow",
            )

    def guarded(self, step: ActionStep) -> bool:
        declared = self.config.actions.get(step.call)
        return bool(step.confirm or (declared is not None and declared.confirm))

    def has_default(self, step: BranchStep) -> bool:
        dead = self.dead.get(step.step, {})
        return any(_is_default(t) for t in step.cases if t not in dead)

    def moves(self, inst: Instruction) -> list[int]:
        """Where the engine can go from ``inst`` (see the module doc)."""
        step, targets = inst.step, inst.targets
        extra: list[str] = []
        if inst.kind in ("end", "link"):
            return []
        if inst.kind == "branch":
            dead = self.dead.get(step.step, {})
            moves = [targets[f"case:{t}"] for t in step.cases if t not in dead]
            return moves if self.has_default(step) else [*moves, inst.next]
        if inst.kind == "while":
            return [targets["body"], targets.get("exit_to", inst.next)]
        if inst.kind == "confirm":
            return [targets.get("on_confirm", inst.next), targets.get("on_deny", END)]
        if inst.kind == "action":
            extra = ["on_error", "on_unknown"]
            if self.guarded(step):
                extra.append("on_skip")
        elif inst.kind == "choose":
            extra = ["on_skip", "on_error", "on_unknown", "on_empty"]
        return [inst.next, *(targets[name] for name in extra if name in targets)]

    def reach(self, program: Program) -> set[int]:
        instructions = program.instructions
        first_collect: dict[str, int] = {}
        for position, inst in enumerate(instructions):
            if inst.kind == "collect":
                first_collect.setdefault(inst.step.slot, position)
        seen: set[int] = set()
        todo = [0]
        while todo:
            while todo:
                position = todo.pop()
                if position == END or position in seen:
                    continue
                seen.add(position)
                todo.extend(self.moves(instructions[position]))
            # A correction rewinds to a collect behind a position the flow can be at.
            latest = max(seen)
            todo = [p for p in first_collect.values() if p not in seen and p < latest]
        return seen

    def why(self, step: Step, reached: set[str]) -> str:
        """Why nothing leads to ``step``, in the author's terms."""
        sources = [s.step for s in self.flow.iter_steps() if step.step in _jumps(s)]
        if sources:
            names = ", ".join(repr(s) for s in sources)
            jumps = f"the jumps to it (from {names}) are never taken"
        else:
            jumps = "no step jumps to it"
        path = self.paths[step.step]
        siblings: Sequence[str | Step] = self.flow.steps
        if len(path) > 4:  # an inline step: (..., <loop's path>, "do", index)
            loop = self.steps_at[path[:-2]]
            assert isinstance(loop, WhileStep)
            if loop.step not in reached:
                return f"its loop {loop.step!r} is never reached, and {jumps}"
            siblings = loop.do
        above = siblings[int(path[-1]) - 1]
        if isinstance(above, str):
            return f"the loop body runs {above!r} before it, which goes elsewhere, and {jumps}"
        if above.step not in reached:
            return f"the step above is never reached either, and {jumps}"
        return f"{self.no_fall_through(above)}, and {jumps}"

    def no_fall_through(self, above: Step) -> str:
        """Why the step ``above`` does not go on to the one below it."""
        if above.type in ("end", "link"):
            return f"the {above.type} step above ends the flow"
        if isinstance(above, BranchStep) and self.has_default(above):
            return "the branch above always jumps (it has a default case)"
        return _no_fall_through(above)


def _is_default(pattern: str) -> bool:
    try:
        return compile_pattern(pattern).is_default
    except PatternError:  # malformed: validation reports it
        return False


def _no_fall_through(above: Step) -> str:
    if isinstance(above, ConfirmStep) and above.on_confirm is not None:
        return f"the confirm step above goes to {above.on_confirm!r} on yes"
    if isinstance(above, WhileStep) and above.exit_to is not None:
        return f"the loop above exits to {above.exit_to!r}"
    if above.next == "end":
        return "the step above ends the flow ('next: end')"
    if above.next is not None:
        return f"the step above goes to {above.next!r}"
    return "the step above never goes on to it"


def _jumps(step: Step) -> set[str]:
    """The step ids ``step`` names as places to go."""
    named = {getattr(step, name, None) for name in ("next", "on_error", "on_unknown", "on_skip")}
    named |= {getattr(step, name, None) for name in ("on_confirm", "on_deny", "exit_to")}
    if isinstance(step, BranchStep):
        named |= set(step.cases.values())
    if isinstance(step, WhileStep):
        named |= {item for item in step.do if isinstance(item, str)}
    return {name for name in named if isinstance(name, str)}


def step_paths(steps: Sequence[str | Step], path: DataPath) -> Iterator[tuple[str, DataPath]]:
    """Each step's id and data path, inline loop steps included (not ids named in a loop)."""
    for index, step in enumerate(steps):
        if isinstance(step, str):
            continue
        here = (*path, index)
        yield step.step, here
        if isinstance(step, WhileStep):
            yield from step_paths(step.do, (*here, "do"))
