"""soni's packages import only the layers below them (docs/architecture.md).

Every import in ``src/soni`` is read — at module level, inside functions and under
``TYPE_CHECKING`` alike — and each package may import a package of a lower layer
only; ``soni.client`` only the errors and the wire format, so a client-only program
pulls in no engine. No module imports another package's private module or name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "soni"

LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"errors"}),
    frozenset({"postgres", "remote", "wire"}),
    frozenset({"actions"}),
    frozenset({"dsl"}),
    frozenset({"nlu"}),
    frozenset({"confirmations"}),
    frozenset({"storage"}),
    frozenset({"engine"}),
    frozenset({"sessions"}),
    frozenset({"server", "testing"}),
    frozenset({"cli"}),
)
"""Bottom first: a package may import the packages of the layers before its own (the
command line, on top, also ``soni`` itself, for its version)."""

ONLY: dict[str, frozenset[str]] = {
    "client": frozenset({"errors", "wire"}),
    "validation": frozenset({"actions"}),
    "worker": frozenset(
        {"actions", "errors", "remote", "wire"}
    ),  # a worker runs no bot  # soni 1.0's validator registry, kept
}
"""Packages outside the stack, with all they may import."""

ROOT = frozenset({"__init__", "__main__"})
"""``soni`` itself (its public names) and ``python -m soni``: they may import anything."""


def package_of(file: Path) -> str:
    parts = file.relative_to(SRC).parts
    return parts[0] if len(parts) > 1 else file.stem


def imports(file: Path) -> Iterator[tuple[int, str, list[str]]]:
    """Each ``soni.…`` import: its line, the module, and the names taken from it."""
    for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"), str(file))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("soni."):
                    yield node.lineno, alias.name, []
        elif (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and node.module
            and (node.module.startswith("soni.") or node.module == "soni")
        ):
            yield node.lineno, node.module, [a.name for a in node.names]


def may_import(package: str) -> frozenset[str]:
    if package in ONLY:
        return ONLY[package]
    for index, layer in enumerate(LAYERS):
        if package in layer:
            below = frozenset().union(*LAYERS[:index])
            # The command line, on top, uses the client too (soni watch, soni chat --url).
            return below | frozenset(ONLY) if layer is LAYERS[-1] else below
    raise AssertionError(
        f"soni.{package} is in no layer: place it in LAYERS or ONLY (tests/test_layering.py) "
        "and in docs/architecture.md"
    )


SOURCES = sorted(SRC.rglob("*.py"))


def test_every_package_has_a_place() -> None:
    packages = {package_of(file) for file in SOURCES} - ROOT
    for package in packages:
        may_import(package)


@pytest.mark.parametrize("file", SOURCES, ids=lambda f: str(f.relative_to(SRC)))
def test_a_package_imports_only_the_layers_below_it(file: Path) -> None:
    package = package_of(file)
    if package in ROOT:
        return
    allowed = may_import(package) | ({""} if package == "cli" else set())
    wrong = [
        f"{file.relative_to(SRC.parent)}:{line}: soni.{package} imports {module}"
        for line, module, _ in imports(file)
        if [*module.split("."), ""][1] not in allowed | {package}
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("file", SOURCES, ids=lambda f: str(f.relative_to(SRC)))
def test_no_module_reaches_into_another_packages_private_parts(file: Path) -> None:
    package = package_of(file)
    wrong = []
    for line, module, names in imports(file):
        parts = module.split(".")
        if len(parts) < 2 or parts[1] == package:
            continue
        private = [p for p in parts[1:] if p.startswith("_")] + [
            n for n in names if n.startswith("_") and not n.startswith("__")
        ]
        if private:
            wrong.append(f"{file.relative_to(SRC.parent)}:{line}: {module} {private}")
    assert not wrong, "\n".join(wrong)


def test_the_rule_catches_an_upward_import(tmp_path: Path) -> None:
    # The check above is only as good as its reading of imports: an engine import
    # written inside a function of the dsl is found.
    source = tmp_path / "example.py"
    source.write_text("def f():\n    from soni.engine.runtime import Bot\n    return Bot\n")

    found = [(line, module) for line, module, _ in imports(source)]

    assert found == [(2, "soni.engine.runtime")]
    assert "engine" not in may_import("dsl")
