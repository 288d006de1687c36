"""Runs a chain of doc blocks in this process (started by _python.py, one per chain).

Usage: python _runner.py SPEC.json — SPEC lists the pieces (a setup's prelude, then
the blocks) and where to write the result. Each piece is compiled with top-level
``await`` allowed; if any piece awaits, they all run in one event loop, in order.
A ``print(...)`` whose line ends with a ``# comment`` is recorded with the comment's
line, so the test can compare the two. Nothing here judges: the test does.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import inspect
import io
import json
import os
import sys
import tokenize
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


class _Tee(io.TextIOBase):
    """Stdout while a piece runs: kept for the test, and passed on."""

    def __init__(self, through: Any) -> None:
        self.through = through
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        self.through.write(text)
        return len(text)

    def flush(self) -> None:
        self.through.flush()


def expectations(code: str) -> dict[int, int]:
    """``{line of a print's end: line of the comment showing its output}``.

    The comment ends the print's line (``print(x)  # out``) or is the next line,
    written ``# -> out``.
    """
    trailing: set[int] = set()
    arrows: set[int] = set()
    with contextlib.suppress(tokenize.TokenError, IndentationError):
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type != tokenize.COMMENT:
                continue
            if token.line.strip().startswith("#"):
                if token.string.startswith("# ->"):
                    arrows.add(token.start[0])
            else:
                trailing.add(token.start[0])
    found = {line: line for line in trailing}
    found.update({line - 1: line for line in arrows if line - 1 not in trailing})
    return found


class _Prints(ast.NodeTransformer):
    """``print(x)  # out`` → ``__doc_print__(COMMENT_LINE, x)``."""

    def __init__(self, lines: dict[int, int]) -> None:
        self.lines = lines

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if (
            isinstance(node.func, ast.Name)
            and node.func.id == "print"
            and node.end_lineno in self.lines
        ):
            node.func = ast.copy_location(ast.Name("__doc_print__", ast.Load()), node.func)
            line = ast.copy_location(ast.Constant(self.lines[node.end_lineno]), node)
            node.args.insert(0, line)
        return node


def _compile(piece: dict[str, Any], address: str | None) -> Any:
    code: str = piece["code"]
    if address:
        for shown in ("127.0.0.1:8000", "localhost:8000"):
            code = code.replace(shown, address)
    tree = ast.parse(code, filename=piece["file"])
    tree = _Prints(expectations(code)).visit(tree)
    # Line numbers point into the page, so a traceback names the doc's line.
    ast.increment_lineno(tree, piece["line"] - 1)
    ast.fix_missing_locations(tree)
    return compile(tree, piece["file"], "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    sys.path[:] = [os.getcwd(), *[p for p in sys.path if Path(p or ".").resolve() != HERE]]
    sys.path.append(str(HERE))
    import _support  # the preludes' helpers; imported from here, not as tests.docs

    result: dict[str, Any] = {"outputs": [], "prints": [], "error": None}
    namespace: dict[str, Any] = {"__name__": "__main__"}
    current: list[int] = [-1]

    def doc_print(line: int, *args: Any, **kwargs: Any) -> None:
        buffer = io.StringIO()
        print(*args, **{**kwargs, "file": buffer})
        text = buffer.getvalue()
        sys.stdout.write(text)
        result["prints"].append([current[0], line, text.removesuffix("\n")])

    namespace["__doc_print__"] = doc_print
    pieces = spec["pieces"]

    def run_piece(index: int) -> Any:
        current[0] = index
        code = _compile(pieces[index], _support.ADDRESS)
        tee = _Tee(sys.__stdout__)
        with contextlib.redirect_stdout(tee):
            try:
                value = eval(code, namespace)
                return value, tee
            finally:
                result["outputs"].append([index, "".join(tee.parts)])

    def sync_all() -> None:
        for index in range(len(pieces)):
            run_piece(index)

    async def async_all() -> None:
        for index in range(len(pieces)):
            value, tee = run_piece(index)
            if inspect.iscoroutine(value):
                with contextlib.redirect_stdout(tee):
                    try:
                        await value
                    finally:
                        result["outputs"][-1][1] = "".join(tee.parts)

    awaits = any(_compile(piece, None).co_flags & inspect.CO_COROUTINE for piece in pieces)
    try:
        if awaits:
            asyncio.run(async_all())
        else:
            sync_all()
    except BaseException as exc:  # the block's failure is the test's to report
        frames = traceback.format_exception(exc)
        result["error"] = "".join(frames)
    finally:
        with contextlib.suppress(Exception):
            _support.shutdown()
    Path(spec["result"]).write_text(json.dumps(result), encoding="utf-8")
    sys.stdout.flush()
    os._exit(0)  # threads a block left behind (a client's loop) must not hold the exit


if __name__ == "__main__":
    main()
