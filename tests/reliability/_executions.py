"""The executions file the reliability bots' handlers append to: what really ran."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ("Execution", "Executions")


@dataclass(frozen=True, slots=True)
class Execution:
    """One handler run, as the handler recorded it before returning."""

    action: str
    key: str
    conversation: str
    pid: int


class Executions:
    """Reads the file; every handler run is one JSON line, fsynced before the handler returns."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> list[Execution]:
        if not self.path.exists():
            return []
        return [
            Execution(**json.loads(line))
            for line in self.path.read_text().splitlines()
            if line.strip()
        ]

    def count(self, key: str) -> int:
        """How many times a run with this idempotency key happened."""
        return sum(1 for run in self.read() if run.key == key)

    def of(self, key: str) -> list[Execution]:
        return [run for run in self.read() if run.key == key]

    def doubles(self, *, safe_to_repeat: Iterable[str] = ()) -> dict[str, int]:
        """Idempotency keys run more than once, except by actions declared safe to repeat."""
        allowed = set(safe_to_repeat)
        counts = Counter(run.key for run in self.read() if run.action not in allowed)
        return {key: n for key, n in counts.items() if n > 1}
