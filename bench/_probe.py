"""Why a turn was slow: what the collector, the CPU scheduler and the disk took of it.

A turn far above the median is either soni's doing (a lock held by a background
batch, a log copied in its commit) or not: Python's garbage collector paused the
process, or the machine had no core free for the process's threads. ``Probe`` reads,
before and after each timed turn (outside the timing, so the figures are not
slowed by it):

- the collector's pauses, from ``gc.callbacks`` (each collection's start and stop);
- the time this process's threads spent runnable but waiting for a core, from
  ``/proc/self/task/*/schedstat`` (Linux; the second field, nanoseconds);
- the process's CPU time, all threads (``time.process_time``);
- the machine's pressure: how long some task of the machine waited for a core, or
  for the disk (``/proc/pressure/cpu``, ``/proc/pressure/io``; Linux PSI, in µs).

``explain`` then sorts the turns slower than ``threshold`` times the median by what
covers at least half of their excess over the median, and prints the slowest.
"""

from __future__ import annotations

import gc
import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from _harness import row

__all__ = ("Probe", "Sample", "explain")


@dataclass(frozen=True, slots=True)
class Sample:
    """One timed turn and what happened during it, in seconds."""

    wall: float
    gc: float = 0.0
    gc_full: int = 0  # collections of the oldest generation
    runqueue: float = 0.0  # this process's threads, runnable without a core
    cpu: float = 0.0  # this process's CPU time
    machine_cpu: float = 0.0  # PSI "some": any task of the machine waiting for a core
    machine_io: float = 0.0  # PSI "some": any task waiting for the disk


@dataclass(slots=True)
class _Reading:
    gc: float
    gc_full: int
    runqueue: dict[str, int]
    cpu: float
    machine_cpu: int
    machine_io: int


@dataclass(slots=True)
class Probe:
    """Installs a ``gc.callbacks`` hook; ``read`` before and ``sample`` after a turn."""

    _gc_total: float = 0.0
    _gc_full: int = 0
    _gc_started: float | None = None
    _installed: bool = False
    samples: list[Sample] = field(default_factory=list)

    def install(self) -> None:
        if not self._installed:
            gc.callbacks.append(self._on_gc)
            self._installed = True

    def uninstall(self) -> None:
        if self._installed:
            gc.callbacks.remove(self._on_gc)
            self._installed = False

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        elif self._gc_started is not None:
            self._gc_total += time.perf_counter() - self._gc_started
            self._gc_started = None
            if info.get("generation") == 2:
                self._gc_full += 1

    def read(self) -> _Reading:
        return _Reading(
            self._gc_total, self._gc_full, _runqueue(), time.process_time(),
            _pressure("cpu"), _pressure("io"),
        )  # fmt: skip

    def sample(self, wall: float, before: _Reading) -> Sample:
        after = self.read()
        waited = sum(
            ns - before.runqueue.get(tid, 0) for tid, ns in after.runqueue.items()
        )  # a thread started during the turn waited all its time in it
        taken = Sample(
            wall=wall,
            gc=after.gc - before.gc,
            gc_full=after.gc_full - before.gc_full,
            runqueue=waited / 1e9,
            cpu=after.cpu - before.cpu,
            machine_cpu=(after.machine_cpu - before.machine_cpu) / 1e6,
            machine_io=(after.machine_io - before.machine_io) / 1e6,
        )
        self.samples.append(taken)
        return taken


def _runqueue() -> dict[str, int]:
    waits: dict[str, int] = {}
    try:
        for tid in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{tid}/schedstat") as stat:
                    waits[tid] = int(stat.read().split()[1])
            except (OSError, IndexError, ValueError):
                continue  # the thread ended meanwhile
    except OSError:
        pass  # not Linux: no figure
    return waits


def _pressure(resource: str) -> int:
    try:
        with open(f"/proc/pressure/{resource}") as stat:
            some = stat.readline().split()
    except OSError:
        return 0
    return int(some[-1].removeprefix("total="))


CAUSES = (
    ("the garbage collector", lambda s: s.gc),
    ("this process's threads waiting for a core", lambda s: s.runqueue),
    ("the machine's tasks waiting for the disk", lambda s: s.machine_io),
    # Any task of the machine: the database server's, or another program's.
    ("the machine's tasks waiting for a core", lambda s: s.machine_cpu),
)


def explain(label: str, samples: list[Sample], median: float, threshold: float = 3.0) -> None:
    """What the turns slower than ``threshold`` times ``median`` spent their excess on."""
    slow = sorted((s for s in samples if s.wall > threshold * median), key=lambda s: -s.wall)
    print(f"   {label}: {len(slow)} of {len(samples)} turns over {threshold:g}x the median")
    unexplained = list(slow)
    for name, part in CAUSES:
        covered = [s for s in unexplained if part(s) >= (s.wall - median) / 2]
        unexplained = [s for s in unexplained if s not in covered]
        if covered:
            print(f"     {len(covered):>4} with at least half the excess in {name}")
    if unexplained:
        print(f"     {len(unexplained):>4} with neither (their own work, a lock, I/O, ...)")
    for s in slow[:5]:
        print(
            f"     {s.wall * 1e3:6.1f} ms: gc {s.gc * 1e3:5.1f} ms"
            f"{' (full)' if s.gc_full else '       '}, threads waiting for a core"
            f" {s.runqueue * 1e3:5.1f} ms, process CPU {s.cpu * 1e3:5.1f} ms; machine: waiting for"
            f" a core {s.machine_cpu * 1e3:6.1f} ms, for the disk {s.machine_io * 1e3:5.1f} ms"
        )
    collected = [s for s in samples if s.gc > 0]
    if collected:
        longest = max(collected, key=lambda s: s.gc)
        full = sum(s.gc_full for s in samples)
        print(
            f"     the collector ran in {len(collected)} turns ({full} full collections);"
            f" its longest pause {longest.gc * 1e3:.1f} ms"
        )
    busy = sum(s.machine_cpu for s in samples) / sum(s.wall for s in samples)
    print(f"     some task of the machine waited for a core {busy:.0%} of the time")
    cpu = statistics.median(s.cpu for s in samples)
    row("  the process's CPU time in a turn, median", cpu * 1e3, "ms")
