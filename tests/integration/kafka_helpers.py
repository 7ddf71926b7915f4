"""Helpers for tests against the real broker: polling with a deadline, reading a topic raw."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from kafka import KafkaConsumer

T = TypeVar("T")


def wait_for(
    condition: Callable[[], T], timeout: float = 30.0, interval: float = 0.1, what: str = ""
) -> T:
    """Poll `condition` until it returns something truthy, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: T = condition()
    while not last:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")
        time.sleep(interval)
        last = condition()
    return last


def from_beginning(bootstrap: str, topic: str) -> KafkaConsumer:
    """A consumer of `topic` from its first message (committed transactions only)."""
    return KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        isolation_level="read_committed",
    )


def read_all(bootstrap: str, topic: str, timeout: float = 5.0) -> list[Any]:
    """Every message of `topic` as it is (e.g. a dead-letter topic), once reads go quiet."""
    consumer = from_beginning(bootstrap, topic)
    messages: list[Any] = []
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batches = consumer.poll(timeout_ms=300)
            for batch in batches.values():
                messages.extend(batch)
            if not batches and messages:
                break
    finally:
        consumer.close()
    return messages


def read_topic(bootstrap: str, topic: str, expected: int, timeout: float = 30.0) -> list[Any]:
    """Read `topic` from the beginning until `expected` messages arrived (or fail)."""
    consumer = from_beginning(bootstrap, topic)
    messages: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while len(messages) < expected:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{topic}: {len(messages)} of {expected} messages after {timeout}s"
                )
            for batch in consumer.poll(timeout_ms=200).values():
                messages.extend(batch)
    finally:
        consumer.close()
    return messages
