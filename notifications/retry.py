"""When to retry a failed delivery: exponential backoff with jitter, a bounded number of times."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """`max_attempts` tries in all; the n-th wait is drawn from [d/2, d], d = base * 2^(n-1)."""

    max_attempts: int = 6
    base_delay_s: float = 30.0
    max_delay_s: float = 3600.0

    def delay_after(self, attempt: int, draw: Callable[[], float] = random.random) -> float | None:
        """Seconds to wait after failed attempt number `attempt`, or None when none is left."""
        if attempt >= self.max_attempts:
            return None
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        # "Equal jitter": never retry at once, yet spread receivers that failed together.
        return ceiling / 2 + draw() * ceiling / 2


class DeliveryError(Exception):
    """A delivery attempt that did not succeed; `permanent` ones are not retried."""

    def __init__(self, reason: str, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
