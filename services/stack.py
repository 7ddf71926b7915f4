"""Every Boucle process, started together: used by `make run` and by the end-to-end tests."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from shared.settings import DEFAULT_VAR_DIR

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ports:
    """Loopback ports of the processes; `public` is the edge (Caddy or the router)."""

    public: int = 8000
    listings: int = 8001
    notifications: int = 8002
    matcher: int = 8003
    notifier: int = 8004
    relay: int = 8005
    monitor: int = 8006
    listings_matches: int = 8007
    feeds: int = 8008
    #: the router's /health behind Caddy (when Caddy is the edge)
    health: int = 8009


def _gunicorn(app: str, port: int, threads: int = 8) -> list[str]:
    # gthread workers: long-lived responses (live feeds) must not block other requests.
    return [
        sys.executable,
        "-m",
        "gunicorn",
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--timeout",
        "120",
        # Open live feeds must not hold a shutdown for gunicorn's default 30 s.
        "--graceful-timeout",
        "5",
        "--log-level",
        "warning",
        "--config",
        "python:services.gunicorn_hooks",
    ]


CADDYFILE = Path(__file__).with_name("edge") / "Caddyfile"


def caddy_binary() -> str | None:
    """Caddy, the edge, when installed (BOUCLE_EDGE=router forces the Python router)."""
    if os.environ.get("BOUCLE_EDGE", "caddy") == "router":
        return None
    return shutil.which("caddy")


def _edge(ports: Ports) -> dict[str, tuple[list[str], int | None]]:
    caddy = caddy_binary()
    if caddy is None:
        return {"router": (_gunicorn("services.router:create_app()", ports.public), None)}
    return {
        "router": (_gunicorn("services.router:create_app()", ports.health), None),
        "caddy": ([caddy, "run", "--adapter", "caddyfile", "--config", str(CADDYFILE)], None),
    }


def _commands(ports: Ports) -> dict[str, tuple[list[str], int | None]]:
    module = [sys.executable, "-m"]
    return {
        "listings-web": (_gunicorn("services.listings_web:create_app()", ports.listings), None),
        "notifications-web": (
            _gunicorn("services.notifications_web:create_app()", ports.notifications),
            None,
        ),
        "listings-relay": ([*module, "services.listings_relay"], ports.relay),
        "listings-matches": ([*module, "services.listings_matches"], ports.listings_matches),
        "matcher": ([*module, "services.matcher"], ports.matcher),
        "notifier": ([*module, "services.notifier"], ports.notifier),
        # One worker: the monitor's state is in memory; threads serve the open live tails.
        "monitor-web": (
            _gunicorn("services.monitor_web:create_app()", ports.monitor, threads=16),
            None,
        ),
        "feeds": ([*module, "services.feeds"], None),
        **_edge(ports),
    }


@dataclass
class ServiceStack:
    """Starts the processes with one environment, waits for health, stops them all."""

    bootstrap_servers: str
    ports: Ports = field(default_factory=Ports)
    extra_env: Mapping[str, str] = field(default_factory=dict)
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        """The one URL every page and API is served under."""
        return f"http://127.0.0.1:{self.ports.public}"

    def environment(self) -> dict[str, str]:
        """The environment every process of the stack runs with."""
        env = dict(os.environ)
        env.update(
            KAFKA_BOOTSTRAP_SERVERS=self.bootstrap_servers,
            LISTINGS_URL=f"http://127.0.0.1:{self.ports.listings}",
            NOTIFICATIONS_URL=f"http://127.0.0.1:{self.ports.notifications}",
            MATCHER_HEALTH_URL=f"http://127.0.0.1:{self.ports.matcher}",
            NOTIFIER_HEALTH_URL=f"http://127.0.0.1:{self.ports.notifier}",
            RELAY_HEALTH_URL=f"http://127.0.0.1:{self.ports.relay}",
            LISTINGS_MATCHES_HEALTH_URL=f"http://127.0.0.1:{self.ports.listings_matches}",
            MONITOR_URL=f"http://127.0.0.1:{self.ports.monitor}",
            FEEDS_URL=f"http://127.0.0.1:{self.ports.feeds}",
            PUBLIC_BASE_URL=self.base_url,
            # For Caddy (services/edge/Caddyfile), which keeps its state under var/.
            BOUCLE_SITE=f"http://:{self.ports.public}",
            BOUCLE_BIND="127.0.0.1",
            LISTINGS_UPSTREAM=f"127.0.0.1:{self.ports.listings}",
            NOTIFICATIONS_UPSTREAM=f"127.0.0.1:{self.ports.notifications}",
            MONITOR_UPSTREAM=f"127.0.0.1:{self.ports.monitor}",
            FEEDS_UPSTREAM=f"127.0.0.1:{self.ports.feeds}",
            HEALTH_UPSTREAM=f"127.0.0.1:{self.ports.health}",
            XDG_DATA_HOME=str(DEFAULT_VAR_DIR / "caddy"),
            XDG_CONFIG_HOME=str(DEFAULT_VAR_DIR / "caddy"),
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 90) -> None:
        """Start every process and return once the router reports all of them healthy."""
        for name, (command, health_port) in _commands(self.ports).items():
            env = self.environment()
            if health_port is not None:
                env["HEALTH_PORT"] = str(health_port)
            if name == "feeds":
                env["BIND"] = f"127.0.0.1:{self.ports.feeds}"
            log.info("starting %s", name)
            # A group of its own: stopping it reaches gunicorn's workers too, not just the master.
            self.children[name] = subprocess.Popen(command, env=env, start_new_session=True)
        self.wait_healthy(timeout)

    def dead(self) -> dict[str, int]:
        """Processes that have exited, with their exit codes."""
        return {n: c.returncode for n, c in self.children.items() if c.poll() is not None}

    def wait_healthy(self, timeout: float) -> None:
        """Poll the router's /health until every service is up, or raise saying which is not."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.dead():
                raise RuntimeError(f"processes exited during start-up: {self.dead()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/health", timeout=3) as response:
                    if response.status == 200:
                        return
            except urllib.error.HTTPError as exc:
                last = exc.read().decode(errors="replace")
            except OSError as exc:
                last = str(exc)
            time.sleep(0.5)
        raise RuntimeError(f"services not healthy after {timeout:.0f}s: {last}")

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM every process group, then SIGKILL what is still running after `timeout`."""
        for child in self.children.values():
            _signal_group(child, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for name, child in self.children.items():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in time; killing it", name)
            # Whatever is left of the group (a worker busy with a live feed) goes now.
            _signal_group(child, signal.SIGKILL)
            child.wait()
        self.children.clear()


def _signal_group(child: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signum)
