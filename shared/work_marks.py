"""Where a consume-and-publish loop stopped, read back from what it published.

A consumer group keeps its position in Kafka, and loses it: a new group name, the first
start of a new deployment, offsets expired after the group stayed empty for
`offsets.retention.minutes` (7 days by default). Starting such a group at the earliest
offset handles everything again (the matcher would re-publish every match), at the
latest it skips what nobody handled. So the loop marks the last message it writes for an
input message with a header naming that input (`mark`), in the same transaction as its
offsets; a group without offsets starts after the newest mark on the output topic
(`resume_points`). Marks name the input topic's Kafka id: a topic deleted and created
again under the same name does not resume from the old one's offsets.

With as many output as input partitions and both keyed alike (the matcher keys every
match event by the listing it handled), a listing partition's marks all sit in the
output partition of the same number, so the newest mark is near the end: a few thousand
records are read per partition, whatever the size of the topic.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from kafka import KafkaConsumer, TopicPartition

log = logging.getLogger(__name__)

HEADER = "boucle.handled"


def mark(input_topic_id: str | None, message: Any) -> tuple[str, bytes]:
    """The header naming `message` (an input record) as handled."""
    return HEADER, f"{input_topic_id}:{message.partition}:{message.offset}".encode()


def resume_points(
    bootstrap_servers: str,
    output_topic: str,
    input_topic_id: str | None,
    chunk: int = 2000,
    timeout_s: float = 60.0,
) -> dict[int, int]:
    """input partition -> the offset after the newest one marked on `output_topic`.

    Each output partition is read backwards, `chunk` records at a time, until it yields
    a mark of this input topic or its beginning is reached. Committed records only.
    """
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        enable_auto_commit=False,
        group_id=None,
        isolation_level="read_committed",
    )
    try:
        partitions = [
            TopicPartition(output_topic, p)
            for p in sorted(consumer.partitions_for_topic(output_topic) or ())
        ]
        if not partitions:
            return {}
        firsts = consumer.beginning_offsets(partitions)
        ends = consumer.end_offsets(partitions)
        found: dict[int, int] = {}
        deadline = time.monotonic() + timeout_s
        for tp in partitions:
            stop = ends[tp]
            while stop > firsts[tp]:
                start = max(firsts[tp], stop - chunk)
                marks = _marks(consumer, tp, start, stop, input_topic_id, deadline)
                for partition, offset in marks.items():
                    found[partition] = max(found.get(partition, 0), offset + 1)
                if marks:
                    break
                stop = start
        return found
    finally:
        consumer.close()


def _marks(
    consumer: KafkaConsumer,
    tp: TopicPartition,
    start: int,
    stop: int,
    input_topic_id: str | None,
    deadline: float,
) -> dict[int, int]:
    """input partition -> the newest marked offset among records [start, stop) of `tp`."""
    consumer.assign([tp])
    consumer.seek(tp, start)
    marks: dict[int, int] = {}
    wanted = f"{input_topic_id}:"
    while consumer.position(tp) < stop:
        if time.monotonic() > deadline:
            raise TimeoutError(f"reading the marks of {tp.topic}[{tp.partition}] took too long")
        for record in consumer.poll(timeout_ms=500).get(tp, []):
            if record.offset >= stop:
                break
            for name, value in record.headers or ():
                text = value.decode(errors="replace") if name == HEADER else ""
                if text.startswith(wanted):
                    _, partition, offset = text.rsplit(":", 2)
                    marks[int(partition)] = max(marks.get(int(partition), -1), int(offset))
    return marks
