"""`make run` as a newcomer uses it: everything comes up under one URL, Ctrl-C stops it all."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from services.stack import Ports
from tests.integration.kafka_helpers import wait_for

pytestmark = [pytest.mark.kafka]
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_run_serves_everything_under_one_url_and_ctrl_c_stops_everything(tmp_path: Path):
    public, kafka, mail = free_port(), free_port(), free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL")
    }
    env.update(
        BOUCLE_VAR_DIR=str(tmp_path),
        PORT=str(public),
        KAFKA_PORT=str(kafka),
        MAILCATCHER_PORT=str(mail),
        DEMO="0",
    )
    log_path = tmp_path / "run.log"
    with log_path.open("w") as log:
        run = subprocess.Popen(
            [sys.executable, "-m", "services.run"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(
            lambda: "Boucle is running" in log_path.read_text() or run.poll() is not None,
            timeout=240,
            interval=1,
            what="make run to print its URL",
        )
        assert run.poll() is None, log_path.read_text()[-3000:]
        assert f"http://127.0.0.1:{public}" in log_path.read_text()
        with urllib.request.urlopen(f"http://127.0.0.1:{public}/health", timeout=10) as answer:
            assert answer.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{public}/listings", timeout=10) as page:
            assert b"Boucle" in page.read()
    finally:
        run.send_signal(signal.SIGINT)  # what Ctrl-C sends
        run.wait(timeout=90)
    ports = [
        public,
        kafka,
        mail,
        *(
            getattr(Ports(), name)
            for name in (
                "listings",
                "notifications",
                "matcher",
                "notifier",
                "relay",
                "monitor",
                "listings_matches",
            )
        ),
    ]
    still_open = [port for port in ports if listening(port)]
    assert still_open == [], f"still listening after Ctrl-C: {still_open}"
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True)
    assert leftovers.stdout == "", "the broker (its log dir is under the var dir) is gone"
