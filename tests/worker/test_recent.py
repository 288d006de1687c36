"""Recent keys: an idempotency key's outcome is kept for a while and a bounded number of
keys; a run under way is never forgotten."""

from __future__ import annotations

import pytest

from soni.worker.recent import Outcome, RecentKeys


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def ok(n: int) -> Outcome:
    return Outcome({"type": "response", "ok": True, "result": {"n": n}})


async def test_a_new_key_is_the_callers_to_run_and_a_second_claim_waits_for_it() -> None:
    recent = RecentKeys(ttl=60, limit=10)
    first, mine = recent.claim("k")
    second, also_mine = recent.claim("k")

    assert mine and not also_mine
    assert second is first and not first.done()
    recent.settle("k", ok(1))
    assert (await second).payload["result"] == {"n": 1}


async def test_a_recorded_outcome_is_returned_until_it_expires() -> None:
    clock = FakeClock()
    recent = RecentKeys(ttl=60, limit=10, clock=clock)
    recent.claim("k")
    recent.settle("k", ok(1))

    clock.now = 59.0
    future, mine = recent.claim("k")
    assert not mine and future.result() == ok(1)

    clock.now = 60.0
    _, mine = recent.claim("k")
    assert mine  # forgotten: it runs again
    assert len(recent) == 1


async def test_only_the_newest_outcomes_are_kept_beyond_the_limit() -> None:
    recent = RecentKeys(ttl=60, limit=2)
    for key in ("a", "b", "c"):
        recent.claim(key)
        recent.settle(key, ok(0))

    assert "a" not in recent and "b" in recent and "c" in recent


async def test_a_run_under_way_is_never_dropped_by_the_limit_or_the_clock() -> None:
    clock = FakeClock()
    recent = RecentKeys(ttl=1, limit=1, clock=clock)
    running, _ = recent.claim("running")
    for key in ("a", "b"):
        recent.claim(key)
        recent.settle(key, ok(0))
    clock.now = 100.0

    again, mine = recent.claim("running")
    assert not mine and again is running


async def test_an_outcome_that_never_started_is_handed_over_but_not_recorded() -> None:
    recent = RecentKeys(ttl=60, limit=10)
    future, _ = recent.claim("k")
    not_started = Outcome({"type": "response", "ok": False}, started=False)

    recent.forget("k", not_started)

    assert future.result().payload == not_started.payload
    _, mine = recent.claim("k")
    assert mine


def test_bounds_must_be_positive() -> None:
    with pytest.raises(ValueError, match="must be positive"):
        RecentKeys(ttl=-1, limit=1)
