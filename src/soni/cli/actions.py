"""``soni actions``: the action handlers a bot can call."""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from soni.cli._app import app
from soni.cli._output import console, fail, print_json, reported, stdout_kept_for_json
from soni.cli._served import ServerKey, served_actions, where

if TYPE_CHECKING:
    from soni.actions import ActionRegistry, ActionSpec
    from soni.dsl.models import BotConfig

actions_app = typer.Typer(help="The action handlers a bot can call.", no_args_is_help=True)
app.add_typer(actions_app, name="actions")


@actions_app.command("list")
def list_actions(
    bot: Annotated[Path, typer.Argument(help="The bot: a folder of YAML files (or one file).")],
    actions: Annotated[
        list[str] | None,
        typer.Option(help="A handler module (file, folder or dotted name); repeatable."),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(
            help="Show where a running server runs each action (its own handlers, or "
            "the action workers that announced it).",
        ),
    ] = None,
    api_key: ServerKey = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the bot's actions: handler signature, description, confirmation, where used."""
    from soni.actions import ActionRegistry
    from soni.engine import load_config

    if not bot.exists():
        fail(f"no such bot: {bot}")
    with reported(), stdout_kept_for_json(as_json):
        registry = ActionRegistry()
        config = load_config(
            bot, actions=actions, registry=registry, remote_actions=url is not None
        )
        found = describe_actions(config, registry)
        if url is not None:
            served = served_actions(url, api_key)
            for action in found:
                action["served"] = where(served, action["name"])
    if as_json:
        print_json(found)
    else:
        console.print(actions_table(found))


def describe_actions(config: BotConfig, registry: ActionRegistry) -> list[dict[str, Any]]:
    """Every action the bot has a handler for, declares or calls, sorted by name."""
    handlers = registry.list_actions()
    uses = _uses(config)
    names = sorted({*handlers["global"], *handlers["local"], *config.actions, *uses})
    described: list[dict[str, Any]] = []
    for name in names:
        spec = registry.get_spec(name)
        declared = config.actions.get(name)
        used = uses.get(name, [])
        described.append(
            {
                "name": name,
                "scope": spec.scope if spec is not None else None,
                **_handler(spec),
                "description": _description(declared.description if declared else None, spec),
                "declared": declared is not None,
                "confirm": declared.confirm if declared else None,
                "confirmed_in": [use for use in used if use["confirm"] is not None],
                "used_in": [{"flow": use["flow"], "step": use["step"]} for use in used],
            }
        )
    return described


def _uses(config: BotConfig) -> dict[str, list[dict[str, Any]]]:
    """Action name → the steps that call or offer it, and the question each asks first."""
    from soni.dsl.models import ActionStep, ChooseStep
    from soni.dsl.responses import variants

    uses: dict[str, list[dict[str, Any]]] = {}
    for flow_name, flow in config.flows.items():
        for step in flow.iter_steps():
            if isinstance(step, ActionStep):
                declared = config.actions.get(step.call)
                prompt = step.confirm or (declared.confirm if declared else None)
                use = {"flow": flow_name, "step": step.step, "kind": "call", "confirm": prompt}
                uses.setdefault(step.call, []).append(use)
            elif isinstance(step, ChooseStep):
                for action in step.actions:
                    use = {
                        "flow": flow_name,
                        "step": step.step,
                        "kind": "choose",
                        "confirm": " | ".join(variants(step.message)),
                    }
                    uses.setdefault(action, []).append(use)
    return uses


def _handler(spec: ActionSpec | None) -> dict[str, Any]:
    if spec is None:
        return {
            "handler": None,
            "async": None,
            "signature": None,
            "parameters": [],
            "context": None,
        }
    try:
        signature = inspect.signature(spec.handler)
    except (TypeError, ValueError):  # registration inspected it; a late change, say
        signature = None
    parameters = [
        {
            "name": param.name,
            "type": _type_name(param.annotation),
            "default": None if param.default is param.empty else repr(param.default),
            "required": param.name in spec.required,
        }
        for param in (signature.parameters.values() if signature else ())
        if param.name != spec.ctx_param
    ]
    return {
        "handler": _location(spec.handler),
        "async": spec.is_async,
        "signature": _signature(signature, spec) if signature else None,
        "parameters": parameters,
        "context": spec.ctx_param,
    }


def _signature(signature: inspect.Signature, spec: ActionSpec) -> str:
    params = []
    for param in signature.parameters.values():
        text = param.name
        kind = _type_name(param.annotation)
        if kind is not None:
            text += f": {kind}"
        if param.default is not param.empty:
            text += f" = {param.default!r}" if kind else f"={param.default!r}"
        params.append(text)
    returns = _type_name(signature.return_annotation)
    prefix = "async " if spec.is_async else ""
    return f"{prefix}({', '.join(params)})" + (f" -> {returns}" if returns else "")


def _type_name(annotation: Any) -> str | None:
    if annotation is inspect.Parameter.empty:
        return None
    if isinstance(annotation, str):
        return annotation
    if isinstance(annotation, type) and not getattr(annotation, "__args__", None):
        return annotation.__qualname__
    return inspect.formatannotation(annotation).replace("typing.", "")


def _location(handler: Any) -> str:
    """``file:line`` of the handler (relative to the working folder), else its name."""
    from soni.actions.spec import describe

    try:
        file = inspect.getsourcefile(handler)
        line = inspect.getsourcelines(handler)[1]
    except (TypeError, OSError):
        return describe(handler)
    if file is None:
        return describe(handler)
    path = Path(file)
    try:
        shown = os.path.relpath(path)
    except ValueError:  # another drive, on Windows
        shown = str(path)
    return f"{shown if not shown.startswith('..') else path}:{line}"


def _description(declared: str | None, spec: ActionSpec | None) -> str | None:
    if declared:
        return declared
    if spec is None:
        return None
    if spec.description:
        return spec.description
    doc = inspect.getdoc(spec.handler)
    return doc.strip().splitlines()[0] if doc else None


def actions_table(found: list[dict[str, Any]]) -> Table:
    table = Table(title="actions", title_justify="left", show_lines=True)
    table.add_column("action", no_wrap=True)
    table.add_column("details")
    for action in found:
        name = Text(action["name"], style="bold")
        name.append(f"\n{action['scope'] or 'no handler'}", style="dim")
        if "served" in action:
            name.append(f"\nserver: {action['served'] or 'not served'}", style="dim")
        details = Table.grid(padding=(0, 2))
        details.add_column(style="dim", no_wrap=True)
        details.add_column(overflow="fold")
        for label, value in (
            ("signature", action["signature"] or "-"),
            ("description", action["description"] or "-"),
            ("confirmation", _confirmation(action)),
            ("used in", ", ".join(f"{u['flow']}.{u['step']}" for u in action["used_in"]) or "-"),
            ("defined at", action["handler"] or "-"),
        ):
            details.add_row(label, Text(value))
        table.add_row(name, details)
    return table


def _confirmation(action: dict[str, Any]) -> str:
    if action["confirm"]:
        return f"every call: {action['confirm']}"
    lines = [
        f"{use['flow']}.{use['step']}" + (" (a choice)" if use["kind"] == "choose" else "")
        for use in action["confirmed_in"]
    ]
    return "\n".join(lines) or "no"
