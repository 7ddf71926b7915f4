"""The edge under open live feeds: pages and searches while a thousand inboxes stay open.

Every real part runs (Caddy, the web processes, the feeds process, Kafka, PostgreSQL). The
benchmark registers members, seeds listings, then measures, in one run and side by side:

- `GET /listings` and `GET /api/v1/listings?near=…` with no feed open (the baseline), then
  with `--feeds` inbox feeds held open (default 1,000, spread over `--members` members):
  from 4 clients flat out (the throughput), and in an open loop at `--rate` requests a
  second (the latency a visitor sees at that load);
- a new alert reaching an open inbox: from the offer's `POST /api/v1/listings` to the feed's
  `changed` event and the page's `GET /inbox/updates` showing the alert.

`--active N` first puts N more active listings in the matcher's replica (the workload's
listings, all as offers so that seeding itself matches nothing: published straight to the
listings topic, as the relay would), so each probe is matched against N listings.

    .venv/bin/python -m bench.edge_bench --feeds 1000 --probes 50
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import http.client
import json
import logging
import math
import random
import re
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bench.e2e_bench import consumer_at_end, free_port, publish_listing, wait_until_caught_up
from bench.matching_bench import percentile
from bench.workload import event_data, generate
from services.devtools.kafka import LocalKafka
from services.devtools.postgres import LocalPostgres
from services.stack import Ports, ServiceStack, caddy_binary
from shared.contracts import MatchFound
from shared.events import decode_event
from shared.kafka import KafkaPublisher
from shared.settings import Settings

log = logging.getLogger("bench.edge")
PASSWORD = "bench-password-2026"
LUXEMBOURG = (49.61, 6.13)


@dataclass
class Member:
    """A registered organisation, its API token and a logged-in member's cookies."""

    organisation_id: str
    token: str
    email: str
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    cookies: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    """One HTTP request through the edge; Set-Cookie lands in `cookies`."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    sent = dict(headers or {})
    if cookies:
        sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    try:
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        data = response.read()
        if cookies is not None:
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    cookies[key] = rest.split(";", 1)[0]
        return response.status, data
    finally:
        connection.close()


def api(port: int, method: str, path: str, body: Any, token: str = "") -> Any:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    status, data = request(port, method, path, json.dumps(body).encode(), headers)
    if status >= 300:
        raise RuntimeError(f"{method} {path}: {status} {data[:200]!r}")
    return json.loads(data)


def register_and_log_in(port: int) -> Member:
    tag = uuid.uuid4().hex[:10]
    email = f"{tag}@example.org"
    answer = api(
        port,
        "POST",
        "/api/v1/organisations",
        {
            "name": f"Bench {tag}",
            "kind": "association",
            "country": "LU",
            "place": "Luxembourg",
            "contact_email": email,
            "email": email,
            "password": PASSWORD,
        },
    )
    member = Member(answer["organisation"]["id"], answer["api_token"], email)
    _, page = request(port, "GET", "/login", cookies=member.cookies)
    found = re.search(rb'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert found, "no CSRF token on /login"
    form = urlencode({"csrf_token": found.group(1).decode(), "email": email, "password": PASSWORD})
    status, _ = request(
        port,
        "POST",
        "/login",
        form.encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
        member.cookies,
    )
    assert status == 302, f"login failed: {status}"
    return member


def listing(kind: str, rng: random.Random, title: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "title": title,
        "category": "ewc-150103",
        "quantity": 10,
        "unit": "pallets",
        "location": {
            "lat": LUXEMBOURG[0] + rng.uniform(-0.4, 0.4),
            "lon": LUXEMBOURG[1] + rng.uniform(-0.4, 0.4),
        },
        "radius_km": 5,
    }


def timed_gets(
    port: int, paths: list[str], count: int, workers: int = 4
) -> tuple[list[float], float]:
    """Latencies of `count` GETs cycling over `paths` from `workers` clients, and the rate."""

    def one(n: int) -> float:
        started = time.perf_counter()
        status, _ = request(port, "GET", paths[n % len(paths)])
        assert status == 200, f"{paths[n % len(paths)]} answered {status}"
        return time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        latencies = list(pool.map(one, range(count)))
    return latencies, count / (time.perf_counter() - started)


def paced_gets(port: int, path: str, count: int, rate: float) -> list[float]:
    """Latencies of `count` GETs sent at `rate` a second whatever the answers' pace.

    An open loop, as visitors arrive: each request is timed from the moment it was due, so
    a slow answer that delays the next send shows in that request's latency too (no
    coordinated omission), and the load is the one stated, not the one the server allows.
    """
    begin = time.perf_counter() + 0.1

    def one(n: int) -> float:
        due = begin + n / rate
        time.sleep(max(0.0, due - time.perf_counter()))
        status, _ = request(port, "GET", path)
        assert status == 200, f"{path} answered {status}"
        return time.perf_counter() - due

    with ThreadPoolExecutor(64) as pool:
        return list(pool.map(one, range(count)))


class Feeds:
    """Many open inbox feeds on one asyncio loop of the benchmark's own."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.changed: dict[str, asyncio.Event] = {}
        self.opened = 0
        self._tasks: list[concurrent.futures.Future[None]] = []
        self._session: aiohttp.ClientSession | None = None

    def _run(self, coroutine: Any, timeout: float = 600) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def open(self, members: list[Member], count: int) -> None:
        async def start() -> None:
            connector = aiohttp.TCPConnector(limit=0, force_close=True)
            timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
            self._session = aiohttp.ClientSession(connector=connector, timeout=timeout)

        self._run(start())
        connected = threading.Semaphore(0)
        for n in range(count):
            member = members[n % len(members)]
            self._tasks.append(
                asyncio.run_coroutine_threadsafe(self._hold(member, connected), self.loop)
            )
        for n in range(count):
            if not connected.acquire(timeout=120):
                raise RuntimeError(f"only {n} of {count} feeds opened")

    async def _hold(self, member: Member, connected: threading.Semaphore) -> None:
        """Keep one feed open, as a browser's EventSource does: reconnect when it ends
        (its lifetime) or is refused on the way (opening a thousand at once), with the
        reason printed."""
        assert self._session is not None
        headers = {"Cookie": member.cookie_header, "Accept": "text/event-stream"}
        url = f"http://127.0.0.1:{self.port}/inbox/stream"
        event = self.changed.setdefault(member.organisation_id, asyncio.Event())
        first = True
        while True:
            try:
                async with self._session.get(url, headers=headers) as response:
                    if response.status != 200:
                        raise RuntimeError(f"feed refused: {response.status}")
                    if first:
                        first = False
                        self.opened += 1
                        connected.release()
                    async for line in response.content:
                        if line.startswith(b"event: changed"):
                            event.set()
            except (aiohttp.ClientError, RuntimeError) as exc:
                print(f"a feed failed, reconnecting: {exc!r}", flush=True)
                await asyncio.sleep(1)

    def wait_changed(self, organisation_id: str, timeout: float = 30) -> None:
        async def wait() -> None:
            event = self.changed.setdefault(organisation_id, asyncio.Event())
            await asyncio.wait_for(event.wait(), timeout)
            event.clear()

        self._run(wait(), timeout + 5)

    def reset(self, organisation_id: str) -> None:
        self.loop.call_soon_threadsafe(
            lambda: self.changed.setdefault(organisation_id, asyncio.Event()).clear()
        )

    def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._session is not None:
            self._run(self._session.close(), 30)
        self.loop.call_soon_threadsafe(self.loop.stop)


class MatchWatch:
    """When each offer's first match reached the matches topic (a reader at its end)."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.seen: dict[str, float] = {}
        self._stop = threading.Event()
        self._consumer = consumer_at_end(bootstrap, topic)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for batch in self._consumer.poll(timeout_ms=50).values():
                arrived = time.perf_counter()
                for message in batch:
                    found = decode_event(message.value).data
                    if isinstance(found, MatchFound):
                        self.seen.setdefault(found.offer.listing_id, arrived)
        self._consumer.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)


@dataclass
class Probe:
    """One alert probe: seconds from the offer's POST to each step."""

    answered: float  # the POST's 201
    on_topic: float  # its match on the matches topic
    woken: float  # the open feed said `changed`
    shown: float  # /inbox/updates showed the alert


def alert_probe(
    port: int,
    feeds: Feeds,
    buyer: Member,
    seller: Member,
    rng: random.Random,
    watch: MatchWatch,
    settled: Callable[[], None],
) -> Probe:
    """An offer's POST to its alert on the buyer's open inbox page, step by step."""
    title = f"Probe {uuid.uuid4().hex[:8]}"
    need = listing("need", rng, title)
    api(port, "POST", "/api/v1/listings", need, buyer.token)
    # The need's own matches (dozens among many active offers) are handled first: they are
    # not what is timed, and the offer's alert should not queue behind them.
    settled()
    feeds.reset(buyer.organisation_id)
    cursor = {"alerts_after": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())}
    started = time.perf_counter()
    offer = {**listing("offer", rng, title), "location": need["location"]}
    offer_id = api(port, "POST", "/api/v1/listings", offer, seller.token)["id"]
    answered = time.perf_counter() - started
    deadline = started + 30
    while time.perf_counter() < deadline:
        feeds.wait_changed(buyer.organisation_id, timeout=deadline - time.perf_counter())
        woken = time.perf_counter() - started
        status, data = request(
            port,
            "GET",
            "/inbox/updates?" + urlencode(cursor),
            headers={"Accept": "application/json"},
            cookies=dict(buyer.cookies),
        )
        if status == 200 and any(title in a["html"] for a in json.loads(data)["alerts"]):
            shown = time.perf_counter() - started
            on_topic = watch.seen.get(offer_id, float("nan")) - started
            return Probe(answered, on_topic, woken, shown)
    raise RuntimeError("the alert did not reach the open inbox in 30 s")


def show(what: str, latencies: list[float], rate: float | None = None) -> None:
    line = (
        f"{what:<58} n={len(latencies):<5} p50={percentile(latencies, 0.5) * 1e3:7.1f} ms "
        f"p99={percentile(latencies, 0.99) * 1e3:7.1f} ms"
    )
    if rate is not None:
        line += f"  {rate:6.1f} req/s"
    print(line, flush=True)


def main() -> None:
    """Start everything, measure with and without open feeds, stop everything."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--listings", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--probes", type=int, default=50)
    parser.add_argument("--active", type=int, default=0)
    parser.add_argument(
        "--rate", type=float, default=10.0, help="requests a second of the open-loop runs"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    rng = random.Random(7)
    print(f"edge: {'Caddy' if caddy_binary() else 'Python router'}", flush=True)
    prefix, matcher_group = (
        f"bench-{uuid.uuid4().hex[:6]}.",
        f"bench-matcher-{uuid.uuid4().hex[:6]}",
    )
    with LocalKafka() as kafka, LocalPostgres() as postgres:
        stack = ServiceStack(
            kafka.bootstrap_servers,
            Ports(*(free_port() for _ in fields(Ports))),
            extra_env={
                "DATABASE_URL": postgres.url,
                "MATCHER_GROUP_ID": matcher_group,
                "NOTIFIER_GROUP_ID": f"{matcher_group}-notifier",
                "LISTINGS_MATCHES_GROUP_ID": f"{matcher_group}-listings-matches",
                "KAFKA_TOPIC_PREFIX": prefix,
                "RATE_LIMITS": "off",
                "LOG_LEVEL": "WARNING",
                "BOUCLE_ENV": "test",
            },
        )
        feeds: Feeds | None = None
        try:
            stack.start(timeout=180)
            port = stack.ports.public
            if args.active:
                seed_offers(kafka.bootstrap_servers, prefix, matcher_group, args.active)
            progress("registering and logging in", args.members)
            with ThreadPoolExecutor(4) as pool:
                members = list(pool.map(lambda _: register_and_log_in(port), range(args.members)))
            seller = members[-1]
            progress("seeding listings", args.listings)
            seed: Callable[[int], Any] = lambda n: api(  # noqa: E731
                port, "POST", "/api/v1/listings", listing("offer", rng, f"Seed {n}"), seller.token
            )
            with ThreadPoolExecutor(4) as pool:
                list(pool.map(seed, range(args.listings)))
            paths = ["/listings", "/api/v1/listings?near=49.61,6.13&radius_km=50"]
            for path in paths:
                latencies, rate = timed_gets(port, [path], args.requests)
                show(f"GET {path}, no feed open, 4 clients flat out", latencies, rate)
                paced = paced_gets(port, path, args.requests, args.rate)
                show(f"GET {path}, no feed open, {args.rate:g}/s", paced)
            feeds = Feeds(port)
            progress("opening live feeds", args.feeds)
            feeds.open(members[:-1], args.feeds)
            print(f"{feeds.opened} inbox feeds open", flush=True)
            for path in paths:
                latencies, rate = timed_gets(port, [path], args.requests)
                show(f"GET {path}, {feeds.opened} feeds open, 4 clients flat out", latencies, rate)
                paced = paced_gets(port, path, args.requests, args.rate)
                show(f"GET {path}, {feeds.opened} feeds open, {args.rate:g}/s", paced)
            buyer = members[0]
            topics = Settings.from_env({"KAFKA_TOPIC_PREFIX": prefix}).topics
            watch = MatchWatch(kafka.bootstrap_servers, topics.matches)

            def settled() -> None:
                wait_until_caught_up(kafka.bootstrap_servers, matcher_group, topics.listings)
                notifier = f"{matcher_group}-notifier"
                wait_until_caught_up(
                    kafka.bootstrap_servers,
                    notifier,
                    topics.matches,
                    timeout=60,
                    transactional=True,
                    interval=0.05,
                )

            probes = [
                alert_probe(port, feeds, buyer, seller, rng, watch, settled)
                for _ in range(args.probes)
            ]
            watch.close()
            show("  POST offer answered (201)", [p.answered for p in probes])
            # A match the watch read before its offer's POST had answered is not counted.
            on_topic = [p.on_topic for p in probes if not math.isnan(p.on_topic)]
            show("  its match on the matches topic", on_topic)
            show("  the open feed says `changed`", [p.woken for p in probes])
            show(
                f"POST offer -> alert on an open inbox ({feeds.opened} open)",
                [p.shown for p in probes],
            )
        finally:
            if feeds is not None:
                feeds.close()
            stack.stop()


def seed_offers(bootstrap: str, prefix: str, group: str, count: int) -> None:
    """`count` active offers in the matcher's replica, published as the relay would."""
    progress("publishing active listings to the listings topic", count)
    topic = Settings.from_env({"KAFKA_TOPIC_PREFIX": prefix}).topics.listings
    publisher = KafkaPublisher(bootstrap, "bench-seed")
    for listing in generate(count, seed=1, now=time.time()):
        publish_listing(publisher, topic, {**event_data(listing), "kind": "offer"})
    publisher.flush(timeout_s=300)
    publisher.close()
    waited = wait_until_caught_up(bootstrap, group, topic)
    print(f"matcher caught up with {count} active listings in {waited:.1f} s", flush=True)
    # The notifier follows the listings topic too (a listing that leaves takes its alerts):
    # the probes wait for it as they would in a steady state. The listings read model of
    # matches is not on the alert's path; it may still be catching up (it says so below).
    waited = wait_until_caught_up(bootstrap, f"{group}-notifier", topic)
    print(f"notifier caught up in {waited:.1f} s more", flush=True)


def progress(what: str, count: int) -> None:
    print(f"... {what} ({count})", flush=True)


if __name__ == "__main__":
    main()
