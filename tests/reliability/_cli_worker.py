"""A ``soni`` command line kept warm in its own process, for decisions fired at once.

Run as a script, it imports soni's CLI and then runs one command per line of
standard input (a JSON list of arguments, as after ``soni``), answering each with
a JSON line ``{"exit": code, "stdout": ..., "stderr": ...}``. A new process per
command would spend most of a second importing before it could race anyone; this
one is a separate process on the same database all the same, running the same
Typer app ``soni`` runs. ``CliWorker`` is its handle in the tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ("CliResult", "CliWorker")


@dataclass(frozen=True, slots=True)
class CliResult:
    exit: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


class CliWorker:
    """The warm command line: ``send`` a command, later ``receive`` its result."""

    def __init__(self, env: Mapping[str, str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=dict(env),
            cwd=cwd,
        )
        # Blocks until the imports are done: the first line says it is ready.
        assert self._line() == "ready"

    def _line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the CLI worker ended (exit {self.process.wait(timeout=10)})")
        return line.strip()

    def send(self, *args: str) -> None:
        """Start ``soni ARGS…`` at once; the worker runs it while the caller goes on."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(list(args)) + "\n")
        self.process.stdin.flush()

    def receive(self) -> CliResult:
        """The result of the command sent last (blocking)."""
        answer = json.loads(self._line())
        return CliResult(answer["exit"], answer["stdout"], answer["stderr"])

    def run(self, *args: str) -> CliResult:
        self.send(*args)
        return self.receive()

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> CliWorker:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _serve() -> None:
    from typer.testing import CliRunner

    from soni.cli import app

    runner = CliRunner()
    print("ready", flush=True)
    for line in sys.stdin:
        args = json.loads(line)
        result = runner.invoke(app, args, env={"COLUMNS": "200"})
        answer = {"exit": result.exit_code, "stdout": result.stdout, "stderr": result.stderr}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    _serve()
