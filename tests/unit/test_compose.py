"""docker-compose.yml: it parses, and it deploys every process the code has."""

from __future__ import annotations

from pathlib import Path

import yaml

from services.stack import Ports, _commands

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def test_compose_names_the_broker_the_database_and_every_process_of_the_code() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    assert set(services) == {"kafka", "postgres", *_commands(Ports())}


def test_every_boucle_process_in_compose_has_a_health_check_and_its_configuration() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    for name in _commands(Ports()):
        service = services[name]
        assert "healthcheck" in service, name
        assert service["environment"]["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092", name
        assert service["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://"), name
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
