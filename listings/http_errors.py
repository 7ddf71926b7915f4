"""Use-case errors as HTTP answers: JSON for the API, the page frame for everything else."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.exceptions import BadRequest, Forbidden, HTTPException, NotFound

from listings import errors
from shared.web import error_response, register_json_errors


def field_error(field: str, message: str) -> BadRequest:
    """A 400 whose body names the field and the reason, like a schema error."""
    error = BadRequest(message)
    error.data = {"messages": {"json": {field: [message]}}}  # type: ignore[attr-defined]
    return error


class ConflictError(HTTPException):
    code = 409
    description = "conflict"


def register_error_pages(app: Flask) -> None:
    """Map use-case errors to 404/403/409, answered like every other HTTP error."""

    def translate(error: errors.ListingsError) -> HTTPException:
        if isinstance(error, errors.NotFound):
            return NotFound("no such listing or organisation")
        if isinstance(error, errors.Forbidden):
            return Forbidden(str(error))
        return ConflictError(str(error))

    @app.errorhandler(errors.ListingsError)
    def _use_case_error(error: errors.ListingsError) -> Any:
        return error_response(translate(error))

    register_json_errors(app)
