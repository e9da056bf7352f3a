"""Backoff and policy rules (no network)."""

import random

from hftws.policy import Backoff, ReconnectPolicy


def test_backoff_grows_with_jitter_and_caps() -> None:
    b = Backoff(
        ReconnectPolicy(initial_delay=0.1, max_delay=1.0, multiplier=2, jitter=0.5),
        rng=random.Random(1),
    )
    delays = [b.next_delay() for _ in range(8)]
    for i, d in enumerate(delays):
        base = min(1.0, 0.1 * 2**i)
        assert base * 0.5 <= d <= base, (i, d)
    assert max(delays) <= 1.0


def test_immediate_codes_only_skip_the_first_wait() -> None:
    b = Backoff(ReconnectPolicy(initial_delay=0.5, immediate_codes=frozenset({1005})))
    assert b.next_delay(1005) == 0.0
    assert b.next_delay(1005) > 0.0
    other = Backoff(ReconnectPolicy(initial_delay=0.5, immediate_codes=frozenset({1005})))
    assert other.next_delay(1011) > 0.0


def test_healthy_connection_resets_and_budget_is_enforced() -> None:
    b = Backoff(ReconnectPolicy(initial_delay=0.1, reset_after=10, max_attempts=3, jitter=0))
    for _ in range(3):
        b.next_delay()
    assert b.exhausted()
    b.connection_lasted(5)
    assert b.exhausted()
    b.connection_lasted(10)
    assert not b.exhausted() and b.next_delay() == 0.1
