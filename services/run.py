"""`make run`: the local broker and every service against SQLite, under one base URL.

Ctrl-C (or SIGTERM) stops the services, then the broker. Set KAFKA_BOOTSTRAP_SERVERS to use
a broker that is already running instead of starting one.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading

from services.devtools.kafka import LocalKafka
from services.stack import Ports, ServiceStack
from shared.kafka import ensure_topics, standard_topics
from shared.settings import DEFAULT_VAR_DIR, Settings

log = logging.getLogger("boucle.run")


def _load_demo_once(base_url: str) -> None:
    """On the first run, fill the exchange with demo data (DEMO=0 skips it)."""
    marker = DEFAULT_VAR_DIR / ".demo-loaded"
    if os.environ.get("DEMO", "1") == "0" or marker.exists():
        return
    from services import demo

    print("  First run: loading demo organisations and listings (DEMO=0 to skip) ...", flush=True)
    if demo.main(["--url", base_url]) == 0:
        marker.write_text(base_url)


def main(argv: list[str] | None = None) -> int:
    """Start everything, print the base URL, and run until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--kafka-port", type=int, default=int(os.environ.get("KAFKA_PORT", "9092")))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    broker: LocalKafka | None = None
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not bootstrap:
        log.info("starting the local Kafka broker on 127.0.0.1:%d ...", args.kafka_port)
        broker = LocalKafka(port=args.kafka_port, data_dir=DEFAULT_VAR_DIR / "kafka")
        broker.start()
        bootstrap = broker.bootstrap_servers
    # Local runs keep outgoing e-mail in var/mail/ (a mail catcher) and allow webhooks to
    # receivers on this machine; a deployment sets SMTP_URL and keeps webhooks public.
    mail_port = int(os.environ.get("MAILCATCHER_PORT", "2525"))
    mailcatcher = subprocess.Popen(
        [sys.executable, "-m", "services.notifications_mailcatcher"],
        env={**os.environ, "MAILCATCHER_PORT": str(mail_port)},
    )
    local_env = {
        "SMTP_URL": os.environ.get("SMTP_URL", f"smtp://127.0.0.1:{mail_port}"),
        "WEBHOOKS_ALLOW_PRIVATE_NETWORKS": os.environ.get(
            "WEBHOOKS_ALLOW_PRIVATE_NETWORKS", "true"
        ),
        # The matcher restarts from its replica's snapshot instead of the whole topic.
        "MATCHER_SNAPSHOT_DIR": os.environ.get(
            "MATCHER_SNAPSHOT_DIR", str(DEFAULT_VAR_DIR / "matcher-snapshots")
        ),
        "MATCHER_INSTANCE_ID": os.environ.get("MATCHER_INSTANCE_ID", "make-run"),
    }
    stack = ServiceStack(bootstrap, Ports(public=args.port), extra_env=local_env)
    try:
        ensure_topics(bootstrap, standard_topics(Settings.from_env().topics))
        log.info("starting the services ...")
        stack.start()
        print(
            f"\n  Boucle is running at {stack.base_url}\n"
            f"  API: {stack.base_url}/api/v1  ·  health: {stack.base_url}/health\n"
            f"  E-mails sent by the notifier are kept in {DEFAULT_VAR_DIR / 'mail'}\n"
            "  Ctrl-C stops everything.\n",
            flush=True,
        )
        _load_demo_once(stack.base_url)
        while not stop.wait(0.5):
            if stack.dead():
                log.error("a service exited: %s; stopping everything", stack.dead())
                return 1
        return 0
    finally:
        log.info("stopping the services ...")
        stack.stop()
        mailcatcher.terminate()
        mailcatcher.wait(timeout=15)
        if broker is not None:
            log.info("stopping the Kafka broker ...")
            broker.stop()


if __name__ == "__main__":
    sys.exit(main())
