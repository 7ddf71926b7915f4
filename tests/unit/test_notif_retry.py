"""Retries: exponential backoff with jitter, bounded in number and in length."""

from __future__ import annotations

from notifications.retry import RetryPolicy


def test_each_wait_doubles_within_its_jitter_band() -> None:
    policy = RetryPolicy(max_attempts=6, base_delay_s=10, max_delay_s=1000)
    assert [policy.delay_after(n, draw=lambda: 0.0) for n in (1, 2, 3)] == [5, 10, 20]
    assert [policy.delay_after(n, draw=lambda: 1.0) for n in (1, 2, 3)] == [10, 20, 40]


def test_waits_are_capped() -> None:
    policy = RetryPolicy(max_attempts=20, base_delay_s=10, max_delay_s=60)
    assert policy.delay_after(15, draw=lambda: 1.0) == 60


def test_no_retry_is_left_after_the_last_attempt() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert policy.delay_after(2) is not None
    assert policy.delay_after(3) is None


def test_jitter_spreads_receivers_that_failed_together() -> None:
    policy = RetryPolicy(base_delay_s=30)
    delays = {policy.delay_after(2) for _ in range(50)}
    assert len(delays) > 40
    assert all(30 <= d <= 60 for d in delays if d is not None)
