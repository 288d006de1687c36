"""Every fenced code block of README.md, examples/README.md and docs/*.md is exercised.

Each block says how with an HTML comment on the line just before its fence:
``<!-- check: KIND [WORDS] [key=value] -->``. The kinds:

- ``run [setup=NAME]`` (python): run in a new process, in a fresh folder holding a
  copy of ``examples/``, top-level ``await`` allowed; ``print(x)  # text`` must
  print ``text`` (``_python.py``).
- ``continue`` (python): run after the page's previous run/continue blocks, in
  the same process.
- ``output [setup=NAME]``: what the chain above printed, or the setup's program.
- ``console [setup=NAME]``: each ``$ `` command run (``soni``), replayed
  (``curl``, with httpx against a real server) or applied (``export``); a page's
  console blocks are one session (``_shell.py``).
- ``ws``: a ``→``/``←`` WebSocket transcript replayed against a real server.
- ``yaml bot [prelude=minimal|steps]``: loaded as ``Bot.load`` does, handlers
  stubbed; ``yaml labeled-set BOT_DIR``: an NLU labelled set checked against a bot.
- ``json MODEL``: each value validated: a pydantic model's dotted path,
  ``ws-frame``, ``ws-payload``, ``problem`` or ``llm-answer`` (``_static.py``).
- ``same-as PATH``: the block's lines are in that file, in order.
- ``signature MODULE``: each ``name(params)`` line is ``inspect.signature``'s.

A block without a check, or with another kind, fails. ``…`` elides in every
expected output (``_match.py``). docs/contributing-docs.md tells doc writers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ._blocks import PENDING, Block, blocks_of, pages
from ._python import Chain, run_chain, workspace
from ._shell import Session
from ._static import check_json, check_same_as, check_signature, check_yaml
from ._ws import replay

STATIC = {"yaml", "json", "same-as", "signature"}
KINDS = {"run", "continue", "output", "console", "ws", *STATIC}


@dataclass
class Unit:
    """What one test exercises: a block, a chain of Python blocks, or a console session."""

    kind: str
    page: str
    blocks: list[Block] = field(default_factory=list)
    setup: str | None = None
    problem: str | None = None

    @property
    def id(self) -> str:
        line = self.blocks[0].line if self.blocks else 0
        return f"{self.page}:{line}:{self.kind}"


def _units() -> Iterator[Unit]:
    for page in pages():
        if page in PENDING:
            yield Unit("pending", page)
            continue
        chain: Unit | None = None
        sessions: dict[tuple[str | None, str | None], Unit] = {}
        for block in blocks_of(page):
            directive = block.directive
            if directive is None or block.problem:
                why = block.problem or "no <!-- check: ... --> comment on the line above"
                yield Unit("unchecked", page, [block], problem=why)
                continue
            kind, setup = directive.kind, directive.options.get("setup")
            if kind not in KINDS:
                yield Unit("unchecked", page, [block], problem=f"unknown check kind {kind!r}")
            elif kind == "run" or (kind == "output" and setup):
                chain = Unit("python", page, [block], setup=setup)
                yield chain
            elif kind in ("continue", "output"):
                if chain is None:
                    yield Unit("unchecked", page, [block], problem=f"{kind} without a run above")
                else:
                    chain.blocks.append(block)
            elif kind == "console":
                # A page's console blocks with the same setup are one session, unless
                # they name another (session=NAME): separate sessions run in parallel.
                key = (setup, directive.options.get("session"))
                if key not in sessions:
                    sessions[key] = Unit("console", page, setup=setup)
                    yield sessions[key]
                sessions[key].blocks.append(block)
            else:
                yield Unit(kind, page, [block])


UNITS = list(_units())


@pytest.mark.parametrize("unit", UNITS, ids=[u.id for u in UNITS])
def test_block(unit: Unit, tmp_path: Path) -> None:
    if unit.kind == "pending":
        pytest.skip(f"{unit.page} is being written; listed in PENDING")
    if unit.kind == "unchecked":
        pytest.fail(f"{unit.blocks[0].where}: {unit.problem}")
    if unit.kind == "python":
        run_chain(Chain(unit.blocks, unit.setup), tmp_path)
    elif unit.kind == "console":
        session = Session(workspace(tmp_path), unit.setup)
        try:
            problems: list[str] = []
            for block in unit.blocks:
                problems += session.check_block(block.text, block.first_line, block.page)
        finally:
            session.close()
        assert not problems, "\n\n".join(problems)
    elif unit.kind == "ws":
        (block,) = unit.blocks
        session = Session(workspace(tmp_path), None)
        try:
            session.start_default_server()
            url = f"ws://127.0.0.1:{session.ports[8000]}/ws"
            problems = replay(block.text, block.first_line, block.page, url)
        finally:
            session.close()
        assert not problems, "\n\n".join(problems)
    elif unit.kind == "yaml":
        check_yaml(unit.blocks[0], tmp_path)
    elif unit.kind == "json":
        check_json(unit.blocks[0])
    elif unit.kind == "same-as":
        check_same_as(unit.blocks[0])
    elif unit.kind == "signature":
        check_signature(unit.blocks[0])
    else:  # pragma: no cover - _units yields only the kinds above
        raise AssertionError(unit.kind)


def test_every_page_is_collected() -> None:
    """New pages under docs/ are picked up without registering them anywhere."""
    found = pages()
    assert {"README.md", "examples/README.md", "docs/server.md"} <= set(found)
    assert all(page.endswith(".md") for page in found)
