"""POST /api/v1/listings/import: a CSV or XLSX of listings (or the same rows as JSON)
checked row by row (dry_run) or imported, the valid rows in one transaction; errors in the
caller's language."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.exceptions import BadRequest

from listings.auth import require_principal
from listings.import_files import (
    COLUMNS,
    EXAMPLE_ROW,
    MAX_BYTES,
    MAX_ROWS,
    ImportFileError,
    SheetRow,
    cell_text,
    read_rows,
)
from listings.import_rows import RowResult, create_valid, file_error_message, judge
from shared.openapi import ApiBlueprint

blp = ApiBlueprint(
    "listings_import_api", __name__, url_prefix="/api/v1", description="Offers and needs"
)


class ImportQuery(Schema):
    dry_run = fields.Boolean(
        load_default=False,
        metadata={"description": "only check the rows; nothing is created"},
    )


class ImportRowsIn(Schema):
    rows = fields.List(
        fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True)),
        required=True,
        validate=validate.Length(min=1, max=MAX_ROWS),
        metadata={"description": "listings with the template's columns as keys"},
    )


EXAMPLE_ROWS = {"rows": [EXAMPLE_ROW, {**EXAMPLE_ROW, "title": "", "unit": "sacks"}]}
REQUEST_BODY = {
    "required": True,
    "description": "The listings, one per row with the template's columns "
    f"({', '.join(COLUMNS)}): a CSV or XLSX file (multipart, field `file`, at most "
    f"{MAX_ROWS} rows and {MAX_BYTES // (1024 * 1024)} MB; template at "
    "/my/listings/import/template.csv), or JSON rows.",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["rows"],
                "properties": {
                    "rows": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": MAX_ROWS,
                        "items": {"type": "object", "additionalProperties": True},
                    }
                },
            },
            "example": EXAMPLE_ROWS,
        },
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        },
    },
}
IMPORT_OUT_EXAMPLE = {
    "dry_run": True,
    "total": 2,
    "valid": 1,
    "created": 0,
    "rows": [
        {"row": 1, "valid": True, "errors": {}, "listing_id": None},
        {
            "row": 2,
            "valid": False,
            "errors": {"title": ["This field is required."], "unit": ["Not a valid choice."]},
            "listing_id": None,
        },
    ],
}


class ImportRowOut(Schema):
    row = fields.Integer(attribute="line", metadata={"description": "line in the file"})
    valid = fields.Boolean()
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "column -> messages, in the caller's language"},
    )
    listing_id = fields.String(allow_none=True)


class ImportOut(Schema):
    dry_run = fields.Boolean()
    total = fields.Integer()
    valid = fields.Integer()
    created = fields.Integer()
    rows = fields.List(fields.Nested(ImportRowOut))


@blp.route("/listings/import")
class ListingsImport(MethodView):
    @blp.token(413)
    @blp.arguments(ImportQuery, location="query")
    @blp.doc(requestBody=REQUEST_BODY)
    @blp.response(200, ImportOut, example=IMPORT_OUT_EXAMPLE)
    def post(self, query: dict[str, Any]) -> dict[str, Any]:
        """Post many listings at once: every valid row is created (all together, in one
        transaction), invalid rows are left out with their errors per column, in the
        caller's language. With `dry_run=true` nothing is created. `row` is the line in the
        file (the header is line 1), or the position in `rows` (from 1)."""
        principal = require_principal()
        try:
            rows = _rows()
        except ImportFileError as exc:
            raise _file_error(exc) from exc
        extensions = current_app.extensions
        results = judge(rows, extensions["boucle.taxonomy"], extensions["boucle.geocoder"])
        created = []
        if not query["dry_run"]:
            created = create_valid(results, extensions["boucle.listing_service"], principal)
        return {
            "dry_run": query["dry_run"],
            "total": len(results),
            "valid": sum(1 for result in results if result.valid),
            "created": len(created),
            "rows": [_row(result) for result in results],
        }


def _rows() -> list[SheetRow]:
    """The rows of the uploaded file, or of the JSON body."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise ImportFileError("empty")
        return read_rows(upload.filename or "", upload.read(MAX_BYTES + 1))
    try:
        body = ImportRowsIn().load(request.get_json(silent=True) or {})
    except ValidationError as exc:
        error = BadRequest("the body needs rows: a list of listings")
        error.data = {"messages": {"json": exc.messages}}  # type: ignore[attr-defined]
        raise error from exc
    return [
        SheetRow(number, {str(k): cell_text(v).strip() for k, v in row.items() if k in COLUMNS})
        for number, row in enumerate(body["rows"], start=1)
    ]


def _row(result: RowResult) -> dict[str, Any]:
    return {
        "line": result.line,
        "valid": result.valid,
        "errors": result.errors,
        "listing_id": result.listing_id,
    }


def _file_error(error: ImportFileError) -> BadRequest:
    message = file_error_message(error)
    answer = BadRequest(message)
    answer.data = {"messages": {"files": {"file": [message]}}}  # type: ignore[attr-defined]
    return answer
