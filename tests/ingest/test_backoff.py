"""Exponential backoff with jitter (ingest/backoff.py)."""

from __future__ import annotations

import random

import pytest

from ingest.backoff import Backoff


class FixedRandom(random.Random):
    """A random source that always answers ``value``."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


NO_JITTER = FixedRandom(0.0)
MAX_JITTER = FixedRandom(0.999999)


def test_the_delay_doubles_with_each_attempt() -> None:
    backoff = Backoff(base=1.0, cap=300.0)
    assert [backoff.delay(n, rng=NO_JITTER) for n in range(5)] == [1.0, 2.0, 4.0, 8.0, 16.0]


def test_the_delay_scales_with_the_base() -> None:
    assert Backoff(base=0.5).delay(3, rng=NO_JITTER) == 4.0


def test_the_delay_stops_growing_at_the_cap() -> None:
    backoff = Backoff(base=1.0, cap=60.0)
    assert backoff.delay(6, rng=NO_JITTER) == 60.0
    assert backoff.delay(20, rng=NO_JITTER) == 60.0


def test_jitter_adds_up_to_half_the_planned_delay() -> None:
    backoff = Backoff(base=2.0, cap=300.0)
    assert 4.0 <= backoff.delay(1, rng=MAX_JITTER) < 6.0
    assert backoff.delay(1, rng=FixedRandom(0.5)) == 5.0


def test_jitter_spreads_the_delays_of_many_clients() -> None:
    rng = random.Random(7)
    delays = [Backoff(base=1.0).delay(3, rng=rng) for _ in range(200)]
    assert all(8.0 <= d < 12.0 for d in delays)
    assert max(delays) - min(delays) > 2.0


def test_a_negative_attempt_counts_as_the_first() -> None:
    assert Backoff(base=3.0).delay(-2, rng=NO_JITTER) == 3.0


def test_a_server_hint_longer_than_the_plan_is_honoured() -> None:
    """Exchange says "Request is throttled" with a Retry-After: wait that long."""
    assert Backoff(base=1.0, cap=300.0).delay(0, retry_after=45.0, rng=MAX_JITTER) == 45.0


def test_a_server_hint_shorter_than_the_plan_does_not_shorten_it() -> None:
    assert Backoff(base=1.0, cap=300.0).delay(4, retry_after=2.0, rng=NO_JITTER) == 16.0


def test_a_server_hint_longer_than_the_cap_is_cut_to_the_cap() -> None:
    assert Backoff(base=1.0, cap=300.0).delay(0, retry_after=86_400.0, rng=NO_JITTER) == 300.0


def test_a_mailbox_that_fails_for_days_still_gets_a_capped_delay() -> None:
    """The watcher counts failures without limit; after 1,024 of them (about four days at the cap) the delay must still be computed."""
    backoff = Backoff(base=1.0, cap=300.0)
    for attempt in (1_023, 1_024, 5_000, 10**6):
        assert 300.0 <= backoff.delay(attempt, rng=MAX_JITTER) < 450.0


def test_the_same_seed_gives_the_same_delays() -> None:
    backoff = Backoff()
    first = [backoff.delay(n, rng=random.Random(11)) for n in range(6)]
    second = [backoff.delay(n, rng=random.Random(11)) for n in range(6)]
    assert first == second


def test_a_backoff_is_immutable() -> None:
    with pytest.raises(AttributeError):
        Backoff().cap = 1.0  # type: ignore[misc]
