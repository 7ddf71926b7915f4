"""The one API reference: every service's endpoints, how to authenticate, the errors, examples
that work, a page that can authorize, and a note instead of a failure when a service is away."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import Client

from listings.api_reference import RemotePart, fetch_json, reference
from tests.integration.api_services import Services, running_services, served

GROUPS = {
    "listings": "/api/v1/listings",
    "organisations": "/api/v1/organisations",
    "tokens": "/api/v1/organisations/me/tokens",
    "categories": "/api/v1/categories",
    "exchanges": "/api/v1/exchanges",
    "alerts": "/api/v1/alerts",
    "webhooks": "/api/v1/webhooks",
    "inbox": "/api/v1/inbox",
    "notification settings": "/api/v1/notification-preferences",
    "members": "/api/v1/organisations/me/members",
    "profile": "/api/v1/organisations/me/profile",
    "monitor": "/api/v1/monitor/",
}
PUBLIC = {
    "GET /api/v1/listings",
    "GET /api/v1/categories",
    "POST /api/v1/organisations",
    # Whoever forgot their password has no token: the answer is the same for any address.
    "POST /api/v1/password/forgot",
}
METHODS = {"get", "put", "post", "patch", "delete"}
A_UUID = "00000000-0000-4000-8000-000000000000"


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method, path, operation


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        section, name = node["$ref"].split("/")[-2:]
        node = document["components"][section][name]
    return node


def body_example(operation: dict[str, Any]) -> Any:
    content = operation.get("requestBody", {}).get("content", {})
    return content.get("application/json", {}).get("example")


@pytest.fixture(scope="module")
def services(module_postgres_url: str, kafka_bootstrap: str) -> Iterator[Services]:
    with running_services(module_postgres_url, kafka_bootstrap) as running:
        yield running


@pytest.fixture(scope="module")
def document(services: Services) -> dict[str, Any]:
    answer = services.apps["listings"].test_client().get("/api/v1/openapi.json")
    assert answer.status_code == 200
    found: dict[str, Any] = answer.get_json()
    return found


@pytest.mark.postgres
@pytest.mark.kafka
def test_the_reference_lists_the_endpoints_of_every_service(document: dict[str, Any]):
    paths = list(document["paths"])
    missing = [g for g, prefix in GROUPS.items() if not any(p.startswith(prefix) for p in paths)]
    assert missing == []
    assert "missing" not in document["info"].get("description", "")


@pytest.mark.postgres
@pytest.mark.kafka
def test_every_operation_says_how_to_authenticate_and_which_errors_come_back(
    document: dict[str, Any],
):
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"]["type"] == "http"
    assert schemes["bearerAuth"]["scheme"] == "bearer"
    public = set()
    for method, path, operation in operations(document):
        name = f"{method.upper()} {path}"
        statuses = set(operation["responses"])
        assert any(s.startswith("4") for s in statuses), f"{name} documents no client error"
        assert "security" in operation, f"{name} does not say whether it needs a token"
        if operation["security"] == []:
            public.add(name)
            continue
        assert {"bearerAuth": []} in operation["security"], name
        assert "401" in statuses, name
        for requirement in operation["security"]:
            assert set(requirement) <= set(schemes), name
    assert public == PUBLIC


@pytest.mark.postgres
@pytest.mark.kafka
def test_an_operation_documented_with_a_token_refuses_a_caller_without_one(
    services: Services, document: dict[str, Any]
):
    # Anonymous calls through the edge, with a valid body so that only the token is missing.
    edge = Client(services.edge())
    for method, path, operation in operations(document):
        if operation["security"] == [] or {} in operation["security"]:
            continue
        url = re.sub(r"\{(partition|offset)\}", "0", path)
        url = re.sub(r"\{[^}]+\}", A_UUID, url)
        answer = edge.open(url, method=method.upper(), json=body_example(operation))
        assert answer.status_code == 401, f"{method.upper()} {path}: {answer.status_code}"
        assert answer.json["code"] == 401


@pytest.mark.postgres
@pytest.mark.kafka
def test_every_error_answer_is_the_house_error_with_an_example(document: dict[str, Any]):
    error = document["components"]["schemas"]["Error"]
    assert {"code", "status", "message"} <= set(error["required"])
    assert "errors" in error["properties"]
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if not status.startswith("4"):
                continue
            content = resolve(document, response)["content"]["application/json"]
            assert content["schema"] == {"$ref": "#/components/schemas/Error"}
            assert content["example"]["code"] == int(status), f"{method} {path} {status}"


@pytest.mark.postgres
@pytest.mark.kafka
def test_request_bodies_and_answers_come_with_examples(document: dict[str, Any]):
    for method, path, operation in operations(document):
        name = f"{method.upper()} {path}"
        if "requestBody" in operation:
            assert body_example(operation) is not None, f"{name}: no request example"
        for status, response in operation["responses"].items():
            if status.startswith("2") and "content" in response:
                for media in response["content"].values():
                    assert "example" in media, f"{name} {status}: no example"


@pytest.mark.postgres
@pytest.mark.kafka
def test_the_examples_of_the_reference_are_requests_that_work(
    services: Services, document: dict[str, Any]
):
    def example(method: str, path: str) -> Any:
        return body_example(document["paths"][path][method])

    client = services.apps["listings"].test_client()
    registered = client.post("/api/v1/organisations", json=example("post", "/api/v1/organisations"))
    assert registered.status_code == 201, registered.get_json()
    token = {"Authorization": f"Bearer {registered.get_json()['api_token']}"}
    listing = client.post(
        "/api/v1/listings", json=example("post", "/api/v1/listings"), headers=token
    )
    assert listing.status_code == 201, listing.get_json()
    asked = client.post(
        f"/api/v1/listings/{listing.get_json()['id']}/exchanges",
        json=example("post", "/api/v1/listings/{listing_id}/exchanges"),
        headers=services.credentials("listings"),
    )
    assert asked.status_code == 201, asked.get_json()
    tokens = "/api/v1/organisations/me/tokens"
    assert client.post(tokens, json=example("post", tokens), headers=token).status_code == 201
    preferences = (
        services.apps["notifications"]
        .test_client()
        .put(
            "/api/v1/notification-preferences",
            json=example("put", "/api/v1/notification-preferences"),
            headers=services.credentials("notifications"),
        )
    )
    assert preferences.status_code == 200, preferences.get_json()


@pytest.mark.postgres
@pytest.mark.kafka
def test_the_docs_page_can_authorize_and_says_its_language(services: Services):
    client = services.apps["listings"].test_client()
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert re.search(r'<html lang="en">', html)
    # Scripts are files of our own (no inline script the Content-Security-Policy would block).
    scripts = re.findall(r"<script([^>]*)>", html)
    assert scripts and all('src="/static/' in attributes for attributes in scripts)
    assert "/static/api-docs.js" in html
    setup = client.get("/static/api-docs.js").get_data(as_text=True)
    assert "persistAuthorization: true" in setup
    assert 'data-spec-url="/api/v1/openapi.json"' in html


# --- the other services' parts, fetched over HTTP -------------------------------------------


def part_app(paths: dict[str, Any]) -> Flask:
    app = Flask("part")
    app.config["hits"] = 0

    @app.get("/part.json")
    def part() -> Any:
        app.config["hits"] += 1
        return {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": paths}

    return app


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


OWN = {"openapi": "3.1.0", "info": {"title": "Boucle", "version": "v1"}, "paths": {"/own": {}}}


def test_a_part_is_fetched_once_a_minute_and_its_last_copy_outlives_its_service():
    app = part_app({"/api/v1/alerts": {}})
    with served(app) as base_url:
        part = RemotePart("notifications", "Notifications", f"{base_url}/part.json")
        assert "/api/v1/alerts" in reference(OWN, [part], now=0.0)["paths"]
        assert "/api/v1/alerts" in reference(OWN, [part], now=59.0)["paths"]
        assert app.config["hits"] == 1
    # The service has stopped: the copy fetched a minute ago is still the best reference.
    merged = reference(OWN, [part], now=61.0)
    assert set(merged["paths"]) == {"/own", "/api/v1/alerts"}
    assert "missing" not in merged["info"].get("description", "")


def test_a_service_that_never_answered_is_named_and_not_asked_again_at_once():
    calls: list[str] = []

    def counting_fetch(url: str, timeout_s: float) -> dict[str, Any]:
        calls.append(url)
        return fetch_json(url, timeout_s)

    url = f"http://127.0.0.1:{closed_port()}/part.json"
    part = RemotePart("monitor", "Monitor", url, fetch=counting_fetch)
    merged = reference(OWN, [part], now=0.0)
    assert set(merged["paths"]) == {"/own"}
    assert "**monitor**: its service did not answer" in merged["info"]["description"]
    reference(OWN, [part], now=5.0)
    assert len(calls) == 1  # a reader a moment later does not wait for the timeout again
    reference(OWN, [part], now=11.0)
    assert len(calls) == 2
