"""Running conversation tests: each on a freshly loaded bot with its state in memory.

Every test gets its own ``Bot`` (``db=":memory:"``), action registry and clock, so
no test can see another's conversation, stubs or moved time, and the order they
run in does not matter. Loading a bot takes milliseconds; the test file is checked
against the bot (actions, slots, flows it names) before the first test runs.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from soni.actions import ActionRegistry
from soni.actions.spec import Handler
from soni.dsl.errors import ConfigError
from soni.dsl.models import zone_of
from soni.engine import Bot
from soni.testing.checks import BotNames, check_references
from soni.testing.conversation import Conversation, Mismatch
from soni.testing.errors import ConversationTestErrors
from soni.testing.loading import ConversationTestFile, discover, load_test_files
from soni.testing.models import ConversationTest
from soni.testing.observing import RunRecorder, TestClock, make_stub
from soni.testing.results import ConversationResult, Observed, RunReport, StepFailure

__all__ = ("run_file", "run_test", "run_tests")

OnResult = Callable[[ConversationResult], None]


async def run_tests(
    bot: str | os.PathLike[str],
    files: Iterable[str | os.PathLike[str] | ConversationTestFile] | None = None,
    *,
    on_result: OnResult | None = None,
    **load_options: Any,
) -> RunReport:
    """Run test files against ``bot``; by default its ``tests/*.yaml``.

    Args:
        bot: The bot folder or file.
        files: Test files (paths, or files already loaded).
        on_result: Called with each result as soon as its test has run.
        load_options: Passed on to ``Bot.load`` (``actions``, ``understanding``).

    Raises:
        ConversationTestErrors: a test file is malformed, or names what the bot
            does not have; no test has run then.
        ConfigErrors: the bot itself has errors.
    """
    started = time.perf_counter()
    chosen = list(discover(bot) if files is None else files)
    paths = [f for f in chosen if not isinstance(f, ConversationTestFile)]
    parsed = iter(load_test_files(paths))
    loaded = [f if isinstance(f, ConversationTestFile) else next(parsed) for f in chosen]
    checked: list[tuple[ConversationTestFile, dict[str, Handler]]] = []
    errors: list[ConfigError] = []
    for file in loaded:
        originals, problems = await _prepare(bot, file, None, load_options)
        checked.append((file, originals))
        errors += problems
    if errors:
        raise ConversationTestErrors(errors)
    results: list[ConversationResult] = []
    for file, originals in checked:
        indexes = range(len(file.tests))
        results += await _run_all(bot, file, indexes, originals, on_result, load_options)
    return RunReport(tuple(results), time.perf_counter() - started)


async def run_file(
    bot: str | os.PathLike[str],
    file: ConversationTestFile,
    *,
    on_result: OnResult | None = None,
    **load_options: Any,
) -> list[ConversationResult]:
    """Run every test of one loaded file.

    Raises:
        ConversationTestErrors, ConfigErrors: as for ``run_tests``.
    """
    originals = _checked(await _prepare(bot, file, None, load_options))
    indexes = range(len(file.tests))
    return await _run_all(bot, file, indexes, originals, on_result, load_options)


async def run_test(
    bot: str | os.PathLike[str], file: ConversationTestFile, index: int, **load_options: Any
) -> ConversationResult:
    """Run the test at ``index`` of ``file`` alone.

    Raises:
        ConversationTestErrors, ConfigErrors: as for ``run_tests``, for this test.
    """
    originals = _checked(await _prepare(bot, file, [index], load_options))
    return await _run_one(bot, file, index, originals, load_options)


async def _run_all(
    bot: str | os.PathLike[str],
    file: ConversationTestFile,
    indexes: Iterable[int],
    originals: Mapping[str, Handler],
    on_result: OnResult | None,
    load_options: Mapping[str, Any],
) -> list[ConversationResult]:
    results: list[ConversationResult] = []
    for index in indexes:
        result = await _run_one(bot, file, index, originals, load_options)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


async def _prepare(
    bot: str | os.PathLike[str],
    file: ConversationTestFile,
    tests: Sequence[int] | None,
    load_options: Mapping[str, Any],
) -> tuple[dict[str, Handler], list[ConfigError]]:
    """The real handlers of the actions ``file`` stubs, and what the bot lacks for it.

    The bot is loaded once here, with a stand-in for every stubbed action so that
    a handler that exists only as a stub does not stop it from loading.
    """
    indexes = range(len(file.tests)) if tests is None else tests
    stubbed = {name for i in indexes for name in file.tests[i].stub_actions}
    registry = ActionRegistry()
    for name in stubbed:
        registry.register_local(name, make_stub(name, None, None))
    reference = await Bot.load(Path(bot), db=":memory:", registry=registry, **load_options)
    try:
        errors: list[ConfigError] = check_references(file, BotNames.of(reference.engine), indexes)
    finally:
        await reference.aclose()
    real = ActionRegistry()  # the global handlers only: the bot's own, now imported
    handlers = {name: spec.handler for name in stubbed if (spec := real.get_spec(name))}
    # An action with no handler at all loads only where a test stubs it: a test of
    # the same file that does not would stop the run half-way. Said before any runs.
    only_stubs = stubbed - handlers.keys()
    for i in indexes:
        lacking = sorted(only_stubs - file.tests[i].stub_actions.keys())
        if lacking:
            message = (
                f"test {file.tests[i].name!r}: the bot has no handler for "
                f"{', '.join(lacking)}; stub it in this test too (stub_actions)"
            )
            errors.append(ConfigError(str(file.path), file.test_line(i), None, message))
    return handlers, errors


def _checked(prepared: tuple[dict[str, Handler], list[ConfigError]]) -> dict[str, Handler]:
    handlers, errors = prepared
    if errors:
        raise ConversationTestErrors(errors)
    return handlers


async def _run_one(
    bot: str | os.PathLike[str],
    file: ConversationTestFile,
    index: int,
    originals: Mapping[str, Handler],
    load_options: Mapping[str, Any],
) -> ConversationResult:
    test = file.tests[index]
    started = time.perf_counter()
    registry = ActionRegistry()
    for name, result in test.stub_actions.items():
        registry.register_local(name, make_stub(name, result, originals.get(name)))
    loaded = await Bot.load(Path(bot), db=":memory:", registry=registry, **load_options)
    clock = TestClock(_noon_of(test.today, loaded.timezone) if test.today else None)
    # The confirmations read their clock on every call: from now on, this one.
    loaded.confirmations.clock = clock
    runs = RunRecorder(loaded)
    conversation = Conversation(loaded, runs, clock, f"test-{index + 1}")
    try:
        failure = await _play(conversation, file, index, test)
    finally:
        runs.close()
        await loaded.aclose()
    return ConversationResult(
        test.name, file.path, file.test_line(index), failure, time.perf_counter() - started
    )


async def _play(
    conversation: Conversation, file: ConversationTestFile, index: int, test: ConversationTest
) -> StepFailure | None:
    """Play the test's steps; the first that fails, as a ``StepFailure``."""
    if test.slots:
        where = file.locate("tests", index, "slots").line
        mismatch = await _guarded(conversation.preset(test.slots))
        if mismatch is not None:
            shown = ", ".join(f"{k}: {v!r}" for k, v in test.slots.items())
            return await _failure(conversation, 0, f"slots: {{{shown}}}", where, mismatch)
    for position, step in enumerate(test.steps):
        seen = len(conversation.bot.wiring_problems)
        mismatch = await _guarded(conversation.run(step))
        if mismatch is None and len(conversation.bot.wiring_problems) > seen:
            # A handler's result that does not fit its declaration fails the test
            # where it happened: at run time it is only a log line.
            wrong = "; ".join(conversation.bot.wiring_problems[seen:])
            mismatch = Mismatch("handlers to return what their actions declare", wrong)
        if mismatch is not None:
            line = file.step_line(index, position)
            return await _failure(conversation, position + 1, step.describe(), line, mismatch)
    return None


async def _guarded(step: Awaitable[Mismatch | None]) -> Mismatch | None:
    try:
        result = await step
    except Exception as exc:  # a step that blew up fails its test; the others still run
        return Mismatch("the step to run", f"it raised {type(exc).__name__}: {exc}")
    return result


async def _failure(
    conversation: Conversation, index: int, step: str, line: int | None, mismatch: Mismatch
) -> StepFailure:
    try:
        observed = await conversation.observe()
    except Exception:  # the state cannot be read: report the step anyway
        observed = Observed()
    return StepFailure(index, step, line, mismatch.expected, mismatch.actual, observed)


def _noon_of(day: dt.date, zone: str | None) -> dt.datetime:
    """Noon of ``day`` where the bot's users are (UTC when the bot names no zone)."""
    where = zone_of(zone) if zone else dt.UTC
    return dt.datetime.combine(day, dt.time(12), tzinfo=where)
