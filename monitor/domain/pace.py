"""Is a consumer group keeping up? A verdict in plain terms from its lag and its progress.

The sampler records, per group, its lag and how many messages it has consumed in all (the
sum of its committed positions); the rate of the second is how fast it reads, the slope of
the first whether it gains on what arrives. A lag of a few seconds' reading is in flight,
not behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

from monitor.domain.streams import GroupState, Series

KEEPING_UP, IDLE, CATCHING_UP, FALLING_BEHIND = "keeping-up", "idle", "catching-up", "behind"
STALLED, STOPPED, MEASURING = "stalled", "stopped", "measuring"
#: No progress for this long with messages waiting is a stall, not a pause between polls.
STALL_AFTER_S = 120.0
#: Messages that take less than this long to read are in flight, not a backlog.
IN_FLIGHT_S = 5.0


@dataclass(frozen=True)
class Pace:
    """A group's verdict with the figures the sentence needs."""

    verdict: str
    lag: int
    reads_per_s: float | None = None
    arrives_per_s: float | None = None
    catch_up_s: float | None = None
    still_for_s: float | None = None


def consumed_total(group: GroupState) -> int:
    """Messages the group has consumed in all: the sum of its positions (end - lag)."""
    return sum(p.end - p.lag for p in group.partitions)


def seconds_without_progress(consumed: Series, now: datetime) -> float:
    """Seconds since the consumed count last grew (since the first sample if it never did)."""
    samples = list(consumed.samples)
    since = samples[0][0]
    for (_, before), (when, after) in pairwise(samples):
        if after > before:
            since = when
    return max(0.0, (now - since).total_seconds())


def pace_of(
    group: GroupState,
    consumed: Series | None,
    lag: Series | None,
    now: datetime,
    stall_after_s: float = STALL_AFTER_S,
) -> Pace:
    """The verdict for `group` from its sampled consumed count and lag."""
    backlog = group.total_lag
    if not group.members:
        return Pace(IDLE if backlog == 0 else STOPPED, backlog)
    if backlog == 0:
        return Pace(KEEPING_UP, 0)
    reads = _per_second(consumed)
    if consumed is None or reads is None:
        return Pace(MEASURING, backlog)
    still = seconds_without_progress(consumed, now)
    if still >= stall_after_s:
        return Pace(STALLED, backlog, 0.0, still_for_s=still)
    if reads <= 0:
        return Pace(MEASURING, backlog, 0.0, still_for_s=still)
    if backlog <= reads * IN_FLIGHT_S:
        return Pace(KEEPING_UP, backlog, reads)
    change = _per_second(lag) or 0.0  # messages per second the lag grows (< 0: shrinks)
    arrives = max(0.0, reads + change)
    if change < 0:
        return Pace(CATCHING_UP, backlog, reads, arrives, catch_up_s=backlog / -change)
    return Pace(FALLING_BEHIND, backlog, reads, arrives)


def _per_second(series: Series | None) -> float | None:
    if series is None:
        return None
    per_minute = series.per_minute()
    return None if per_minute is None else per_minute / 60.0
