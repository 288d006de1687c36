"""What running conversation tests gives back: a result per test, a failure's context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from soni.errors import format_location

__all__ = ("ConversationResult", "Observed", "PendingSeen", "RunReport", "StepFailure")


@dataclass(frozen=True, slots=True)
class PendingSeen:
    """The confirmation a conversation waited for."""

    prompt: str
    options: tuple[str, ...]
    labels: tuple[str | None, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"prompt": self.prompt, "options": list(self.options), "labels": list(self.labels)}


@dataclass(frozen=True, slots=True)
class Observed:
    """What the bot had done when a step failed.

    Attributes:
        replies: The replies of the latest turn (a user message or a decision).
        checked: How many of them earlier ``bot`` steps had checked.
        pending: The open confirmation, if any.
        slots: The conversation's slots, as a test file writes values.
        flow: The active flow, if any.
        actions: The actions run in the latest turn (``name (failed: why)`` for a
            handler that raised).
    """

    replies: tuple[str, ...] = ()
    checked: int = 0
    pending: PendingSeen | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    flow: str | None = None
    actions: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "replies": list(self.replies),
            "checked": self.checked,
            "pending": self.pending.to_dict() if self.pending is not None else None,
            "slots": dict(self.slots),
            "flow": self.flow,
            "actions": list(self.actions),
        }


@dataclass(frozen=True, slots=True)
class StepFailure:
    """The step a test failed at.

    Attributes:
        index: The step's position in ``steps`` (1-based; 0 for the preset slots).
        step: The step as written (``bot: 'What is their IBAN?'``).
        line: Its line in the test file.
        expected: What the step expected, in words.
        actual: What the bot did instead, in words.
        observed: The conversation at that moment.
    """

    index: int
    step: str
    line: int | None
    expected: str
    actual: str
    observed: Observed

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "step": self.step,
            "line": self.line,
            "expected": self.expected,
            "actual": self.actual,
            "observed": self.observed.to_dict(),
        }

    def explain(self) -> str:
        """The failure as lines of text: the step, expected, actual, the context."""
        where = f" (line {self.line})" if self.line is not None else ""
        observed = self.observed
        lines = [
            f"step {self.index}{where}: {self.step}",
            f"  expected: {self.expected}",
            f"  actual:   {self.actual}",
            f"  replies:  {list(observed.replies)!r}",
        ]
        if observed.pending is not None:
            lines.append(
                f"  pending:  {list(observed.pending.options)} {observed.pending.prompt!r}"
            )
        else:
            lines.append("  pending:  none")
        lines.append(f"  flow:     {observed.flow or 'none'}")
        lines.append(f"  actions:  {', '.join(observed.actions) or 'none'}")
        lines.append(f"  slots:    {observed.slots!r}")
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class ConversationResult:
    """The outcome of one conversation test."""

    name: str
    file: str
    line: int | None
    failure: StepFailure | None = None
    duration: float = 0.0

    @property
    def passed(self) -> bool:
        return self.failure is None

    @property
    def location(self) -> str:
        return format_location(self.file, self.line)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "file": self.file,
            "line": self.line,
            "passed": self.passed,
            "duration": round(self.duration, 4),
            "failure": self.failure.to_dict() if self.failure is not None else None,
        }


@dataclass(frozen=True, slots=True)
class RunReport:
    """Every result of a run, in file order."""

    results: tuple[ConversationResult, ...]
    duration: float = 0.0

    @property
    def passed(self) -> int:
        return sum(1 for r in self.results if r.passed)

    @property
    def failed(self) -> int:
        return len(self.results) - self.passed

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def summary(self) -> str:
        """``12 passed, 1 failed in 0.84s``."""
        parts = [f"{self.passed} passed"]
        if self.failed:
            parts.append(f"{self.failed} failed")
        return f"{', '.join(parts)} in {self.duration:.2f}s"

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "failed": self.failed,
            "duration": round(self.duration, 4),
            "tests": [r.to_dict() for r in self.results],
        }
