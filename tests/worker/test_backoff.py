"""The delays between connection attempts: doubling from the first to the cap, jittered."""

from __future__ import annotations

import pytest

from soni.worker import Backoff


def test_the_delay_doubles_up_to_the_cap_with_the_jitter_at_its_bounds() -> None:
    lowest = Backoff(0.1, 1.0, rng=lambda: 0.0)
    highest = Backoff(0.1, 1.0, rng=lambda: 1.0)

    low = [lowest.next() for _ in range(6)]
    high = [highest.next() for _ in range(6)]

    assert high == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0])
    assert low == pytest.approx([h / 2 for h in high])


def test_reset_starts_again_from_the_first_delay() -> None:
    backoff = Backoff(0.1, 10.0, rng=lambda: 1.0)
    for _ in range(5):
        backoff.next()

    backoff.reset()

    assert backoff.next() == pytest.approx(0.1)


@pytest.mark.parametrize("bounds", [(0.0, 1.0), (2.0, 1.0), (-1.0, 1.0)])
def test_a_backoff_that_cannot_grow_is_refused(bounds: tuple[float, float]) -> None:
    with pytest.raises(ValueError, match="0 < first <= cap"):
        Backoff(*bounds)
