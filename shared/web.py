"""Flask pieces every web service shares: a parser that answers 400, JSON errors, /health."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flask
import flask_smorest
from flask import Flask, jsonify
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

from shared.auth import SESSION_COOKIE_NAME, SESSION_LIFETIME
from shared.edge import current_principal


class _BadRequestParser(FlaskParser):
    # Clients expect 400 for a body that fails validation; webargs' default is 422.
    DEFAULT_VALIDATION_STATUS = 400


class Blueprint(flask_smorest.Blueprint):
    """A flask-smorest blueprint whose argument errors are 400 with the field and the reason."""

    ARGUMENTS_PARSER = _BadRequestParser()


def json_error(error: HTTPException) -> Any:
    """An HTTP error as JSON `{code, status, message, errors?}`."""
    body: dict[str, Any] = {"code": error.code, "status": error.name, "message": error.description}
    data = getattr(error, "data", None) or {}
    if "messages" in data:
        # webargs puts field errors under their location ("json", "query"): keep the fields.
        messages = data["messages"]
        body["errors"] = messages.get("json", messages.get("query", messages))
    response = jsonify(body)
    response.status_code = error.code or 500
    return response


def register_json_errors(app: Flask) -> None:
    """Errors as JSON under /api/ (and for clients asking for JSON), as a page elsewhere."""

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Any:
        return error_response(error)


def error_response(error: HTTPException) -> Any:
    """The answer for an HTTP error: JSON for the API, the page frame's error page otherwise."""
    wants_json = flask.request.path.startswith("/api/") or (
        flask.request.accept_mimetypes.best == "application/json"
    )
    if wants_json:
        return json_error(error)
    return flask.render_template("error.html", error=error), error.code or 500


def register_health(app: Flask, checks: dict[str, Callable[[], object]]) -> None:
    """`GET /health`: 200 when every check passes, 503 with the failing check's error."""

    @app.get("/health")
    def health() -> Any:
        results: dict[str, str] = {}
        healthy = True
        for name, check in checks.items():
            try:
                check()
                results[name] = "ok"
            except Exception as exc:  # a health endpoint reports failures, it doesn't raise them
                results[name] = f"error: {exc}"
                healthy = False
        status = 200 if healthy else 503
        return jsonify({"status": "ok" if healthy else "degraded", "checks": results}), status


def session_config(secret_key: str, secure_cookies: bool) -> dict[str, Any]:
    """The login cookie every web app shares (signed with the same key, same name and
    lifetime), and CSRF tokens that stay valid as long as the login does."""
    return {
        "SECRET_KEY": secret_key,
        "SESSION_COOKIE_NAME": SESSION_COOKIE_NAME,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "PERMANENT_SESSION_LIFETIME": SESSION_LIFETIME,
        "WTF_CSRF_TIME_LIMIT": int(SESSION_LIFETIME.total_seconds()),
    }


def register_page_frame(app: Flask) -> None:
    """The shared page frame: `base.html`, the `form_field`/`error_summary` macros, /assets."""
    frame = flask.Blueprint(
        "frame",
        __name__,
        template_folder="templates",
        static_folder="static",
        static_url_path="/assets",
    )
    app.register_blueprint(frame)

    @app.context_processor
    def _principal() -> dict[str, Any]:
        return {"principal": current_principal()}
