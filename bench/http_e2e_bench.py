"""End to end through every real part: `POST /api/v1/listings` over HTTP (router, listings
app, PostgreSQL, outbox, relay) -> Kafka -> matcher -> the match on the `matches` topic.

Each probe posts a need and then an offer that matches it, and times from the offer's POST
to its match event. Side by side: a raw Kafka produce/consume round trip on the same broker.

    .venv/bin/python -m bench.http_e2e_bench --probes 300
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import time
import urllib.request
import uuid
from dataclasses import fields
from typing import Any

from bench.e2e_bench import consumer_at_end, free_port, raw_round_trips, report
from services.devtools.kafka import LocalKafka
from services.devtools.postgres import LocalPostgres
from services.stack import Ports, ServiceStack
from shared.settings import Settings

log = logging.getLogger("bench.http")


def call(base: str, path: str, body: dict[str, Any], token: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(base + path, json.dumps(body).encode(), headers)
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


def register(base: str, name: str) -> str:
    tag = uuid.uuid4().hex[:8]
    answer = call(
        base,
        "/api/v1/organisations",
        {
            "name": f"{name} {tag}",
            "kind": "association",
            "country": "LU",
            "place": "Luxembourg",
            "contact_email": f"{tag}@example.org",
            "email": f"{tag}@example.org",
            "password": "bench-password-2026",
        },
    )
    return str(answer["api_token"])


def listing(kind: str, lat: float, lon: float) -> dict[str, Any]:
    return {
        "kind": kind,
        "title": f"bench {kind}",
        "category": "reuse-pallets-epal",
        "quantity": 10,
        "unit": "pallets",
        "location": {"lat": lat, "lon": lon},
        "radius_km": 5 if kind == "need" else 0,
    }


def probe(base: str, buyer: str, seller: str, consumer: Any, rng: random.Random) -> float:
    """Seconds from an offer's POST to the match event naming it."""
    lat, lon = 49.3 + rng.random() * 0.6, 5.8 + rng.random() * 0.8
    call(base, "/api/v1/listings", listing("need", lat, lon), buyer)
    start = time.perf_counter()
    offer = call(base, "/api/v1/listings", listing("offer", lat + 0.001, lon), seller)
    while True:
        for batch in consumer.poll(timeout_ms=20).values():
            for message in batch:
                if json.loads(message.value)["data"]["offer"]["listing_id"] == offer["id"]:
                    return time.perf_counter() - start
        if time.perf_counter() - start > 30:
            raise TimeoutError("no match within 30 s")


def main() -> None:
    """Start a broker, PostgreSQL and every process; measure; stop everything."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--probes", type=int, default=300)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    prefix = f"bench-{uuid.uuid4().hex[:6]}."
    with LocalKafka() as kafka, LocalPostgres() as postgres:
        stack = ServiceStack(
            kafka.bootstrap_servers,
            Ports(*(free_port() for _ in fields(Ports))),
            extra_env={
                "DATABASE_URL": postgres.url,
                "KAFKA_TOPIC_PREFIX": prefix,
                "RATE_LIMITS": "off",
                "LOG_LEVEL": "WARNING",
                "BOUCLE_ENV": "test",
            },
        )
        try:
            stack.start(timeout=180)
            matches = Settings.from_env({"KAFKA_TOPIC_PREFIX": prefix}).topics.matches
            consumer = consumer_at_end(kafka.bootstrap_servers, matches)
            buyer, seller = register(stack.base_url, "Buyer"), register(stack.base_url, "Seller")
            rng = random.Random(7)
            probe(stack.base_url, buyer, seller, consumer, rng)  # warm-up
            times = [
                probe(stack.base_url, buyer, seller, consumer, rng) for _ in range(args.probes)
            ]
            report("POST /api/v1/listings -> match on the topic", times)
            report("raw Kafka round trip (baseline)", raw_round_trips(kafka.bootstrap_servers, 300))
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
