"""``soni validate``: load a bot and report every problem at its file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from soni.cli._app import app
from soni.cli._output import fail, print_json, reported, stdout_kept_for_json
from soni.cli._served import ServerKey, served_actions, where


@app.command()
def validate(
    bot: Annotated[Path, typer.Argument(help="The bot: a folder of YAML files (or one file).")],
    actions: Annotated[
        list[str] | None,
        typer.Option(
            "--actions",
            metavar="MODULE",
            help="Handler module (file, folder or dotted name) instead of the bot's own "
            "actions.py / handlers.py / actions/; may be repeated.",
        ),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(
            help="Check the bot's actions against this running server's (its handlers and "
            "the actions its workers announced) instead of importing handler modules.",
        ),
    ] = None,
    api_key: ServerKey = None,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on warnings too.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"ok", "errors", "warnings"} as JSON.')
    ] = False,
) -> None:
    """Check a bot as loading it would (YAML, references, handlers), opening no database.

    Prints each problem as file:line:col: message. Exits 1 on an error (--strict: a warning).
    """
    from soni.engine import check_bot
    from soni.engine.check import called_actions

    if url is not None and actions:
        fail("--url checks against the server's actions: give no --actions", code=2)
    with reported(), stdout_kept_for_json(as_json):
        served = served_actions(url, api_key) if url is not None else None
        names = None if served is None else [*served["global"], *served["local"], *served["remote"]]
        report = check_bot(bot, actions=actions or None, served=names)
    ok = report.ok and not (strict and report.warnings)
    located = (
        {name: where(served, name) for name in called_actions(report.config)}
        if served is not None and report.config is not None
        else None
    )
    if as_json:
        print_json(
            {
                "ok": ok,
                "errors": [_record(e) for e in report.errors],
                "warnings": [_record(w) for w in report.warnings],
                **({"actions": located} if located is not None else {}),
            }
        )
    else:
        for error in report.errors:
            typer.echo(str(error))
        for warning in report.warnings:
            typer.echo(str(warning))
        for name, place in (located or {}).items():
            typer.echo(f"{name}: {place or 'not served'}")
        typer.secho(_summary(bot, report), fg=_colour(report.ok, bool(report.warnings)))
    if not ok:
        raise typer.Exit(1)


def _record(problem: Any) -> dict[str, Any]:
    return {
        "path": problem.path,
        "line": problem.line,
        "column": problem.column,
        "message": problem.message,
    }


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _summary(bot: Path, report: Any) -> str:
    found = [
        _count(len(items), noun)
        for items, noun in ((report.errors, "error"), (report.warnings, "warning"))
        if items
    ]
    if found:
        return f"{bot}: {', '.join(found)}"
    config = report.config
    steps = sum(len(list(flow.iter_steps())) for flow in config.flows.values())
    return f"{bot}: OK ({_count(len(config.flows), 'flow')}, {_count(steps, 'step')})"


def _colour(ok: bool, warned: bool) -> str:
    if not ok:
        return typer.colors.RED
    return typer.colors.YELLOW if warned else typer.colors.GREEN
