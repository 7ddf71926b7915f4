"""Judging the rows of an uploaded spreadsheet with the posting form's own rules, and
importing the valid ones. Used by the import page and by POST /api/v1/listings/import.

Each row is fed to `ListingForm` as if someone had typed it, so the messages are the form's,
in the language of the request; then its place is found like the form's. All valid rows are
created in one transaction (ListingService.create_many): one import, one outcome.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

from flask_babel import gettext as _
from geopy.geocoders.base import Geocoder
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.datastructures import MultiDict

from listings.domain import Listing
from listings.forms import ListingForm
from listings.import_files import COLUMNS, MAX_ROWS, ImportFileError, SheetRow
from listings.places import PlaceError, resolve
from listings.service import ListingService
from shared.auth import Principal
from shared.taxonomy import Taxonomy

_NUMBERS = ("quantity", "min_quantity", "radius_km", "price_amount", "max_price")
_DATES = ("available_until", "use_by")
_DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")
_DAY_FIRST = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$")
_YES = frozenset({"yes", "y", "true", "1", "x", "oui", "ja", "draft"})


@dataclass
class RowResult:
    """One row's verdict: the line in the file, its errors per column, what it would create."""

    line: int
    cells: dict[str, str]
    errors: dict[str, list[str]] = field(default_factory=dict)
    fields: dict[str, Any] | None = None
    listing_id: str | None = None

    @property
    def valid(self) -> bool:
        return not self.errors


def file_error_message(error: ImportFileError) -> str:
    """What went wrong with the whole file, in the request's language."""
    messages = {
        "too_large": _("The file is larger than %(limit)s.", limit=error.detail),
        "too_many_rows": _(
            "The file has more than %(limit)s listings; split it into several files.",
            limit=error.detail,
        ),
        "empty": _("The file has no listings."),
        "unreadable": _("The file cannot be read; upload a CSV or an XLSX file."),
        "missing_columns": _(
            "The file lacks the columns %(columns)s; start from the template.",
            columns=error.detail,
        ),
    }
    return messages.get(error.code, str(error))


def judge(rows: list[SheetRow], taxonomy: Taxonomy, geocoder: Geocoder) -> list[RowResult]:
    """Each row checked like the posting form, with its place located (once per place name)."""
    places = _RememberedPlaces(geocoder)
    categories = [(category.id, category.id) for category in taxonomy.all()]
    return [_judge_row(row, categories, places) for row in rows]


def create_valid(
    results: list[RowResult], service: ListingService, principal: Principal
) -> list[Listing]:
    """Create the valid rows' listings together; each result learns its listing's id."""
    valid = [result for result in results if result.valid and result.fields is not None]
    created = service.create_many([result.fields for result in valid if result.fields], principal)
    for result, listing in zip(valid, created, strict=True):
        result.listing_id = listing.id
    return created


def seal(rows: list[SheetRow], secret_key: str, organisation_id: str) -> str:
    """The rows of a previewed file, signed for the confirming form (bound to the
    organisation), so the member does not upload the file twice."""
    payload = {"org": organisation_id, "rows": [[row.line, row.cells] for row in rows]}
    return str(_serializer(secret_key).dumps(payload))


def unseal(token: str, secret_key: str, organisation_id: str) -> list[SheetRow]:
    """The rows sealed by `seal` for this organisation; ImportFileError if tampered with."""
    try:
        payload = _serializer(secret_key).loads(token)
    except BadSignature as exc:
        raise ImportFileError("unreadable") from exc
    if payload.get("org") != organisation_id or len(payload.get("rows", ())) > MAX_ROWS:
        raise ImportFileError("unreadable")
    return [
        SheetRow(int(line), {k: str(v) for k, v in cells.items() if k in COLUMNS})
        for line, cells in payload["rows"]
    ]


def _serializer(secret_key: str) -> URLSafeSerializer:
    # URL-safe serialisers compress the JSON, which keeps 500 rows in a modest hidden field.
    return URLSafeSerializer(secret_key, salt="boucle.listings-import")


class _RememberedPlaces:
    """Place lookups of one import: a file names the same few towns many times, and
    Nominatim allows one request a second."""

    def __init__(self, geocoder: Geocoder) -> None:
        self._geocoder = geocoder
        self._found: dict[str, dict[str, Any] | PlaceError] = {}

    def resolve(self, text: str) -> dict[str, Any]:
        key = text.strip().casefold()
        if key not in self._found:
            try:
                self._found[key] = resolve(self._geocoder, text)
            except PlaceError as exc:
                self._found[key] = exc
        found = self._found[key]
        if isinstance(found, PlaceError):
            raise found
        return found


def _judge_row(
    row: SheetRow, categories: list[tuple[str, str]], places: _RememberedPlaces
) -> RowResult:
    result = RowResult(row.line, row.cells)
    form = ListingForm(formdata=MultiDict(_as_typed(row.cells)), meta={"csrf": False})
    form.category.choices = categories
    if not form.validate():
        result.errors = {name: [str(m) for m in messages] for name, messages in form.errors.items()}
        return result
    fields = _fields(form)
    try:
        location = places.resolve(fields["place"])
    except PlaceError as exc:
        result.errors = {"place": [str(exc)]}
        return result
    result.fields = {**fields, "location": location}
    return result


def _as_typed(cells: dict[str, str]) -> dict[str, str]:
    """Cells as the form's fields read them: 12,5 -> 12.5, 30/06/2030 -> 2030-06-30,
    draft yes/oui/ja -> checked; everything else untouched for the form to judge."""
    typed = {name: value for name, value in cells.items() if name in COLUMNS}
    for name in _NUMBERS:
        if _DECIMAL_COMMA.match(typed.get(name, "")):
            typed[name] = typed[name].replace(",", ".")
    for name in _DATES:
        if day_first := _DAY_FIRST.match(typed.get(name, "")):
            day, month, year = day_first.groups()
            typed[name] = f"{year}-{int(month):02d}-{int(day):02d}"
    typed["draft"] = "y" if typed.get("draft", "").casefold() in _YES else ""
    # Blank like the form's preselected choices; a blank distance stays an error as on the form.
    typed["recurrence"] = typed.get("recurrence") or "one-off"
    typed["price_mode"] = typed.get("price_mode") or "free"
    return typed


def _fields(form: ListingForm) -> dict[str, Any]:
    """Use-case input from a valid form (as listings/web.py builds it for one listing)."""
    end = form.available_until.data

    def number(value: Any) -> float | None:
        return float(value) if value is not None else None

    return {
        "kind": form.kind.data,
        "title": form.title.data,
        "description": form.description.data or "",
        "category": form.category.data,
        "quantity": float(form.quantity.data or 0),
        "unit": form.unit.data,
        "min_quantity": number(form.min_quantity.data),
        "max_price": number(form.max_price.data),
        "radius_km": float(form.radius_km.data or 0),
        "available_until": datetime.combine(end, time.max, tzinfo=UTC) if end else None,
        "use_by": form.use_by.data,
        "recurrence": form.recurrence.data,
        "price": {"mode": form.price_mode.data, "amount": number(form.price_amount.data)},
        "place": form.place.data,
        "draft": bool(form.draft.data),
    }
