"""Finding the fenced code blocks of the docs, and the check each one declares.

A block declares its check with an HTML comment on the line just before its fence
(invisible on GitHub); see docs/contributing-docs.md for the kinds::

    <!-- check: run setup=server -->
    ```python
    ...
    ```
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Pages other people are writing right now: the harness skips them until they land.
# The lead empties this set once they do.
PENDING: set[str] = set()

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_DIRECTIVE = re.compile(r"^\s*<!--\s*check:\s*(?P<body>.*?)\s*-->\s*$")


@dataclass(frozen=True, slots=True)
class Directive:
    """``<!-- check: KIND [WORD ...] [key=value ...] -->``."""

    kind: str
    words: tuple[str, ...] = ()
    options: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, body: str) -> Directive:
        parts = shlex.split(body)
        if not parts:
            raise ValueError("an empty check directive")
        words: list[str] = []
        options: dict[str, str] = {}
        for part in parts[1:]:
            key, sep, value = part.partition("=")
            if sep and key.isidentifier():
                options[key] = value
            else:
                words.append(part)
        return cls(parts[0], tuple(words), options)


@dataclass(frozen=True, slots=True)
class Block:
    """One fenced block: where it is, its language, its text and its check."""

    page: str  # relative to the repository, e.g. "docs/server.md"
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    directive: Directive | None
    problem: str | None = None  # a malformed directive

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def first_line(self) -> int:
        """The page line of the block's first line of code."""
        return self.line + 1


def pages() -> list[str]:
    """Every page whose blocks must be checked."""
    found = ["README.md", "examples/README.md"]
    found += sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md"))
    return found


def blocks_of(page: str) -> list[Block]:
    lines = (ROOT / page).read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        fence = match["fence"]
        indent = len(match["indent"])
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines):
            stripped = lines[i].strip()
            if stripped.startswith(fence[0] * len(fence)) and set(stripped) == {fence[0]}:
                break
            line = lines[i]
            body.append(line[indent:] if line[:indent].strip() == "" else line.lstrip())
            i += 1
        i += 1
        directive, problem = None, None
        above = lines[start - 1] if start > 0 else ""
        found_directive = _DIRECTIVE.match(above)
        if found_directive:
            try:
                directive = Directive.parse(found_directive["body"])
            except ValueError as exc:
                problem = str(exc)
        text = "\n".join(body) + ("\n" if body else "")
        lang = match["info"].strip().split(" ")[0] if match["info"].strip() else ""
        found.append(Block(page, start + 1, lang, text, directive, problem))
    return found
