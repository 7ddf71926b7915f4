"""POST /api/v1/listings/import: a CSV or XLSX of listings checked row by row (dry_run) or
imported, the valid rows in one transaction; errors in the caller's language."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest.fields import Upload
from marshmallow import Schema, fields
from werkzeug.exceptions import BadRequest

from listings.auth import require_principal
from listings.import_files import MAX_BYTES, MAX_ROWS, ImportFileError, read_rows
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


class ImportFile(Schema):
    file = Upload(
        required=True,
        metadata={
            "description": f"CSV or XLSX with the template's columns; at most {MAX_ROWS} rows "
            f"and {MAX_BYTES // (1024 * 1024)} MB (template: /my/listings/import/template.csv)"
        },
    )


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
    @blp.arguments(ImportFile, location="files")
    @blp.response(200, ImportOut)
    def post(self, query: dict[str, Any], upload: dict[str, Any]) -> dict[str, Any]:
        """Post many listings from a spreadsheet: every valid row is created (all together,
        in one transaction), invalid rows are left out and their errors returned per column.
        With `dry_run=true` nothing is created."""
        principal = require_principal()
        file = upload["file"]
        try:
            rows = read_rows(file.filename or "", file.read(MAX_BYTES + 1))
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
