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
