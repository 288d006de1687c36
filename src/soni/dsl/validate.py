"""Cross-reference checks: what the models cannot see one element at a time.

Run after the models validate and before anything is compiled. Every problem is
collected, with the location of the element it concerns, so a bot author sees all
of them at once: jumps to steps that do not exist, links to unknown flows, slots
used but never declared, unknown validators and (when the handlers are known)
unknown actions.

Which slots a flow may use: the top-level ``slots``, the flow's own ``slots`` and —
unless ``implicit_slots=False`` — the slots its steps assign (``set`` keys,
``map_outputs`` targets, ``call`` outputs, ``confirm`` answers). Assigning a slot
declares it, as in soni 1.0 bots, so a misspelt name is still caught where it is
*read*. A ``collect`` step always needs a declared slot: it must know the type.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import TypeVar

from soni.dsl._flow_checks import FlowChecker, assigned_slots
from soni.dsl.diagnostics import describe_value
from soni.dsl.errors import ConfigError, SlotValueError
from soni.dsl.expressions import compile_expression
from soni.dsl.models import BotConfig, SlotDef
from soni.dsl.responses import RESPONSES
from soni.dsl.slot_types import coerce
from soni.dsl.source import DataPath, SourceMap, format_path
from soni.dsl.templates import compile_template
from soni.errors import did_you_mean

__all__ = ("validate_bot",)

Compiled = TypeVar("Compiled")

_SETTINGS_KEYS = ("persistence", "confirmations", "nlu")


def validate_bot(
    config: BotConfig,
    *,
    actions: Collection[str] | None = None,
    validators: Collection[str] | None = None,
    implicit_slots: bool = True,
) -> list[ConfigError]:
    """Check the references between a bot's elements.

    Args:
        config: A bot whose models validated. Errors are located with its
            ``source_map``; a bot built in code gets locations without lines.
        actions: The names of the registered action handlers. When given, every
            action a step calls must be one of them.
        validators: The names of the registered slot validators. When given, every
            validator a slot or collect step names must be one of them.
        implicit_slots: Whether assigning a slot declares it (see the module doc).

    Returns:
        Every problem found, in the order of the bot; empty if there is none.
    """
    checker = BotChecker(
        config,
        config.source_map or SourceMap("<bot>"),
        None if actions is None else frozenset(actions),
        None if validators is None else frozenset(validators),
        implicit_slots,
    )
    checker.run()
    return checker.errors


class BotChecker:
    """The checks of a whole bot; each flow's are delegated to a ``FlowChecker``."""

    def __init__(
        self,
        config: BotConfig,
        source: SourceMap,
        actions: frozenset[str] | None,
        validators: frozenset[str] | None,
        implicit: bool,
    ) -> None:
        self.config = config
        self.source = source
        self.actions = actions
        self.validators = validators
        self.implicit = implicit
        self.errors: list[ConfigError] = []
        self.declared: dict[str, frozenset[str]] = {}
        self.usable: dict[str, frozenset[str]] = {}
        for name, flow in config.flows.items():
            declared = frozenset(config.slots) | {slot.name for slot in flow.slots}
            self.declared[name] = declared
            self.usable[name] = declared | assigned_slots(flow) if implicit else declared
        self.everywhere = frozenset(config.slots).union(*self.usable.values())

    def error(self, path: DataPath, message: str, *, key: bool = False) -> None:
        prefix = f"{format_path(path)}: " if path else ""
        self.errors.append(self.source.locate(path, key=key).error(prefix + message))

    def run(self) -> None:
        if not self.config.flows:
            self.error((), "the bot defines no flows")
        for key in self.config.settings.model_extra or {}:
            hint = did_you_mean(key, _SETTINGS_KEYS, cutoff=0.8)
            if hint and key not in _SETTINGS_KEYS:
                self.error(("settings", key), f"unknown settings key {key!r}{hint}")
        for name, slot in self.config.slots.items():
            if slot.name != name:
                message = f"slot name {slot.name!r} differs from its key {name!r}"
                self.error(("slots", name, "name"), message)
            self.check_slot(slot, ("slots", name), self.everywhere)
        for name, action in self.config.actions.items():
            path: DataPath = ("actions", name)
            for index, slot_name in enumerate(action.inputs):
                self.read((*path, "inputs", index), slot_name, self.everywhere)
            self.template((*path, "confirm"), action.confirm, self.everywhere)
        self.responses(("settings", "messages"), self.config.settings.messages, self.everywhere)
        for name, flow in self.config.flows.items():
            FlowChecker(self, name, flow).run()
            self.responses(("flows", name, "messages"), flow.messages, self.usable[name])

    # -- shared checks ----------------------------------------------------------

    def read(self, path: DataPath, name: str, usable: frozenset[str], what: str = "") -> None:
        if name not in usable:
            where = f" in {what}" if what else ""
            self.error(path, f"unknown slot {name!r}{where}{did_you_mean(name, usable)}")

    def template(
        self, path: DataPath, text: str | list[str] | None, usable: frozenset[str]
    ) -> None:
        if isinstance(text, list):  # variants: each one is a template
            for index, variant in enumerate(text):
                self.template((*path, index), variant, usable)
            return
        if text is None:
            return
        template = self.parses(path, text, compile_template, "template")
        if template is not None:
            self.names(path, text, template.names, usable)

    def responses(
        self, path: DataPath, messages: Mapping[str, str | list[str]], usable: frozenset[str]
    ) -> None:
        """Built-in messages in the bot's or a flow's own words: known names (a flow's
        only for what a flow words), templates over the slots and their own values."""
        for name, message in messages.items():
            response = RESPONSES.get(name)
            if response is None:
                self.error(
                    (*path, name),
                    f"unknown message {name!r}{did_you_mean(name, RESPONSES)}; the "
                    f"messages are {', '.join(sorted(RESPONSES))}",
                    key=True,
                )
                continue
            if len(path) > 2 and not response.per_flow:
                self.error(
                    (*path, name),
                    f"message {name!r} is the bot's, not a flow's: word it under settings.messages",
                    key=True,
                )
                continue
            names = usable if response.slots else frozenset()
            self.template((*path, name), message, names | response.values)

    def expression(self, path: DataPath, text: str | None, usable: frozenset[str]) -> None:
        if text is None:
            return
        expression = self.parses(path, text, compile_expression, "expression")
        if expression is not None:
            self.names(path, text, expression.names, usable, "the expression")

    def names(
        self,
        path: DataPath,
        text: str,
        names: frozenset[str],
        usable: frozenset[str],
        what: str | None = None,
    ) -> None:
        """The slots a compiled text reads must be usable; reported in the text's order
        (``what`` says where: a template's ``{name}`` by default)."""
        for name in sorted(names, key=text.find):
            self.read(path, name, usable, what or f"{{{name}}}")

    def parses(
        self,
        path: DataPath,
        text: str,
        compile: Callable[[str], Compiled],
        what: str,
        *,
        key: bool = False,
    ) -> Compiled | None:
        """``text`` compiled, or ``None`` with the problem reported at ``path``."""
        try:
            return compile(text)
        except ValueError as exc:
            text = str(exc)
            # Parsers' own messages often say "invalid ..." already.
            self.error(
                path, text if text.startswith("invalid") else f"invalid {what}: {text}", key=key
            )
            return None

    def validator(self, path: DataPath, name: str | None) -> None:
        if name is not None and self.validators is not None and name not in self.validators:
            self.error(path, f"unknown validator {name!r}{did_you_mean(name, self.validators)}")

    def action(self, path: DataPath, name: str) -> None:
        if self.actions is not None and name not in self.actions:
            hint = did_you_mean(name, self.actions)
            self.error(path, f"unknown action {name!r}: no handler is registered{hint}")

    def check_slot(self, slot: SlotDef, path: DataPath, usable: frozenset[str]) -> None:
        self.validator((*path, "validator"), slot.validator)
        self.template((*path, "prompt"), slot.prompt, usable)
        self.template((*path, "validation_error_message"), slot.validation_error_message, usable)
        if slot.default is not None:
            try:
                default = coerce(slot.kind, slot.default, choices=slot.choices)
            except SlotValueError as exc:
                self.error(
                    (*path, "default"),
                    f"default {describe_value(slot.default)} is not a valid {slot.type}: "
                    f"{exc.message}",
                )
            else:
                self.matches_pattern(slot, (*path, "default"), default, "default")
        for index, example in enumerate(slot.examples):
            # An example the slot would refuse teaches understanding a wrong value.
            self.matches_pattern(slot, (*path, "examples", index), example, "example")
        owners: dict[str, str] = {}
        for value, synonyms in (slot.choices or {}).items():
            for word in (value, *synonyms):
                owner = owners.setdefault(word.casefold(), value)
                if owner != value:
                    self.error(
                        (*path, "choices"),
                        f"{word!r} stands for both choices {owner!r} and {value!r}",
                    )

    def matches_pattern(self, slot: SlotDef, path: DataPath, value: object, what: str) -> None:
        compiled = slot.compiled_pattern
        if compiled is not None and compiled.fullmatch(str(value).strip()) is None:
            self.error(
                path,
                f"{what} {describe_value(value)} does not match the slot's pattern {slot.pattern}",
            )
