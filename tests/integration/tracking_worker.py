"""A consumer process for the crash test: each event's effect and its tracking row commit
together, so a re-delivered event is recognised and counted instead of applied twice.

Usage: tracking_worker.py BOOTSTRAP TOPIC GROUP DATABASE_URL
"""

from __future__ import annotations

import sys
import time

from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert
from sqlalchemy.orm import sessionmaker

from services.process import run_until_signalled
from shared.db import unit_of_work
from shared.events import Event
from shared.kafka import ConsumerOptions, EventConsumer, KafkaPublisher
from shared.tracking import claim_event, processed_events_table

metadata = MetaData()
effects = Table("effects", metadata, Column("event_subject", String(50)), Column("n", Integer))
redeliveries = Table("redeliveries", metadata, Column("event_subject", String(50)))
processed = processed_events_table(metadata)


def main() -> None:
    bootstrap, topic, group, url = sys.argv[1:5]
    engine = create_engine(url)
    metadata.create_all(engine)
    sessions = sessionmaker(engine)

    def handle(event: Event) -> None:
        time.sleep(0.01)  # slow enough that the test's SIGKILL lands mid-stream
        with unit_of_work(sessions) as session:
            if claim_event(session, processed, group, event.id):
                session.execute(insert(effects).values(event_subject=event.subject, n=1))
            else:
                session.execute(insert(redeliveries).values(event_subject=event.subject))

    publisher = KafkaPublisher(bootstrap, "worker")
    options = ConsumerOptions(max_poll_records=20)
    consumer = EventConsumer(bootstrap, group, [topic], handle, publisher, options)
    run_until_signalled(consumer.run)


if __name__ == "__main__":
    main()
