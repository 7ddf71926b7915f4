"""docker-compose.yml: it deploys every process of [project.scripts], configured to run.

No Docker engine runs here, so the file is read as compose would read it: YAML with merge
keys, then ${VAR}, ${VAR:-default} and ${VAR:?error} taken from the operator's environment.
The environment each service gets is then handed to the code's own settings readers.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from listings.api_reference import remote_parts
from monitor.config import MonitorConfig
from notifications.config import NotifierConfig
from services.router import DEFAULT_URLS
from services.stack import Ports, _commands
from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
SCRIPTS: dict[str, str] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
CADDYFILE = ROOT / "services" / "edge" / "Caddyfile"

#: Commands an operator runs by hand (`docker compose run --rm router boucle-admin …`), and
#: `make run`'s all-in-one: not services.
ONE_SHOT = {"boucle-admin", "boucle-demo", "boucle-run"}
LONG_RUNNING = sorted(set(SCRIPTS) - ONE_SHOT)
#: Where a process answers: the servers on BIND, the workers' health endpoint on HEALTH_PORT.
SERVERS = {
    "boucle-listings-web",
    "boucle-notifications-web",
    "boucle-monitor-web",
    "boucle-router",
    "boucle-feeds",
}

#: What an operator puts in .env; the domain is also what the TLS certificate is issued for.
OPERATOR = {
    "BOUCLE_DOMAIN": "boucle.example.org",
    "SECRET_KEY": "k" * 48,
    "POSTGRES_PASSWORD": "pg-secret",
    "METRICS_TOKEN": "metrics-secret",
    "MONITOR_API_TOKEN": "monitor-secret",
    "SMTP_URL": "smtp://user:pass@relay.example.org:587?starttls=true",
    "MAIL_FROM": "Boucle <alerts@boucle.example.org>",
}

_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:\?|:-)(?P<arg>[^}]*))?\}")


class Missing(Exception):
    """compose's refusal to start: a ${VAR:?message} variable is unset or empty."""


def interpolate(value: Any, env: Mapping[str, str]) -> str:
    """`value` as compose substitutes it from `env`."""

    def substitute(match: re.Match[str]) -> str:
        given = env.get(match["name"], "")
        if given:
            return given
        if match["op"] == ":?":
            raise Missing(f"{match['name']}: {match['arg']}")
        return match["arg"] or ""

    return _VARIABLE.sub(substitute, str(value))


def environment(service: str, env: Mapping[str, str] = OPERATOR) -> dict[str, str]:
    """The environment a container of `service` starts with."""
    return {k: interpolate(v, env) for k, v in SERVICES[service].get("environment", {}).items()}


def script_of(service: str) -> str | None:
    command = SERVICES[service].get("command") or [None]
    return command[0] if command[0] in SCRIPTS else None


BOUCLE = sorted(s for s in SERVICES if script_of(s))


def service_running(script: str) -> str:
    (service,) = [s for s in SERVICES if script_of(s) == script]
    return service


def health_port(service: str) -> int:
    """The port the container's health check asks (it answers there, or it is restarted)."""
    test = " ".join(SERVICES[service]["healthcheck"]["test"])
    (port,) = re.findall(r"http://127\.0\.0\.1:(\d+)/health", test)
    return int(port)


def listening_port(service: str) -> int:
    env, script = environment(service), script_of(service)
    variable = "BIND" if script in SERVERS else "HEALTH_PORT"
    return int(env[variable].rsplit(":", 1)[-1])


def assert_reaches(address: str, expected_service: str) -> None:
    """`address` (host:port or a URL) is a port where `expected_service` listens."""
    parts = urlsplit(address if "//" in address else f"//{address}")
    assert parts.hostname == expected_service, address
    assert parts.port == listening_port(expected_service), address


@pytest.mark.parametrize("script", LONG_RUNNING)
def test_every_process_runs_as_a_service_with_a_health_check_on_its_port(script: str):
    service = service_running(script)
    assert SERVICES[service]["command"] == [script]
    assert health_port(service) == listening_port(service)
    if script in SERVERS:
        host = environment(service)["BIND"].rsplit(":", 1)[0]
        assert host == "0.0.0.0", f"{service} must listen beyond its container's loopback"


def test_compose_runs_the_edge_the_stores_and_exactly_the_processes_of_the_code():
    assert set(SERVICES) == {"caddy", "kafka", "postgres", "redis", *BOUCLE}
    assert {script_of(s) for s in BOUCLE} == set(LONG_RUNNING)
    # The processes `make run` starts are the ones compose deploys, under the same names.
    assert set(_commands(Ports())) <= set(SERVICES)


@pytest.mark.parametrize("service", BOUCLE)
def test_every_process_starts_in_production_mode_against_the_real_stores(service: str):
    env = environment(service)
    settings = Settings.from_env(env)
    assert not settings.is_development
    assert settings.secret_key == OPERATOR["SECRET_KEY"]
    assert settings.kafka_bootstrap_servers == "kafka:9092"
    for url in (settings.listings_database_url, settings.notifications_database_url):
        assert url.startswith("postgresql+psycopg://boucle:pg-secret@postgres:5432/"), url
    assert settings.public_base_url == "https://boucle.example.org"
    assert env["METRICS_TOKEN"] == OPERATOR["METRICS_TOKEN"], "/metrics would be open"
    assert urlsplit(env["RATELIMIT_STORAGE_URI"]).hostname == "redis"
    assert SERVICES[service]["depends_on"]["redis"]["condition"] == "service_healthy"


def test_compose_refuses_to_start_without_each_secret():
    for name in OPERATOR:
        without = {k: v for k, v in OPERATOR.items() if k != name}
        refused = []
        for service in SERVICES:
            try:
                environment(service, without)
            except Missing:
                refused.append(service)
        assert refused, f"compose would start without {name}"


def test_no_process_reads_a_variable_at_start_up_that_compose_leaves_unset():
    read_without_default = re.compile(r"os\.environ\[[\"'](\w+)[\"']\]")
    # A variable the code reads with os.environ["X"] (no default) stops a process without it.
    required: set[str] = set()
    for package in ("shared", "listings", "matching", "notifications", "monitor", "services"):
        for source in (ROOT / package).rglob("*.py"):
            if "devtools" not in source.parts:
                required |= set(read_without_default.findall(source.read_text()))
    for service in BOUCLE:
        assert required <= set(environment(service)), service


def test_the_notifier_sends_real_mail_and_keeps_webhooks_off_private_networks():
    config = NotifierConfig.from_env(environment("notifier"))
    assert config.smtp_url == OPERATOR["SMTP_URL"]
    assert config.mail_from == OPERATOR["MAIL_FROM"]
    assert not config.webhooks_allow_private_networks
    assert not NotifierConfig.from_env(
        environment("notifications-web")
    ).webhooks_allow_private_networks


def test_the_monitor_and_the_router_reach_every_process_by_its_service_name():
    monitor = MonitorConfig.from_env(environment("monitor-web"))
    # The live tail is served by the feeds process: scripts use the same token there.
    for service in ("monitor-web", "feeds"):
        assert (
            MonitorConfig.from_env(environment(service)).api_token == OPERATOR["MONITOR_API_TOKEN"]
        )
    backends = {
        "LISTINGS_URL": "listings-web",
        "NOTIFICATIONS_URL": "notifications-web",
        "MONITOR_URL": "monitor-web",
        "FEEDS_URL": "feeds",
        "RELAY_HEALTH_URL": "listings-relay",
        "LISTINGS_MATCHES_HEALTH_URL": "listings-matches",
        "MATCHER_HEALTH_URL": "matcher",
        "NOTIFIER_HEALTH_URL": "notifier",
    }
    router = environment("router")
    for variable in DEFAULT_URLS:  # each one the router would otherwise look for on 127.0.0.1
        assert_reaches(router[variable], backends[variable])
    for url in monitor.services.values():
        assert urlsplit(url).hostname in SERVICES, url
        assert_reaches(url, str(urlsplit(url).hostname))


def test_listings_fetches_the_api_reference_parts_from_the_services_that_serve_them():
    # /api/v1/openapi.json merges the notifications and monitor parts listings fetches.
    for part in remote_parts(environment("listings-web")):
        url = urlsplit(part.url)
        assert_reaches(f"{url.scheme}://{url.netloc}", f"{part.name}-web")


def test_caddy_alone_is_published_and_serves_the_domain_with_tls():
    published = {name for name, service in SERVICES.items() if service.get("ports")}
    assert published == {"caddy"}
    assert not any(service.get("network_mode") == "host" for service in SERVICES.values())
    caddy = SERVICES["caddy"]
    assert caddy["image"].split(":") == ["caddy", "2"]
    assert {str(p).split("/")[0] for p in caddy["ports"]} == {"80:80", "443:443"}
    env = environment("caddy")
    # A domain name as the site address is what makes Caddy obtain a certificate.
    assert env["BOUCLE_SITE"] == OPERATOR["BOUCLE_DOMAIN"]
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in caddy["volumes"]}
    assert mounts["/etc/caddy/Caddyfile"] == "./services/edge/Caddyfile"
    # Certificates and ACME account keys survive a new container.
    assert {mounts["/data"], mounts["/config"]} <= set(COMPOSE["volumes"])


def test_caddy_forwards_to_the_processes_that_serve_each_part():
    env = environment("caddy")
    upstreams = {
        "LISTINGS_UPSTREAM": "listings-web",
        "NOTIFICATIONS_UPSTREAM": "notifications-web",
        "MONITOR_UPSTREAM": "monitor-web",
        "FEEDS_UPSTREAM": "feeds",
        "HEALTH_UPSTREAM": "router",
    }
    for variable, service in upstreams.items():
        assert_reaches(env[variable], service)
    # Every placeholder the Caddyfile reads without a default is given.
    placeholders = set(re.findall(r"\{\$(\w+)\}", CADDYFILE.read_text()))
    assert placeholders <= set(env), placeholders - set(env)


def test_kafka_keeps_its_log_on_a_volume_and_creates_no_topic_by_itself():
    kafka = SERVICES["kafka"]
    env = environment("kafka")
    assert kafka["image"].startswith("apache/kafka:")
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in kafka["volumes"]}
    assert mounts[env["KAFKA_LOG_DIRS"]] in COMPOSE["volumes"]


def test_postgres_and_redis_run_with_health_checks():
    postgres = SERVICES["postgres"]
    assert environment("postgres")["POSTGRES_PASSWORD"] == OPERATOR["POSTGRES_PASSWORD"]
    assert any(v.endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])
    assert "healthcheck" in postgres
    assert SERVICES["redis"]["image"].startswith("redis:")
    assert "healthcheck" in SERVICES["redis"]
