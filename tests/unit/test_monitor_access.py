"""Only admins see the monitor: visitors go to the login page, members get 403, on every route."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from monitor.app import create_app
from monitor.config import MonitorConfig
from monitor.domain.records import RawRecord
from monitor.domain.streams import GroupState, TopicState
from monitor.service import MonitorService
from shared.auth import Principal
from tests.edge_identity import act_as


def body(response: Any) -> Any:
    return response.get_json()


PAGES = [
    "/monitor",
    "/monitor/tail",
    "/monitor/dead-letters",
    "/monitor/activity",
    "/monitor/impact",
    "/monitor/impact.csv",
    "/monitor/dead-letters/matches.dlq/0/0",
]
API = [
    "/api/v1/monitor/topics",
    "/api/v1/monitor/groups",
    "/api/v1/monitor/services",
    "/api/v1/monitor/dead-letters",
    "/api/v1/monitor/dead-letters/matches.dlq/0/0",
    "/api/v1/monitor/replays",
    "/api/v1/monitor/activity",
    "/api/v1/monitor/impact",
    "/api/v1/monitor/impact.csv",
]
POSTS = [
    "/api/v1/monitor/dead-letters/matches.dlq/0/0/replay",
    "/api/v1/monitor/dead-letters/replay",
]


class FakeInspector:
    def topics(self, prefix: str = "") -> dict[str, TopicState]:
        return {"matches": TopicState("matches", {0: 0}, {0: 3})}

    def groups(self, topics: dict[str, TopicState]) -> list[GroupState]:
        return []

    def committed(self, group_id: str, topic: str, partition: int) -> int | None:
        return None


class FakePublisher:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    def publish_raw(self, topic: str, key: Any, value: Any, headers: Any) -> Any:
        self.sent.append((topic, value))
        publisher = self

        class Sent:
            def get(self, timeout: float) -> Any:
                return type(
                    "Meta", (), {"topic": topic, "partition": 0, "offset": len(publisher.sent)}
                )

        return Sent()


@pytest.fixture
def service() -> MonitorService:
    monitor = MonitorService(FakeInspector(), FakePublisher(), lambda c: [c], {})
    headers = (
        ("dlq.error", b"boom"),
        ("dlq.consumer", b"g"),
        ("dlq.topic", b"matches"),
        ("dlq.partition", b"0"),
        ("dlq.offset", b"0"),
        ("dlq.attempts", b"3"),
    )
    monitor.dead_letters.apply(RawRecord("matches.dlq", 0, 0, b"k", b"{}", headers, 1))
    return monitor


@pytest.fixture
def app(service: MonitorService) -> Flask:
    config = MonitorConfig(api_token="script-token-123")
    application = create_app(service, config, "test-secret", {})
    application.config["WTF_CSRF_ENABLED"] = False
    return application


def login(client: Any, role: str) -> None:
    act_as(client, Principal("org-1", "user-1", role), "test-secret")


@pytest.mark.parametrize("path", PAGES)
def test_an_anonymous_visitor_is_sent_to_the_login_page(app: Flask, path: str):
    response = app.test_client().get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=" + path.replace("/", "%2F"))


@pytest.mark.parametrize("path", PAGES)
def test_a_member_gets_the_admins_only_page(app: Flask, path: str):
    client = app.test_client()
    login(client, "member")
    response = client.get(path)
    assert response.status_code == 403
    assert b"Admins only" in response.data


@pytest.mark.parametrize("path", API)
def test_the_api_answers_401_to_anonymous_and_403_to_members(app: Flask, path: str):
    client = app.test_client()
    assert client.get(path).status_code == 401
    login(client, "member")
    response = client.get(path)
    assert response.status_code == 403
    assert body(response)["code"] == 403


@pytest.mark.parametrize("path", POSTS)
def test_nobody_but_an_admin_can_replay(app: Flask, service: MonitorService, path: str):
    client = app.test_client()
    assert client.post(path, json={}).status_code == 401
    login(client, "member")
    assert client.post(path, json={}).status_code == 403
    assert client.post(path, json={}, headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert service.publisher.sent == []  # type: ignore[attr-defined]


def test_an_admin_and_a_script_with_the_token_see_the_figures(app: Flask):
    client = app.test_client()
    scripted = client.get(
        "/api/v1/monitor/topics", headers={"Authorization": "Bearer script-token-123"}
    )
    assert scripted.status_code == 200
    assert body(scripted)["topics"][0]["partitions"][0]["end_offset"] == 3
    login(client, "admin")
    assert client.get("/monitor").status_code == 200
    assert body(client.get("/api/v1/monitor/dead-letters"))["dead_letters"][0]["error"] == "boom"


def test_replaying_an_unknown_or_already_replayed_letter_is_refused_clearly(app: Flask):
    client = app.test_client()
    script = {"Authorization": "Bearer script-token-123"}
    missing = client.post("/api/v1/monitor/dead-letters/matches.dlq/0/7/replay", headers=script)
    assert missing.status_code == 404
    first = client.post("/api/v1/monitor/dead-letters/matches.dlq/0/0/replay", headers=script)
    assert first.status_code == 202
    again = client.post("/api/v1/monitor/dead-letters/matches.dlq/0/0/replay", headers=script)
    assert again.status_code == 409 and "already replayed" in body(again)["message"]


def test_an_admin_session_changes_nothing_through_the_api_without_the_page_token(app: Flask):
    client = app.test_client()
    login(client, "admin")
    url = "/api/v1/monitor/dead-letters/matches.dlq/0/0/replay"
    forged = client.post(url)  # what another site could make the admin's browser send
    assert forged.status_code == 400 and "CSRF" in forged.get_data(as_text=True)
    page = client.get("/monitor/dead-letters").get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert token, "the dead-letters page carries a CSRF token"
    assert client.post(url, headers={"X-CSRFToken": token.group(1)}).status_code == 202


def test_bad_query_arguments_get_400_with_the_field(app: Flask):
    client = app.test_client()
    login(client, "admin")
    response = client.get("/api/v1/monitor/activity?days=1000")
    assert response.status_code == 400
    assert "days" in body(response)["errors"]  # the field, as every API of the exchange names it


def test_pages_speak_french_and_german(app: Flask):
    client = app.test_client()
    login(client, "admin")
    assert "Messages en échec".encode() in client.get("/monitor/dead-letters?lang=fr").data
    assert b"Fehlgeschlagene Nachrichten" in client.get("/monitor/dead-letters?lang=de").data
