"""Running Python blocks for real: ``run``, ``continue`` and ``output``.

A *chain* is a ``run`` block, the ``continue`` and ``output`` blocks after it on
the page, and the setup it names. The chain runs in one new process
(``_runner.py``) whose working directory is a fresh temporary folder holding a copy
of the repository's ``examples/``, so ``Bot.load("examples/banking")`` works and
every database lands in the temporary folder.

Expected output, two ways:

- ``print(x)  # text`` — the print must write ``text`` (each time it runs);
- an ``output`` block after the chain's blocks — everything they printed since the
  previous ``output`` block.

Both are compared with ``_match.output_mismatch`` (``…`` elides).
"""

from __future__ import annotations

import ast
import io
import json
import os
import shutil
import subprocess
import sys
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._blocks import ROOT, Block
from ._match import output_mismatch
from ._runner import expectations
from ._setups import SETUPS

RUNNER = Path(__file__).resolve().parent / "_runner.py"
TIMEOUT = 60.0


def workspace(tmp: Path) -> Path:
    """A fresh working folder with a copy of ``examples/`` (no state, no caches)."""
    shutil.copytree(
        ROOT / "examples",
        tmp / "examples",
        ignore=shutil.ignore_patterns(".soni", "__pycache__", "*.db", "*.db-*"),
    )
    return tmp


@dataclass
class Chain:
    """Blocks run in one process, in page order, after the setup's prelude."""

    blocks: list[Block] = field(default_factory=list)
    setup: str | None = None

    @property
    def where(self) -> str:
        return self.blocks[0].where


def _comments(code: str) -> dict[int, str]:
    """The text of every comment, by line (``# -> `` arrows removed)."""
    found: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type == tokenize.COMMENT:
            found[token.start[0]] = token.string[1:].strip().removeprefix("->").strip()
    return found


def _expected_prints(code: str) -> set[int]:
    """The comment lines that show a print's output."""
    tree = ast.parse(code)
    ends = {
        node.end_lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "print"
    }
    return {comment for end, comment in expectations(code).items() if end in ends}


def run_chain(chain: Chain, tmp: Path) -> None:
    """Run the chain; raise AssertionError naming the page line of every mismatch."""
    cwd = workspace(tmp / "work")
    setup = SETUPS[chain.setup] if chain.setup else None
    pieces: list[dict[str, Any]] = []
    program: int | None = None  # the piece whose output an ``output setup=`` block shows
    if setup is not None:
        setup.write_files(cwd)
        if setup.prelude:
            pieces.append({"code": setup.prelude, "file": f"<setup {chain.setup}>", "line": 1})
        if setup.program:
            program = len(pieces)
            pieces.append({"code": setup.program, "file": f"<setup {chain.setup}>", "line": 1})
    first = len(pieces)
    code_blocks = [b for b in chain.blocks if b.directive and b.directive.kind != "output"]
    for block in code_blocks:
        pieces.append({"code": block.text, "file": block.page, "line": block.first_line})
    spec = tmp / "spec.json"
    result_file = tmp / "result.json"
    spec.write_text(json.dumps({"pieces": pieces, "result": str(result_file)}))
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "NO_COLOR": "1", "COLUMNS": "100"}
    try:
        done = subprocess.run(
            [sys.executable, str(RUNNER), str(spec)],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"{chain.where}: the block did not finish within {TIMEOUT} s") from exc
    if not result_file.exists():
        raise AssertionError(
            f"{chain.where}: the runner died (exit {done.returncode})\n{done.stderr[-4000:]}"
        )
    result = json.loads(result_file.read_text())
    problems: list[str] = []
    if result["error"]:
        problems.append(f"{chain.where}: the block raised\n{result['error']}")
        problems.append(f"(stderr)\n{done.stderr[-3000:]}")
    outputs = {index: text for index, text in result["outputs"]}
    # print(...)  # expected
    for offset, block in enumerate(code_blocks):
        index = first + offset
        comments = _comments(block.text)
        printed = [(line, text) for i, line, text in result["prints"] if i == index]
        for line, text in printed:
            why = output_mismatch(comments[line], text)
            if why:
                problems.append(f"{block.page}:{block.first_line + line - 1}: {why}")
        if not result["error"]:
            ran = {line for line, _ in printed}
            for line in sorted(_expected_prints(block.text) - ran):
                problems.append(f"{block.page}:{block.first_line + line - 1}: never printed")
    # output blocks: what the blocks before them printed
    if not result["error"]:
        since = [outputs.get(program, "")] if program is not None else []
        index = first
        for block in chain.blocks:
            if block.directive and block.directive.kind == "output":
                why = output_mismatch(block.text, "".join(since))
                if why:
                    problems.append(f"{block.where}: output differs\n{why}")
                since = []
            else:
                since.append(outputs.get(index, ""))
                index += 1
    if problems:
        raise AssertionError("\n".join(problems))
