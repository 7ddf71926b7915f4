"""Bulk import page: upload a CSV or XLSX of listings, see each row's errors, import the
valid rows in one go; and the templates to start from."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response
from wtforms import HiddenField

from listings.forms import UNIT_LABELS
from listings.import_files import (
    MAX_BYTES,
    MAX_ROWS,
    XLSX_TYPE,
    ImportFileError,
    SheetRow,
    read_rows,
    template_csv,
    template_xlsx,
)
from listings.import_rows import RowResult, create_valid, file_error_message, judge, seal, unseal
from listings.web_support import ext, login_required
from shared.auth import Principal
from shared.event_schemas import LISTING_KINDS, PRICE_MODES, RECURRENCES, UNITS
from shared.taxonomy import Taxonomy

bp = Blueprint("import_pages", __name__, template_folder="templates")
UPLOAD_ENDPOINTS = frozenset({"import_pages.import_listings", "listings_import_api.ListingsImport"})


class ImportForm(FlaskForm):
    """The upload (a file), or the confirmation of a previewed one (its sealed rows)."""

    file = FileField()
    rows = HiddenField()


@bp.route("/my/listings/import", methods=["GET", "POST"])
def import_listings() -> str | Response | tuple[str, int]:
    principal = login_required()
    if isinstance(principal, Response):
        return principal
    form = ImportForm()
    if not form.validate_on_submit():
        return _page(form, status=400 if form.errors else 200)
    try:
        rows = _submitted_rows(form, principal)
    except ImportFileError as exc:
        return _page(form, error=file_error_message(exc), status=400)
    results = judge(rows, ext("taxonomy"), ext("geocoder"))
    if request.form.get("action") != "import":
        sealed = seal(rows, _secret(), principal.organisation_id or "")
        confirm = ImportForm(formdata=None, rows=sealed)
        return _page(form, results=results, confirm=confirm)
    created = create_valid(results, ext("listing_service"), principal)
    skipped = len(results) - len(created)
    message = ngettext("%(num)d listing imported.", "%(num)d listings imported.", len(created))
    if skipped:
        message += " " + ngettext("%(num)d row left out.", "%(num)d rows left out.", skipped)
    flash(message)
    return redirect(url_for("pages.my_listings"))


def bound_upload() -> None:
    """Refuse an upload to an import endpoint bigger than the file limit (plus the form's
    fields) before anything reads it; registered ahead of the CSRF check, which reads forms."""
    if request.endpoint in UPLOAD_ENDPOINTS:
        request.max_content_length = MAX_BYTES + 64 * 1024


@bp.errorhandler(RequestEntityTooLarge)
def _upload_too_large(_error: RequestEntityTooLarge) -> tuple[str, int]:
    return _page(ImportForm(formdata=None), error=_too_large(), status=413)


@bp.get("/my/listings/import/template.csv")
def template_as_csv() -> Response:
    return _download(template_csv(), "text/csv; charset=utf-8", "boucle-listings.csv")


@bp.get("/my/listings/import/template.xlsx")
def template_as_xlsx() -> Response:
    return _download(template_xlsx(_accepted_values()), XLSX_TYPE, "boucle-listings.xlsx")


def _submitted_rows(form: ImportForm, principal: Principal) -> list[SheetRow]:
    if form.rows.data:
        return unseal(form.rows.data, _secret(), principal.organisation_id or "")
    upload = form.file.data
    if upload is None or not upload.filename:
        raise ImportFileError("empty")
    return read_rows(upload.filename, upload.read(MAX_BYTES + 1))


def _page(
    form: ImportForm,
    *,
    results: list[RowResult] | None = None,
    confirm: ImportForm | None = None,
    error: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    page = render_template(
        "import.html",
        form=form,
        results=results,
        valid=sum(1 for result in results if result.valid) if results else 0,
        confirm=confirm,
        error=error,
        max_rows=MAX_ROWS,
        max_megabytes=MAX_BYTES // (1024 * 1024),
    )
    return page, status


def _secret() -> str:
    return str(current_app.secret_key)


def _too_large() -> str:
    return file_error_message(ImportFileError("too_large", f"{MAX_BYTES // (1024 * 1024)} MB"))


def _download(content: bytes, mimetype: str, filename: str) -> Response:
    return Response(
        content,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _accepted_values() -> list[tuple[str, str, str]]:
    """What each coded column accepts, labelled in the page's language (the XLSX's 2nd sheet)."""
    lang = str(get_locale())
    taxonomy: Taxonomy = ext("taxonomy")
    kinds = {"offer": _("Offer"), "need": _("Need")}
    values = [("kind", kind, kinds.get(kind, kind)) for kind in LISTING_KINDS]
    values += [("unit", unit, str(UNIT_LABELS.get(unit, unit))) for unit in UNITS]
    values += [("recurrence", value, value) for value in RECURRENCES]
    values += [("price_mode", mode, mode) for mode in PRICE_MODES]
    values += [
        ("category", category.id, taxonomy.path_labels(category.id, lang, include_root=True))
        for category in taxonomy.all()
    ]
    return values
