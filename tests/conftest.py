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


TESTS = Path(__file__).resolve().parent

SUITE_BY_PATH = {
    "docs/": "docs",
    # The web pages in a real browser, against a real server (tests/web/conftest.py).
    "web/": "server",
    # The fault suites: `make reliability` runs them at audit size (SONI_FAULT_SCALE=full).
    "reliability/": "faults",
    "scale/": "faults",
    "server/test_openapi_contract.py": "faults",
    "server/test_access_matrix.py": "faults",
    "server/test_malformed_input.py": "faults",
}
"""Folders and files (under tests/) whose every test carries a suite's marker. The
markers are described in pyproject.toml; ``make test-fast`` leaves these suites out,
``make test`` runs them."""

SUITE_BY_FIXTURE = {
    "serve": "server",  # a real uvicorn server on 127.0.0.1 (tests/server/conftest.py)
    "fake_server": "server",  # the client's fake endpoint, on real uvicorn too
    "served": "server",  # `soni serve` processes (tests/cli/test_serve_workers.py)
    "postgres_database": "postgres",
    "postgres_with_schema": "postgres",
    "model": "embeddings",  # the embeddings extra and its model (tests/nlu/embeddings)
    "encoder": "embeddings",
}
"""Fixtures that make a test part of a suite: whatever asks for them needs what they start."""


def _suites(item: pytest.Item) -> set[str]:
    """The suite markers a test gets from its path, its fixtures and its backend."""
    where = item.path.relative_to(TESTS).as_posix() if item.path.is_relative_to(TESTS) else ""
    suites = {suite for path, suite in SUITE_BY_PATH.items() if where.startswith(path)}
    fixtures = SUITE_BY_FIXTURE.keys() & set(getattr(item, "fixturenames", ()))
    suites.update(SUITE_BY_FIXTURE[name] for name in fixtures)
    if item.get_closest_marker("in_process") is not None:
        suites.discard("server")  # ``serve`` serves its app in process
    # The postgres case of a suite run on several storages (``backend``, ``store_kind``,
    # a module's own ``db``): a parameter whose value is "postgres".
    callspec = getattr(item, "callspec", None)
    if callspec is not None and any(value == "postgres" for value in callspec.params.values()):
        suites.add("postgres")
    return suites


def _on_postgres(item: pytest.Item) -> bool:
    """Whether this is the ``postgres`` case of a test run on both backends."""
    callspec = getattr(item, "callspec", None)
    return callspec is not None and callspec.params.get("backend") == "postgres"


@pytest.hookimpl(tryfirst=True)  # before ``-m`` selects by these markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with its suites; leave out the ``postgres`` case of tests about
    SQLite's own files."""
    kept, dropped = [], []
    for item in items:
        for suite in sorted(_suites(item)):
            item.add_marker(suite)
        if _on_postgres(item) and item.get_closest_marker("sqlite_only") is not None:
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
    if _on_postgres(item):
        require_postgres()
