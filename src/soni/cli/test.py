"""``soni test``: run a bot's conversation tests."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from soni.cli._app import app
from soni.cli._output import console, fail, print_json, reported, stdout_kept_for_json

if TYPE_CHECKING:  # the runner loads the engine: imported when a command runs, not at start-up
    from soni.testing import ConversationResult, ConversationTestFile, RunReport

__all__ = ("test",)


@app.command("test")
def test(
    bot: Annotated[Path, typer.Argument(help="The bot: a folder of YAML files (or one file).")],
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Test files to run; default: the bot's tests/*.yaml."),
    ] = None,
    actions: Annotated[
        list[str] | None,
        typer.Option(
            "--actions",
            metavar="MODULE",
            help="Handler module (file, folder or dotted name) instead of the bot's own "
            "actions.py / handlers.py / actions/; may be repeated.",
        ),
    ] = None,
    junit: Annotated[
        Path | None, typer.Option("--junit", help="Also write the results as JUnit XML here.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the results as JSON instead of text.")
    ] = False,
) -> None:
    """Run a bot's conversation tests; exit 1 if any fails."""
    from soni.testing import discover, load_test_files
    from soni.testing.junit import write_junit

    if not bot.exists():
        fail(f"no such bot: {bot}")
    options = {"actions": actions} if actions else {}
    with reported(), stdout_kept_for_json(as_json):
        paths = [test for given in files or [] for test in _test_files(given)]
        paths = paths if files else list(discover(bot))
        if not paths:
            folder = (bot if bot.is_dir() else bot.parent) / "tests"
            where = ", ".join(map(str, files)) if files else str(folder)
            fail(f"no conversation tests in {where} (expected *.yaml files)")
        loaded = load_test_files(paths)
        total = sum(len(file.tests) for file in loaded)
        if as_json or not console.is_terminal:
            report = _run(bot, loaded, options, plain=not as_json)
        else:
            report = _run_with_progress(bot, loaded, options, total)
    # The results first: a JUnit file that cannot be written must not hide them.
    if as_json:
        print_json(report.to_dict())
    else:
        _print_report(report)
    if junit is not None:
        with reported():
            write_junit(report, junit)
    raise typer.Exit(0 if report.ok else 1)


def _test_files(given: Path) -> list[Path]:
    """A test file as given, or the test files of a folder."""
    from soni.testing.loading import conversation_files_in

    return conversation_files_in(given) if given.is_dir() else [given]


def _run(
    bot: Path, loaded: Sequence[ConversationTestFile], options: dict[str, Any], *, plain: bool
) -> RunReport:
    from soni.testing import run_tests

    def show(result: ConversationResult) -> None:
        if plain:
            mark = "PASS" if result.passed else "FAIL"
            console.print(f"{mark} {result.location} {result.name}", markup=False)

    return asyncio.run(run_tests(bot, loaded, on_result=show, **options))


def _run_with_progress(
    bot: Path, loaded: Sequence[ConversationTestFile], options: dict[str, Any], total: int
) -> RunReport:
    from soni.testing import run_tests

    columns = (
        TextColumn("[bold]testing[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        # The test's name as written: markup=False, or "[/]" in a name would crash.
        TextColumn("{task.description}", markup=False),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("", total=total)

        def advance(result: ConversationResult) -> None:
            progress.update(task, advance=1, description=result.name)

        return asyncio.run(run_tests(bot, loaded, on_result=advance, **options))


def _print_report(report: RunReport) -> None:
    for result in report.results:
        failure = result.failure
        if failure is None:
            continue
        title = Text.assemble(("FAILED ", "bold red"), (f"{result.location} {result.name}", "bold"))
        console.print(title)
        console.print(_indent(failure.explain()), markup=False)
        console.print()
    style = "bold green" if report.ok else "bold red"
    console.print(Text(report.summary(), style=style))


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())
