"""`/metrics` on every Flask app: Prometheus text, request counts, and the optional token."""

from __future__ import annotations

from flask import Flask

from shared.metrics import register_metrics


def app_with_metrics(token: str | None) -> Flask:
    app = Flask("metrics-test")
    app.get("/things/<int:thing_id>")(lambda thing_id: {"id": thing_id})
    register_metrics(app, token=token)
    return app


def test_metrics_count_requests_per_route_not_per_path():
    client = app_with_metrics(token="").test_client()
    client.get("/things/1")
    client.get("/things/2")
    text = client.get("/metrics").get_data(as_text=True)
    line = 'boucle_http_requests_total{endpoint="/things/<int:thing_id>",method="GET",status="200"}'
    assert line in text
    assert "/things/1" not in text


def test_metrics_need_the_bearer_token_when_one_is_configured():
    client = app_with_metrics(token="s3cret").test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    response = client.get("/metrics", headers={"Authorization": "Bearer s3cret"})
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    assert "boucle_http_requests_total" in response.get_data(as_text=True)


def test_without_a_token_metrics_answer_only_callers_that_did_not_pass_a_proxy():
    client = app_with_metrics(token="").test_client()
    assert client.get("/metrics").status_code == 200  # a scraper on the process's own port
    for header in (
        {"X-Forwarded-For": "203.0.113.9"},
        {"Forwarded": "for=203.0.113.9;proto=https"},
        {"X-Real-IP": "203.0.113.9"},
        {"x-forwarded-proto": "https"},
    ):
        response = client.get("/metrics", headers=header)
        assert response.status_code == 404, header
        assert "boucle_http" not in response.get_data(as_text=True)


def test_with_a_token_metrics_are_readable_through_the_proxy_with_it_only():
    client = app_with_metrics(token="s3cret").test_client()
    through_proxy = {"X-Forwarded-For": "203.0.113.9"}
    assert client.get("/metrics", headers=through_proxy).status_code == 401
    authorized = {**through_proxy, "Authorization": "Bearer s3cret"}
    assert client.get("/metrics", headers=authorized).status_code == 200
