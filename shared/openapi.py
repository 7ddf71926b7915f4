"""How every service describes its API: one error schema, one set of error answers, the ways
to authenticate, and decorators that say which of them an operation takes.

Each service serves its own part of the reference; the listings service merges the parts
into the one document at /api/v1/openapi.json (listings/api_reference.py).
"""

from __future__ import annotations

import http
from collections.abc import Callable
from typing import Any, TypeVar

import flask_smorest
from flask_smorest.utils import prepare_response
from marshmallow import Schema, fields

from shared.auth import SESSION_COOKIE_NAME
from shared.web import Blueprint

F = TypeVar("F", bound=Callable[..., Any])

BEARER = "bearerAuth"
COOKIE = "sessionCookie"
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    BEARER: {
        "type": "http",
        "scheme": "bearer",
        "description": (
            "An organisation's API token (`bcl_…`): shown once when the organisation "
            "registers (`POST /api/v1/organisations`) or when a token is created "
            "(`POST /api/v1/organisations/me/tokens`). Send `Authorization: Bearer <token>`. "
            "The monitor API is for admins of the exchange: an admin's login, or the "
            "monitor's own token (MONITOR_API_TOKEN)."
        ),
    },
    COOKIE: {
        "type": "apiKey",
        "in": "cookie",
        "name": SESSION_COOKIE_NAME,
        "description": (
            "The login cookie of the web pages, for the pages' own scripts. A change made "
            "with it (POST, PUT, PATCH, DELETE) must also carry the page's CSRF token in "
            "the `X-CSRFToken` header."
        ),
    },
}

#: Either way of signing in (a security requirement object per alternative).
SIGNED_IN: list[dict[str, list[str]]] = [{BEARER: []}, {COOKIE: []}]

#: What each error answer looks like in the reference (the message is an example).
ERROR_EXAMPLES: dict[int, dict[str, Any]] = {
    400: {
        "message": "The request was not valid.",
        "errors": {"quantity": ["Must be greater than 0 and less than or equal to 1000000000."]},
    },
    401: {"message": "Send your organisation's API token: Authorization: Bearer <token>."},
    403: {"message": "This listing belongs to another organisation."},
    404: {"message": "Not found (or not yours to see)."},
    409: {"message": "A closed listing can no longer be changed."},
    422: {"message": "The request is well formed but cannot be processed."},
    429: {"message": "Too many requests: 10 per 1 hour. Try again later."},
    503: {"message": "Kafka did not answer describe_topics: timed out"},
}


class ErrorSchema(Schema):
    """Every error of every service: `{code, status, message, errors?}`."""

    code = fields.Integer(required=True, metadata={"description": "the HTTP status code"})
    status = fields.String(required=True, metadata={"description": "the HTTP status name"})
    message = fields.String(required=True, metadata={"description": "what went wrong, for people"})
    errors = fields.Dict(
        keys=fields.String(),
        metadata={"description": "for a request that was not valid: each field and its reasons"},
    )


def error_example(status: int) -> dict[str, Any]:
    """The example body of an error answer with this status."""
    known = ERROR_EXAMPLES.get(status, {"message": http.HTTPStatus(status).phrase})
    return {"code": status, "status": http.HTTPStatus(status).phrase, **known}


class Api(flask_smorest.Api):
    """flask-smorest's Api with the house error schema, examples and security schemes."""

    ERROR_SCHEMA = ErrorSchema

    def _register_responses(self) -> None:
        # As flask-smorest does (one lazily registered answer per status, named like
        # HTTPStatus), with the house error body and an example for each error.
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
                response["example"] = error_example(status)
            elif status >= 200 and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, self.DEFAULT_RESPONSE_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Any other error", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, self.DEFAULT_RESPONSE_CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", default, lazy=True)
        for name, scheme in SECURITY_SCHEMES.items():
            self.spec.components.security_scheme(name, scheme)


class ApiBlueprint(Blueprint):
    """A blueprint whose operations say how a caller authenticates and which errors come back.

    Each decorator documents the security requirement and the error answers (401 always for
    an operation that reads credentials, as unknown ones are refused); pass the other
    statuses the operation can answer (404, 409, 429…). The edge resolves a token or the
    login cookie for every service alike (ADR 0007), so both are documented everywhere.
    """

    def public(self, *errors: int) -> Callable[[F], F]:
        """Anyone may call it: no credentials needed (`security: []`)."""
        return self._documented([], errors)

    def token(self, *errors: int) -> Callable[[F], F]:
        """Needs an organisation's API token (or a member's login cookie)."""
        return self._documented(SIGNED_IN, (401, *errors))

    def token_optional(self, *errors: int) -> Callable[[F], F]:
        """Works anonymously; with credentials the caller sees more (own drafts, alerts)."""
        return self._documented([{}, *SIGNED_IN], (401, *errors))

    def admin(self, *errors: int) -> Callable[[F], F]:
        """For admins of the exchange only: others are refused with 403."""
        return self._documented(SIGNED_IN, (401, 403, *errors))

    def _documented(
        self, security: list[dict[str, list[str]]], errors: tuple[int, ...]
    ) -> Callable[[F], F]:
        def decorate(view: F) -> F:
            documented = view
            for status in sorted(set(errors)):
                name = http.HTTPStatus(status).name
                documented = self.alt_response(status, response=name)(documented)
            return self.doc(security=security)(documented)

        return decorate
