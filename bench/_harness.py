"""Small timing helpers shared by soni's benchmarks.

Every figure is printed next to a floor measured in the same run, as a ratio,
so a reader can judge it without knowing the machine.
"""

from __future__ import annotations

import gc
import os
import platform
import sys
import threading
import time
from collections.abc import Callable

__all__ = ("banner", "ns_per_call", "ns_per_call_each", "per_second", "row", "threaded_rate")


def banner(title: str) -> None:
    print(f"\n== {title}")
    print(
        f"   python {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} cores, {platform.system()} {platform.release()}"
    )


def ns_per_call(fn: Callable[[], object], number: int = 200_000, repeat: int = 7) -> float:
    """Best-of-``repeat`` nanoseconds per call of ``fn`` (loop overhead included)."""
    best = float("inf")
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            start = time.perf_counter_ns()
            for _ in range(number):
                fn()
            best = min(best, (time.perf_counter_ns() - start) / number)
    finally:
        if gc_was_enabled:
            gc.enable()
    return best


def ns_per_call_each(
    fns: dict[str, Callable[[], object]], number: int = 200_000, rounds: int = 9
) -> dict[str, float]:
    """Best nanoseconds per call of each function, measured in interleaved rounds.

    Interleaving puts every candidate and its floor through the same moments of
    machine noise, so their ratio holds even when absolute figures drift.
    """
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(rounds):
        for name, fn in fns.items():
            best[name] = min(best[name], ns_per_call(fn, number=number, repeat=1))
    return best


def per_second(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def threaded_rate(
    worker: Callable[[threading.Event], int],
    threads: int,
    seconds: float,
    background: list[Callable[[threading.Event], int]] | None = None,
) -> float:
    """Total operations per second of ``threads`` copies of ``worker`` running for ``seconds``.

    ``worker(stop)`` loops until ``stop`` is set and returns how many operations it
    did. ``background`` workers run alongside and are not counted.
    """
    stop = threading.Event()
    counts: list[int] = []
    lock = threading.Lock()

    def run(fn: Callable[[threading.Event], int], counted: bool) -> None:
        n = fn(stop)
        if counted:
            with lock:
                counts.append(n)

    pool = [threading.Thread(target=run, args=(worker, True)) for _ in range(threads)]
    pool += [threading.Thread(target=run, args=(fn, False)) for fn in background or []]
    start = time.perf_counter()
    for t in pool:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in pool:
        t.join()
    return per_second(sum(counts), time.perf_counter() - start)


def row(
    label: str, value: float, unit: str, floor: float | None = None, floor_label: str = ""
) -> None:
    """One line: the figure, its floor, and the ratio figure/floor."""
    text = f"   {label:<44} {value:>12,.1f} {unit}"
    if floor is not None:
        ratio = value / floor if floor else float("inf")
        text += f"   floor {floor:>12,.1f} {unit} ({floor_label})   ratio {ratio:5.2f}x"
    print(text)
    sys.stdout.flush()
