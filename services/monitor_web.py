"""Composition root of the monitor web process: broker views + background workers -> Flask app.

Served by gunicorn with ONE worker (the monitor keeps its projection in memory) and gthread
threads for the live tail: `gunicorn 'services.monitor_web:create_app()' -k gthread
--workers 1 --threads 16`.
"""

from __future__ import annotations

import atexit

from flask import Flask

from monitor.app import create_app as build_app
from monitor.config import MonitorConfig
from monitor.kafka_gateway import ClusterInspector, TopicFollower
from monitor.service import MonitorService
from monitor.workers import Workers
from services.serving import serve
from services.stack import Ports
from shared.kafka import KafkaPublisher
from shared.logs import configure_logging
from shared.settings import Settings
from shared.taxonomy import Taxonomy

SHUTDOWN_KEY = "boucle.monitor_shutdown"
WORKERS_KEY = "boucle.monitor_workers"
SHUTDOWN_KEY = "boucle.monitor_shutdown"


def create_app(settings: Settings | None = None, config: MonitorConfig | None = None) -> Flask:
    """Wire the monitor from the environment (or the given settings) and start its workers."""
    configure_logging("monitor")
    settings = settings or Settings.from_env()
    config = config or MonitorConfig.from_env()
    bootstrap = settings.kafka_bootstrap_servers
    topics = settings.topics
    sources = (
        topics.listings,
        topics.organisations,
        topics.matches,
        topics.deliveries,
        topics.exchanges,
    )
    watched = (*sources, *(topics.dead_letter(name) for name in sources))
    taxonomy = Taxonomy.load_default()

    def lineage(category: str) -> list[str]:
        return [category, *taxonomy.ancestors(category)] if category in taxonomy else [category]

    inspector = ClusterInspector(bootstrap, settings.kafka_request_timeout_ms)
    publisher = KafkaPublisher(bootstrap, "monitor", settings.kafka_request_timeout_ms)
    service = MonitorService(
        inspector,
        publisher,
        lineage,
        dict(config.services),
        topic_prefix=config.topic_prefix,
        watched_topics=watched,
        down_after_s=config.down_after_s,
        long_chain_km=config.long_chain_km,
    )
    workers = Workers(
        service,
        lambda: TopicFollower(bootstrap, watched),
        config.health_interval_s,
        config.sample_interval_s,
        config.health_timeout_s,
    )
    workers.start()

    def shut_down() -> None:
        workers.stop()
        inspector.close()
        publisher.close()

    atexit.register(shut_down)
    app = build_app(
        service,
        config,
        settings.secret_key,
        health_checks={"follower": lambda: service.tail.last_seq},
        secure_cookies=not settings.is_development,
        proxy_hops=settings.trusted_proxy_hops,
    )
    app.extensions[WORKERS_KEY] = workers
    app.extensions[SHUTDOWN_KEY] = shut_down
    return app


def main() -> None:
    """`boucle-monitor-web`: ONE gunicorn worker (BIND, default port 8006), threads for tails."""
    serve("monitor-web", create_app, Ports().monitor, threads=16, single_worker=True)
