# ruff: noqa: E402
"""How fast the ActionRegistry answers ``get``, alone and under threads.

Floors, measured in the same run:
- a plain dict lookup through a method (what a registry can at best cost);
- a naive registry that takes a lock per read and a second lock on a global hit
  (the design soni avoids).

Run: ``make bench`` or ``python bench/registry.py [--seconds 0.5]``.
"""

from __future__ import annotations

# This folder holds http.py (the HTTP benchmark): run as a script, it would shadow
# the standard library's http package. Keep the folder, but after the library.
import sys  # isort: skip
from pathlib import Path  # isort: skip

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE] + [str(_HERE)]

import argparse
import threading
from typing import Any

from _harness import banner, ns_per_call_each, row, threaded_rate
from soni import ActionRegistry

NAMES = [f"action_{i}" for i in range(200)]


def _handler() -> None:
    return None


class PlainDict:
    """The floor: one dict read through a method call."""

    def __init__(self, actions: dict[str, Any]) -> None:
        self._actions = actions

    def get(self, name: str) -> Any:
        return self._actions.get(name)


class NaiveLocked:
    """A lock per read, two locks when the name is global."""

    _global_lock = threading.Lock()
    _global: dict[str, Any] = {}  # noqa: RUF012 - mirrors a class-level global map

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local: dict[str, Any] = {}

    def get(self, name: str) -> Any:
        with self._lock:
            handler = self._local.get(name)
        if handler is None:
            with NaiveLocked._global_lock:
                handler = NaiveLocked._global.get(name)
        return handler

    def register_local(self, name: str, handler: Any) -> None:
        with self._lock:
            self._local[name] = handler


def _reader(get: Any) -> Any:
    def work(stop: threading.Event) -> int:
        n = 0
        names = NAMES
        while not stop.is_set():
            for name in names:
                get(name)
            n += len(names)
        return n

    return work


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=0.5, help="per threaded measurement")
    args = parser.parse_args()

    ActionRegistry.clear_global()
    for name in NAMES:
        ActionRegistry.register_global(name, _handler)
        NaiveLocked._global[name] = _handler
    soni = ActionRegistry()
    soni.register_local("local_one", _handler)
    naive = NaiveLocked()
    naive.register_local("local_one", _handler)
    plain = PlainDict({name: _handler for name in [*NAMES, "local_one"]})

    banner("ActionRegistry.get, one thread (ns per call, best of 9 interleaved rounds)")
    name = NAMES[100]
    ns = ns_per_call_each(
        {
            "plain": lambda: plain.get(name),
            "plain_miss": lambda: plain.get("no_such_action"),
            "soni_global": lambda: soni.get(name),
            "soni_local": lambda: soni.get("local_one"),
            "soni_miss": lambda: soni.get("no_such_action"),
            "naive_global": lambda: naive.get(name),
            "naive_local": lambda: naive.get("local_one"),
        }
    )
    floor = ns["plain"]
    row("plain dict lookup through a method, hit", floor, "ns")
    row("soni get, global hit", ns["soni_global"], "ns", floor, "plain dict hit")
    row("soni get, local hit", ns["soni_local"], "ns", floor, "plain dict hit")
    row("soni get, miss", ns["soni_miss"], "ns", ns["plain_miss"], "plain dict miss")
    row("naive locked get, global hit (2 locks)", ns["naive_global"], "ns", floor, "plain dict")
    row("naive locked get, local hit (1 lock)", ns["naive_local"], "ns", floor, "plain dict")
    row("naive global hit / soni global hit", ns["naive_global"] / ns["soni_global"], "x")

    banner(f"reads per second, threads reading for {args.seconds} s (total over all threads)")
    for threads in (1, 2, 4, 8):
        plain_rate = threaded_rate(_reader(plain.get), threads, args.seconds)
        soni_rate = threaded_rate(_reader(soni.get), threads, args.seconds)
        naive_rate = threaded_rate(_reader(naive.get), threads, args.seconds)
        row(
            f"soni, {threads} reader thread(s)",
            soni_rate / 1e6,
            "M/s",
            plain_rate / 1e6,
            f"plain dict, {threads} thread(s)",
        )
        row(
            f"naive locked, {threads} reader thread(s)",
            naive_rate / 1e6,
            "M/s",
            plain_rate / 1e6,
            f"plain dict, {threads} thread(s)",
        )

    def soni_writer(stop: threading.Event) -> int:
        registry = soni
        n = 0
        while not stop.is_set():
            registry.register_local(f"w{n % 16}", _handler)
            n += 1
        return n

    def naive_writer(stop: threading.Event) -> int:
        n = 0
        while not stop.is_set():
            naive.register_local(f"w{n % 16}", _handler)
            n += 1
        return n

    plain_mixed = threaded_rate(_reader(plain.get), 4, args.seconds)
    soni_mixed = threaded_rate(_reader(soni.get), 4, args.seconds, background=[soni_writer])
    naive_mixed = threaded_rate(_reader(naive.get), 4, args.seconds, background=[naive_writer])
    row(
        "soni, 4 readers + 1 writer",
        soni_mixed / 1e6,
        "M/s",
        plain_mixed / 1e6,
        "plain dict, 4 readers, no writer",
    )
    row(
        "naive locked, 4 readers + 1 writer",
        naive_mixed / 1e6,
        "M/s",
        plain_mixed / 1e6,
        "plain dict, 4 readers, no writer",
    )


if __name__ == "__main__":
    main()
