"""What every command prints the same way: errors, JSON, the --debug switch.

An error is one red line on stderr and an exit code; the traceback only with
``soni --debug``. Data goes to stdout — as JSON with ``--json``, so scripts can
read it.
"""

from __future__ import annotations

import contextlib
import json
import sys
import traceback
from collections.abc import Iterator
from typing import Any, NoReturn

import typer
from rich.console import Console

from soni.errors import SoniError

__all__ = (
    "console",
    "err_console",
    "fail",
    "print_json",
    "reported",
    "set_debug",
    "stdout_kept_for_json",
)

# No emoji codes: ":x:" in a bot's reply or a test name is text, not a picture.
console = Console(highlight=False, soft_wrap=True, emoji=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)

_debug = False


def set_debug(on: bool) -> None:
    global _debug
    _debug = on


def fail(message: str, *, code: int = 1) -> NoReturn:
    """Print ``error: message`` in red on stderr and exit with ``code``."""
    if _debug and sys.exc_info()[0] is not None:
        traceback.print_exc()
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


@contextlib.contextmanager
def reported() -> Iterator[None]:
    """Turn soni's errors (and a broken pipe or Ctrl-C) into one line and an exit code.

    Anything else is a bug: it is reported as one line too, with a hint to rerun with
    ``--debug`` for the traceback.
    """
    try:
        yield
    except (typer.Exit, typer.Abort, SystemExit):
        raise
    except KeyboardInterrupt:
        fail("interrupted", code=130)
    except SoniError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""))
    except Exception as exc:  # a bug: still one line, unless --debug
        hint = "" if _debug else " (run with --debug for the traceback)"
        fail(f"{type(exc).__name__}: {exc}{hint}")


@contextlib.contextmanager
def stdout_kept_for_json(on: bool) -> Iterator[None]:
    """While loading and running a bot for ``--json``, what it prints goes to stderr.

    A handler module that prints when imported (or a handler that prints when it
    runs) would otherwise put its text in front of the JSON a script reads.
    """
    if not on:
        yield
        return
    with contextlib.redirect_stdout(sys.stderr):
        yield


def print_json(data: Any) -> None:
    """``data`` as indented JSON on stdout (dates and other values as strings)."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
