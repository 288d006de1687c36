from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from soni import ActionRegistry
from soni.actions import ActionSpec
from soni.dsl import default_registry

from ._handlers import registered_by
from ._postgres import BACKENDS, postgres_database, postgres_with_schema, require_postgres

__all__ = ("postgres_database", "postgres_with_schema")  # fixtures for every test folder

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(autouse=True)
def _isolated_global_actions() -> Iterator[None]:
    """Each test starts with no global actions and leaves the process's map as it found it."""
    previous = ActionRegistry._replace_global({})
    try:
        yield
    finally:
        ActionRegistry._replace_global(previous)


@pytest.fixture(autouse=True)
def _isolated_default_validators() -> Iterator[None]:
    """Validators a test registers with ``@validator`` (a bot's handler module does,
    when it loads) do not outlive it."""
    previous = default_registry._replace(dict(default_registry._specs.current))
    try:
        yield
    finally:
        default_registry._replace(previous)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Where the bots of a test keep their state: a suite's fixtures that take it run on both.

    A test about SQLite itself is marked ``sqlite_only``; its ``postgres`` case is
    not collected (``pytest_collection_modifyitems`` below).
    """
    kind: str = request.param
    return kind


@pytest.fixture(scope="session")
def example_handlers() -> Mapping[str, ActionSpec]:
    """Every example bot's handlers, registered once by (re)running their modules."""
    return registered_by(sorted(EXAMPLES.glob("*/actions.py")))


@pytest.fixture
def handlers(example_handlers: Mapping[str, ActionSpec]) -> Mapping[str, ActionSpec]:
    """The examples' handlers, registered for this test."""
    # The autouse isolation fixture emptied the global map; put the examples back.
    ActionRegistry._replace_global(example_handlers)
    return example_handlers


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the headline figures the run's tests recorded (``record_property("figure", …)``).

    Read from the reports, which under xdist carry each worker's ``user_properties``.
    """
    figures: set[tuple[str, str]] = set()  # each phase's report repeats the properties
    for reports in terminalreporter.stats.values():
        for report in reports:
            if getattr(report, "when", None) != "call":
                continue
            for name, value in getattr(report, "user_properties", ()):
                if name == "figure":
                    figures.add((report.nodeid, str(value)))
    if figures:
        terminalreporter.section("figures")
        for nodeid, value in sorted(figures):
            terminalreporter.write_line(f"{value}  [{nodeid.rsplit('::', 1)[-1]}]")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "sqlite_only(reason): about SQLite's own files, or about something the storage plays"
        " no part in; not run on the postgres backend",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the ``postgres`` case of tests about SQLite's own files."""
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and callspec.params.get("backend") == "postgres"
        if on_postgres and item.get_closest_marker("sqlite_only") is not None:
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A ``postgres`` case without a PostgreSQL skips (fails under ``CI=true``) here.

    Before its fixtures run: a skip raised inside a fixture is reported at the test's
    line, one summary line per test; raised here, every case shares one line.
    """
    callspec = getattr(item, "callspec", None)
    if callspec is not None and callspec.params.get("backend") == "postgres":
        require_postgres()
