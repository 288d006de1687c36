"""Importing the modules that register a bot's handlers."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import pkgutil
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from os import PathLike
from pathlib import Path
from types import ModuleType

from soni.actions.errors import ActionLoadError

__all__ = ("load_actions",)

# Imports run module code that registers actions; one at a time keeps sys.path
# edits and sys.modules bookkeeping coherent when several bots load at once.
_import_lock = threading.RLock()


def load_actions(target: str | PathLike[str]) -> list[ModuleType]:
    """Import handler modules so their ``@ActionRegistry.register`` decorators run.

    ``target`` is a ``.py`` file, a folder (a package with ``__init__.py`` or a plain
    folder of ``.py`` files), or a dotted module name; a package is imported with
    all its submodules. Loading the same target again returns the modules already
    imported, without running them twice.

    Returns:
        The modules imported, in import order.

    Raises:
        ActionLoadError: the target does not exist or a module failed to import;
            the error names the file and carries the original exception.
    """
    text = str(target)
    path = Path(text)
    with _import_lock:
        if isinstance(target, PathLike) or text.endswith(".py") or path.exists():
            if not path.exists():
                raise ActionLoadError(text, FileNotFoundError(f"no such file or folder: {text}"))
            if path.is_file():
                return [_import_file(path.resolve(), text)]
            return _import_folder(path.resolve(), text)
        return _import_dotted(text)


def _module_name(path: Path) -> str:
    # Stable per file, so a second load finds the first in sys.modules, and
    # distinct across bots that all name their file actions.py.
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    stem = "".join(c if c.isalnum() else "_" for c in path.stem)
    return f"soni_user_actions.{stem}_{digest}"


def _ensure_root() -> None:
    if "soni_user_actions" not in sys.modules:
        root = ModuleType("soni_user_actions")
        root.__path__ = []
        sys.modules["soni_user_actions"] = root


@contextmanager
def _on_path(folder: Path) -> Iterator[None]:
    """Let a bot's handler file import its sibling modules (``import helpers``)."""
    entry = str(folder)
    added = entry not in sys.path
    if added:
        sys.path.insert(0, entry)
    try:
        yield
    finally:
        if added:
            with suppress(ValueError):
                sys.path.remove(entry)


def _exec(
    module: ModuleType, spec: importlib.machinery.ModuleSpec, target: str, file: Path
) -> None:
    sys.modules[module.__name__] = module
    try:
        assert spec.loader is not None
        spec.loader.exec_module(module)
    except KeyboardInterrupt:
        del sys.modules[module.__name__]
        raise
    except BaseException as exc:  # SystemExit too: a bad module must not end the process
        sys.modules.pop(module.__name__, None)
        raise ActionLoadError(target, exc, *_where(exc, file)) from exc


def _where(exc: BaseException, default: str | Path | None) -> tuple[str | None, int | None]:
    """The file and line of the user code that raised, as precisely as the error allows."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return exc.filename, exc.lineno or None
    tb = exc.__traceback__
    place: tuple[str, int] | None = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if not filename.startswith("<frozen ") and "importlib" not in filename:
            place = (filename, tb.tb_lineno)
        tb = tb.tb_next
    if place is not None and place[0] != __file__:
        return place
    return (str(default) if default is not None else None), None


def _imported_from(path: Path) -> ModuleType | None:
    """A module already imported from ``path`` under any name (a sibling's ``import x``)."""
    wanted = str(path)
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if file is not None and file == wanted:
            return module
    return None


def _name_is_free(name: str, file: Path) -> bool:
    """Whether ``name`` can be used for ``file``: unused, or already that very file."""
    if not name.isidentifier():
        return False
    current = sys.modules.get(name)
    if current is not None:
        return getattr(current, "__file__", None) == str(file)
    try:
        found = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return False
    # Nothing else answers to the name on sys.path (or only this very file does).
    return found is None or found.origin == str(file)


def _import_file(path: Path, target: str, name: str | None = None) -> ModuleType:
    existing = _imported_from(path)
    if existing is not None:
        return existing
    name = name or _module_name(path)
    _ensure_root()
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ActionLoadError(target, ImportError(f"not a Python module: {path}"))
    module = importlib.util.module_from_spec(spec)
    with _on_path(path.parent):
        _exec(module, spec, target, path)
    return module


def _import_folder(folder: Path, target: str) -> list[ModuleType]:
    init = folder / "__init__.py"
    if not init.exists():
        # The files of a plain folder import each other by plain name (``import
        # helpers``), so they are imported under those names too: each runs once.
        files = sorted(p for p in folder.glob("*.py") if not p.name.startswith("_"))
        with _on_path(folder):
            return [
                _import_file(p, target, p.stem if _name_is_free(p.stem, p) else None) for p in files
            ]

    with _on_path(folder.parent):
        if _name_is_free(folder.name, init):
            # Imported by its own name, so the package's absolute imports of itself
            # (``from mypkg import shared``) find this copy instead of making another.
            return _import_dotted(folder.name, target)
        # The name belongs to another module: load this package under a private one.
        name = _module_name(folder)
        package = sys.modules.get(name)
        if package is None:
            _ensure_root()
            spec = importlib.util.spec_from_file_location(
                name, init, submodule_search_locations=[str(folder)]
            )
            if spec is None or spec.loader is None:
                raise ActionLoadError(target, ImportError(f"not a Python package: {folder}"))
            package = importlib.util.module_from_spec(spec)
            _exec(package, spec, target, init)
        return [package, *_import_submodules(package, target)]


def _import_dotted(name: str, target: str | None = None) -> list[ModuleType]:
    try:
        module = importlib.import_module(name)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        raise ActionLoadError(target or name, exc, *_where(exc, None)) from exc
    return [module, *_import_submodules(module, target or name)]


def _import_submodules(package: ModuleType, target: str) -> list[ModuleType]:
    if not hasattr(package, "__path__"):
        return []
    modules: list[ModuleType] = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        full = f"{package.__name__}.{info.name}"
        try:
            module = importlib.import_module(full)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            raise ActionLoadError(target, exc, *_where(exc, full)) from exc
        modules.append(module)
        modules.extend(_import_submodules(module, target))
    return modules
