"""Importing a bot's handler modules: files, folders, packages and dotted names."""

import logging
import sys
import textwrap
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from soni import ActionLoadError, ActionRegistry, load_actions


@pytest.fixture(autouse=True)
def _forget_imported_modules(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Drop the modules a test imported, and keep bytecode out of tmp_path."""
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        del sys.modules[name]


def _unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def write(path: Path, source: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source).lstrip())
    return path


def registering(action: str, extra: str = "") -> str:
    """Source of a module that registers ``action`` globally."""
    return f"""
from soni import ActionRegistry
{extra}

@ActionRegistry.register({action!r})
def handler() -> dict:
    return {{"action": {action!r}}}
"""


def record_run(marker: Path) -> str:
    """Source lines that append a line to ``marker`` each time the module runs."""
    return f"""
with open({str(marker)!r}, "a") as _marker:
    _marker.write("ran\\n")
"""


def runs(marker: Path) -> int:
    return len(marker.read_text().splitlines()) if marker.exists() else 0


# -- files -----------------------------------------------------------------------


@pytest.mark.parametrize("as_str", [True, False], ids=["str", "path"])
def test_loading_a_file_registers_its_actions(tmp_path: Path, as_str: bool) -> None:
    file = write(tmp_path / "actions.py", registering("loaded_greet"))

    modules = load_actions(str(file) if as_str else file)

    assert len(modules) == 1
    handler = ActionRegistry().get("loaded_greet")
    assert handler is not None
    assert handler is modules[0].handler
    assert handler() == {"action": "loaded_greet"}


def test_loading_a_file_twice_runs_it_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    marker = tmp_path / "runs.txt"
    file = write(tmp_path / "actions.py", registering("once", extra=record_run(marker)))

    with caplog.at_level(logging.WARNING, logger="soni.actions"):
        first = load_actions(file)
        second = load_actions(str(file))

    assert runs(marker) == 1
    assert second[0] is first[0]
    assert caplog.records == []


def test_files_with_the_same_name_in_different_folders_are_both_loaded(tmp_path: Path) -> None:
    first = write(tmp_path / "bot_a" / "actions.py", registering("from_a"))
    second = write(tmp_path / "bot_b" / "actions.py", registering("from_b"))

    load_actions(first)
    load_actions(second)

    registry = ActionRegistry()
    assert "from_a" in registry
    assert "from_b" in registry


def test_a_file_can_import_its_sibling_module(tmp_path: Path) -> None:
    helpers = _unique("helpers")
    write(tmp_path / f"{helpers}.py", "def fee(amount):\n    return amount / 100\n")
    file = write(
        tmp_path / "actions.py",
        f"""
        from soni import ActionRegistry
        import {helpers}

        @ActionRegistry.register("fee")
        def fee(amount: float) -> dict:
            return {{"fee": {helpers}.fee(amount)}}
        """,
    )

    load_actions(file)

    handler = ActionRegistry().get("fee")
    assert handler is not None
    assert handler(amount=200) == {"fee": 2.0}
    assert str(tmp_path) not in sys.path


# -- folders ---------------------------------------------------------------------


def test_loading_a_package_folder_imports_every_submodule(tmp_path: Path) -> None:
    package = tmp_path / _unique("bot_actions")
    write(package / "__init__.py", registering("from_init"))
    write(package / "shared.py", "RATE = 0.5\n")
    write(
        package / "billing.py",
        """
        from soni import ActionRegistry
        from . import shared

        @ActionRegistry.register("charge")
        def charge(amount: float) -> dict:
            return {"charged": amount * shared.RATE}
        """,
    )
    write(package / "sub" / "__init__.py", "")
    write(package / "sub" / "deep.py", registering("deep"))

    modules = load_actions(package)

    registry = ActionRegistry()
    assert {"from_init", "charge", "deep"} <= set(registry.list_actions()["global"])
    charge = registry.get("charge")
    assert charge is not None
    assert charge(amount=4) == {"charged": 2.0}
    names = [module.__name__.rsplit(".", 1)[-1] for module in modules]
    assert names[0].startswith("bot_actions")
    assert sorted(names[1:]) == ["billing", "deep", "shared", "sub"]


def test_loading_a_package_folder_twice_runs_it_once(tmp_path: Path) -> None:
    marker = tmp_path / "runs.txt"
    package = tmp_path / _unique("bot_actions")
    write(package / "__init__.py", record_run(marker))
    write(package / "billing.py", registering("charge", extra=record_run(marker)))

    first = load_actions(package)
    second = load_actions(str(package))

    assert runs(marker) == 2
    assert [m.__name__ for m in second] == [m.__name__ for m in first]
    assert all(a is b for a, b in zip(first, second, strict=True))


def test_loading_a_plain_folder_imports_each_file(tmp_path: Path) -> None:
    folder = tmp_path / "handlers"
    write(folder / "billing.py", registering("charge"))
    write(folder / "greeting.py", registering("greet"))
    write(folder / "README.md", "not python\n")

    modules = load_actions(folder)

    assert len(modules) == 2
    assert {"charge", "greet"} <= set(ActionRegistry().list_actions()["global"])


def test_a_plain_folder_module_imported_by_a_sibling_runs_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # actions.py imports its sibling, which the folder scan then reaches too.
    marker = tmp_path / "runs.txt"
    folder = tmp_path / "handlers"
    helpers = _unique("helpers")
    write(folder / f"{helpers}.py", registering("shared_action", extra=record_run(marker)))
    write(folder / "actions.py", registering("main_action", extra=f"import {helpers}"))

    with caplog.at_level(logging.WARNING, logger="soni.actions"):
        load_actions(folder)

    assert {"main_action", "shared_action"} <= set(ActionRegistry().list_actions()["global"])
    assert runs(marker) == 1
    assert caplog.records == []


def test_a_package_folder_that_imports_itself_absolutely_runs_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    marker = tmp_path / "runs.txt"
    name = _unique("bot_actions")
    package = tmp_path / name
    write(package / "__init__.py", registering("from_init", extra=record_run(marker)))
    write(package / "shared.py", "RATE = 0.5\n")
    write(package / "billing.py", registering("charge", extra=f"from {name} import shared"))

    with caplog.at_level(logging.WARNING, logger="soni.actions"):
        load_actions(package)

    assert {"from_init", "charge"} <= set(ActionRegistry().list_actions()["global"])
    assert runs(marker) == 1
    assert caplog.records == []


def test_concurrent_loads_of_one_file_run_it_once(tmp_path: Path) -> None:
    marker = tmp_path / "runs.txt"
    file = write(tmp_path / "actions.py", registering("once", extra=record_run(marker)))
    barrier = threading.Barrier(8)
    loaded: list[ModuleType] = []
    errors: list[BaseException] = []

    def load() -> None:
        barrier.wait()
        try:
            loaded.extend(load_actions(file))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert runs(marker) == 1
    assert len(loaded) == 8
    assert all(module is loaded[0] for module in loaded)


# -- dotted names ----------------------------------------------------------------


def test_loading_a_dotted_package_imports_every_submodule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = _unique("dotted_actions")
    write(tmp_path / name / "__init__.py", "")
    write(tmp_path / name / "billing.py", registering("dotted_charge"))
    write(tmp_path / name / "greeting.py", registering("dotted_greet"))
    monkeypatch.syspath_prepend(str(tmp_path))

    modules = load_actions(name)

    assert [m.__name__ for m in modules] == [name, f"{name}.billing", f"{name}.greeting"]
    assert {"dotted_charge", "dotted_greet"} <= set(ActionRegistry().list_actions()["global"])


def test_loading_a_dotted_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = _unique("dotted_actions")
    write(tmp_path / name / "__init__.py", "")
    write(tmp_path / name / "billing.py", registering("dotted_charge"))
    write(tmp_path / name / "greeting.py", registering("dotted_greet"))
    monkeypatch.syspath_prepend(str(tmp_path))

    modules = load_actions(f"{name}.billing")

    assert [m.__name__ for m in modules] == [f"{name}.billing"]
    registry = ActionRegistry()
    assert "dotted_charge" in registry
    assert "dotted_greet" not in registry


# -- errors ----------------------------------------------------------------------


def test_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    file = write(tmp_path / "broken.py", "import os\n\ndef broken(:\n    pass\n")

    with pytest.raises(ActionLoadError) as info:
        load_actions(file)

    error = info.value
    assert isinstance(error.cause, SyntaxError)
    assert error.__cause__ is error.cause
    assert error.file is not None
    assert error.file.startswith(str(file))
    assert error.file.endswith(":3")
    assert f"{file}:3" in str(error)


def test_exception_at_import_names_the_file_and_line(tmp_path: Path) -> None:
    file = write(tmp_path / "raising.py", "x = 1\nraise RuntimeError('no database')\n")

    with pytest.raises(ActionLoadError) as info:
        load_actions(file)

    error = info.value
    assert isinstance(error.cause, RuntimeError)
    assert error.__cause__ is error.cause
    assert error.file == f"{file}:2"
    assert "RuntimeError: no database" in str(error)
    assert str(file) in str(error)


def test_sys_exit_at_import_is_a_load_error(tmp_path: Path) -> None:
    file = write(tmp_path / "exiting.py", "import sys\nsys.exit(3)\n")

    with pytest.raises(ActionLoadError) as info:
        load_actions(file)

    assert isinstance(info.value.cause, SystemExit)
    assert info.value.cause.code == 3
    assert str(file) in str(info.value)


@pytest.mark.parametrize("relative", ["missing.py", "missing_folder"])
def test_missing_file_or_folder_is_a_load_error(tmp_path: Path, relative: str) -> None:
    target = tmp_path / relative

    for given in (target, str(target)):
        with pytest.raises(ActionLoadError) as info:
            load_actions(given)
        assert str(target) in str(info.value)


def test_a_file_that_is_not_python_is_a_load_error(tmp_path: Path) -> None:
    file = write(tmp_path / "actions.txt", "print('hello')\n")

    with pytest.raises(ActionLoadError) as info:
        load_actions(file)

    assert str(file) in str(info.value)


def test_missing_dotted_module_is_a_load_error() -> None:
    name = _unique("no_such_actions")

    with pytest.raises(ActionLoadError) as info:
        load_actions(f"{name}.billing")

    assert isinstance(info.value.cause, ModuleNotFoundError)
    assert name in str(info.value)


def test_failing_submodule_of_a_package_folder_is_a_load_error(tmp_path: Path) -> None:
    package = tmp_path / _unique("bot_actions")
    write(package / "__init__.py", "")
    write(package / "good.py", registering("good"))
    bad = write(package / "bad.py", "raise ValueError('bad config')\n")

    with pytest.raises(ActionLoadError) as info:
        load_actions(package)

    assert isinstance(info.value.cause, ValueError)
    assert info.value.file == f"{bad}:1"
    assert str(bad) in str(info.value)


def test_exiting_submodule_of_a_dotted_package_is_a_load_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = _unique("dotted_actions")
    write(tmp_path / name / "__init__.py", "")
    write(tmp_path / name / "bad.py", "import sys\nsys.exit('stop')\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    with pytest.raises(ActionLoadError) as info:
        load_actions(name)

    assert isinstance(info.value.cause, SystemExit)
    assert f"{name}.bad" not in sys.modules


def _broken_file(tmp_path: Path) -> Path:
    return write(tmp_path / "half.py", registering("half") + "\nraise RuntimeError('late')\n")


def _broken_package(tmp_path: Path) -> Path:
    package = tmp_path / _unique("bot_actions")
    write(package / "__init__.py", "raise RuntimeError('init fails')\n")
    write(package / "billing.py", registering("charge"))
    return package


def _package_with_broken_submodule(tmp_path: Path) -> Path:
    package = tmp_path / _unique("bot_actions")
    write(package / "__init__.py", "")
    write(package / "billing.py", registering("charge") + "\nraise RuntimeError('late')\n")
    return package


def _broken_file_in_plain_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "handlers"
    write(folder / "billing.py", "raise RuntimeError('late')\n")
    return folder


@pytest.mark.parametrize(
    "make_target",
    [_broken_file, _broken_package, _package_with_broken_submodule, _broken_file_in_plain_folder],
)
def test_a_failed_load_fails_again_instead_of_returning_a_half_module(
    tmp_path: Path, make_target: object
) -> None:
    assert callable(make_target)
    target = make_target(tmp_path)

    with pytest.raises(ActionLoadError):
        load_actions(target)
    with pytest.raises(ActionLoadError):
        load_actions(target)


def test_a_failed_dotted_load_fails_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = _unique("dotted_actions")
    write(tmp_path / f"{name}.py", "raise RuntimeError('late')\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    for _ in range(2):
        with pytest.raises(ActionLoadError):
            load_actions(name)
    assert name not in sys.modules


def test_a_fixed_file_loads_after_a_failure(tmp_path: Path) -> None:
    file = write(tmp_path / "actions.py", "raise RuntimeError('not yet')\n")
    with pytest.raises(ActionLoadError):
        load_actions(file)

    write(file, registering("fixed"))
    load_actions(file)

    assert "fixed" in ActionRegistry()
