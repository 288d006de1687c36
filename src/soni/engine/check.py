"""Checking a bot the way ``Bot.load`` does, without opening its state.

``Bot.load`` imports the bot's handler modules, validates every reference (handler
and validator names included) and the syntax of expressions, templates and case
patterns, reads the understanding's settings and works out where state is kept;
only then does it open databases. :func:`load_config` is that first part;
:func:`check_bot` runs it for ``soni validate`` and collects every problem —
errors, and the warnings of :func:`soni.dsl.lint.lint` — instead of raising.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from soni.actions import ActionRegistry, load_actions
from soni.actions.errors import ActionLoadError
from soni.actions.validators import default_validators
from soni.dsl.errors import ConfigError, ConfigErrors
from soni.dsl.lint import ConfigWarning, lint, step_paths
from soni.dsl.loader import load_bot
from soni.dsl.models import ActionStep, BotConfig, ChooseStep
from soni.dsl.source import SourceMap, format_path
from soni.nlu.errors import NluSettingsError
from soni.nlu.rules import RulesSettings

__all__ = (
    "HANDLER_MODULES",
    "CheckReport",
    "called_actions",
    "check_bot",
    "handler_targets",
    "load_config",
)

HANDLER_MODULES = ("actions.py", "handlers.py", "actions")
"""Where a bot folder keeps its handlers, when no module is named."""


def handler_targets(path: str | os.PathLike[str], actions: str | Sequence[str] | None) -> list[str]:
    """The handler modules to import for the bot at ``path``: ``actions``, or its own."""
    root = Path(path)
    targets = [actions] if isinstance(actions, str) else list(actions or [])
    if not targets and root.is_dir():
        targets = [str(root / name) for name in HANDLER_MODULES if (root / name).exists()]
    return targets


def load_config(
    path: str | os.PathLike[str],
    *,
    actions: str | Sequence[str] | None = None,
    registry: ActionRegistry | None = None,
    understanding: bool = True,
    local_actions: bool = True,
    remote_actions: bool = False,
) -> BotConfig:
    """Import the bot's handlers and validate it completely, opening nothing.

    Args:
        path: The bot: a YAML file or a folder of them.
        actions: Handler modules (files, folders, dotted names); by default the bot
            folder's ``actions.py``, ``handlers.py`` or ``actions/`` package.
        registry: Where handler names are looked up; the global map by default.
        understanding: Whether to check the settings of the understanding the bot
            names (``settings.nlu``); not when the caller brings its own.
        local_actions: Whether to import the bot folder's own handler modules
            (``soni serve --no-local-actions``: its actions run in workers).
        remote_actions: Whether an action with no handler here is allowed: action
            workers may announce it (docs/workers.md).

    Raises:
        ActionLoadError: a handler module failed to import.
        ConfigErrors: the bot has errors, all of them listed.
    """
    if local_actions:
        for target in handler_targets(path, actions):
            load_actions(target)
    elif actions:
        raise ValueError("local_actions=False imports no handler module: pass no actions")
    config = _validated(path, registry or ActionRegistry(), remote_actions)
    errors = runtime_errors(config) if understanding else []
    if errors:
        raise ConfigErrors(errors)
    return config


def _validated(
    path: str | os.PathLike[str], registry: ActionRegistry, remote: bool = False
) -> BotConfig:
    handlers = registry.list_actions()
    return load_bot(
        path,
        actions=None if remote else [*handlers["global"], *handlers["local"]],
        validators=default_validators().names(),
    )


def called_actions(config: BotConfig) -> list[str]:
    """Every action the bot's flows call (action steps, choices), sorted."""
    names: set[str] = set()
    for flow in config.flows.values():
        for step in flow.iter_steps():
            if isinstance(step, ActionStep):
                names.add(step.call)
            elif isinstance(step, ChooseStep):
                names.update(step.actions)
    return sorted(names)


def runtime_errors(config: BotConfig) -> list[ConfigError]:
    """The understanding settings a bot that validated cannot run with, at their key."""
    nlu = config.settings.nlu
    extra = dict(nlu.model_extra or {})
    try:
        RulesSettings.from_settings(extra)
        if nlu.engine == "llm":
            from soni.nlu.llm import LLMSettings

            LLMSettings.from_settings(extra)
    except NluSettingsError as exc:
        source = config.source_map or SourceMap("<bot>")
        return [source.locate(("settings", "nlu", exc.key)).error(str(exc))]
    return []


@dataclass(frozen=True, slots=True)
class CheckReport:
    """Everything found in a bot.

    Attributes:
        config: The bot, when it loaded.
        errors: What stops it from loading, ordered by file and line.
        warnings: What loads but is most likely a mistake (see :mod:`soni.dsl.lint`).
    """

    config: BotConfig | None
    errors: tuple[ConfigError, ...]
    warnings: tuple[ConfigWarning, ...]

    @property
    def ok(self) -> bool:
        """Whether the bot loads (warnings allowed)."""
        return not self.errors


def check_bot(
    path: str | os.PathLike[str],
    *,
    actions: str | Sequence[str] | None = None,
    registry: ActionRegistry | None = None,
    served: Collection[str] | None = None,
) -> CheckReport:
    """Check a bot as :func:`load_config` does, collecting the problems.

    A handler module that fails to import is one error (at the line that raised);
    the bot is still checked, without the handler and validator names, which the
    broken module may have been meant to register.

    Args:
        served: The actions a running server serves (``soni validate --url``: its
            handlers and its workers' actions): the bot's calls are checked against
            them, and no handler module is imported here.
    """
    errors: list[ConfigError] = []
    for target in handler_targets(path, actions) if served is None else ():
        try:
            load_actions(target)
        except ActionLoadError as exc:
            errors.append(_load_error(exc))
    try:
        # A broken handler module may have been meant to register what the bot names.
        if served is not None:
            config = load_bot(path, actions=list(served), validators=default_validators().names())
        elif errors:
            config = load_bot(path)
        else:
            config = _validated(path, registry or ActionRegistry())
    except ConfigErrors as exc:
        return CheckReport(None, (*errors, *exc.errors), ())
    errors.extend(runtime_errors(config))
    warnings = sorted(
        [*lint(config), *handler_warnings(config, registry or ActionRegistry())],
        key=lambda w: (w.path, w.line or 0, w.column or 0),
    )
    return CheckReport(config, tuple(errors), tuple(warnings))


def handler_warnings(config: BotConfig, registry: ActionRegistry) -> list[ConfigWarning]:
    """Handlers whose slot parameters are no slot of the bot.

    A handler ``def book(date: str)`` called by a flow gets the slot ``date`` at run
    time; when the bot has no such slot (it is ``appointment_date``) the call fails
    then ("needs slot(s) 'date', which have no value"). An action that declares its
    ``inputs``, or a parameter with a default, is left alone.
    """
    source = config.source_map or SourceMap("<bot>")
    slots = set(config.slots) | {s.name for f in config.flows.values() for s in f.slots}
    warnings: list[ConfigWarning] = []
    seen: set[str] = set()
    for flow_name, flow in config.flows.items():
        for step_id, path in step_paths(flow.steps, ("flows", flow_name, "steps")):
            step = next(s for s in flow.iter_steps() if s.step == step_id)
            calls = [step.call] if isinstance(step, ActionStep) else []
            if isinstance(step, ChooseStep):
                calls = list(step.actions)
            for name in calls:
                declared = config.actions.get(name)
                spec = registry.get_spec(name)
                if name in seen or spec is None or spec.mode != "params":
                    continue
                if declared is not None and declared.inputs:
                    continue
                seen.add(name)
                missing = [p for p in spec.required if p not in slots]
                if missing:
                    where = source.locate(path)
                    known = ", ".join(sorted(slots)) or "none"
                    warnings.append(
                        ConfigWarning(
                            where.path,
                            where.line,
                            where.column,
                            f"{format_path(path)}: the handler of action {name!r} takes "
                            f"{', '.join(repr(m) for m in missing)}, which the bot has no "
                            f"slot for (slots: {known}); name the parameter after a slot, "
                            f"or declare the action's inputs",
                        )
                    )
    return warnings


def _load_error(exc: ActionLoadError) -> ConfigError:
    """The import failure at the line that raised, naming the module the bot asked for."""
    where, line = exc.path or exc.target, exc.line
    cause = exc.cause
    column = cause.offset if isinstance(cause, SyntaxError) and line is not None else None
    detail = cause.msg if isinstance(cause, SyntaxError) else str(cause)
    message = f"cannot load the handler module {exc.target}: {type(cause).__name__}: {detail}"
    return ConfigError(_shown(where, exc.target), line, column or None, message)


def _shown(file: str, target: str) -> str:
    """``file`` as the bot's paths are shown: from the handler target as given, else
    relative to the current directory when below it."""
    path = Path(file)
    if not path.is_absolute():
        return file
    given = Path(target)
    with contextlib.suppress(OSError, ValueError):
        if path.resolve() == given.resolve():
            return target
        if path.resolve().is_relative_to(given.resolve()):
            return os.path.join(target, os.path.relpath(path.resolve(), given.resolve()))
        if path.resolve().is_relative_to(Path.cwd().resolve()):
            return os.path.relpath(path.resolve())
    return file
