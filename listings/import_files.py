"""Reading a spreadsheet of listings (CSV or XLSX) into rows of text, and writing its template.

Framework-free: the pages and the API judge each row with the posting form (import_rows.py).
Every cell becomes text as someone would have typed it into the form, so that one set of
rules judges an upload, a form and an API call alike.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

# The posting form's fields, in its order; the template's header row.
COLUMNS = (
    "kind",
    "title",
    "description",
    "category",
    "quantity",
    "unit",
    "min_quantity",
    "place",
    "radius_km",
    "available_until",
    "use_by",
    "recurrence",
    "price_mode",
    "price_amount",
    "max_price",
    "draft",
)
REQUIRED_COLUMNS = frozenset({"kind", "title", "category", "quantity", "unit", "place"})
EXAMPLE_ROW = {
    "kind": "offer",
    "title": "40 Euro pallets, good condition",
    "description": "Collected from our yard, weekdays 8-16h",
    "category": "ewc-150103",
    "quantity": "40",
    "unit": "pallets",
    "min_quantity": "",
    "place": "Esch-sur-Alzette",
    "radius_km": "25",
    "available_until": "2030-06-30",
    "use_by": "",
    "recurrence": "one-off",
    "price_mode": "free",
    "price_amount": "",
    "max_price": "",
    "draft": "no",
}
# A spreadsheet is bounded so that one upload cannot hold a page (or the geocoder) for minutes.
MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 500
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportFileError(ValueError):
    """The file as a whole cannot be read; `code` names why, `detail` fills the message."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True, slots=True)
class SheetRow:
    """One data row: its line number in the file (the header is line 1) and its cells."""

    line: int
    cells: dict[str, str]


def read_rows(filename: str, content: bytes) -> list[SheetRow]:
    """The non-empty data rows of a CSV or XLSX file, checked for size, columns and count."""
    if len(content) > MAX_BYTES:
        raise ImportFileError("too_large", f"{MAX_BYTES // (1024 * 1024)} MB")
    if not content.strip():
        raise ImportFileError("empty")
    if filename.lower().endswith(".xlsx") or content.startswith(b"PK\x03\x04"):
        table = _xlsx_rows(content)
    else:
        table = _csv_rows(content)
    header = [_header_name(cell) for cell in next(table, [])]
    missing = sorted(REQUIRED_COLUMNS - set(header))
    if missing:
        raise ImportFileError("missing_columns", ", ".join(missing))
    rows: list[SheetRow] = []
    for line, values in enumerate(table, start=2):
        cells = {
            name: value.strip()
            for name, value in zip(header, values, strict=False)
            if name in COLUMNS
        }
        if not any(cells.values()):
            continue  # spreadsheets keep blank lines at the end
        if len(rows) == MAX_ROWS:
            raise ImportFileError("too_many_rows", str(MAX_ROWS))
        rows.append(SheetRow(line, cells))
    if not rows:
        raise ImportFileError("empty")
    return rows


def _header_name(cell: str) -> str:
    return cell.strip().lower().replace(" ", "_").lstrip("\ufeff")


def _csv_rows(content: bytes) -> Iterator[list[str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on Windows saves "CSV" in its ANSI code page, not UTF-8.
        text = content.decode("cp1252", errors="replace")
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel  # a single column, or nothing to tell the separator by
    try:
        return iter(list(csv.reader(io.StringIO(text), dialect)))
    except csv.Error as exc:  # e.g. a line break inside an unquoted cell: not a CSV we read
        raise ImportFileError("unreadable") from exc


def _xlsx_rows(content: bytes) -> Iterator[list[str]]:
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise ImportFileError("unreadable") from exc
    sheet = book.worksheets[0]
    rows = [[cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    book.close()
    return iter(rows)


def cell_text(value: Any) -> str:
    """A cell as the posting form would receive it: dates as YYYY-MM-DD, 40.0 as 40."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}" if value == int(value) and abs(value) < 1e15 else repr(value)
    return str(value)


def template_csv() -> bytes:
    """The CSV template: the header and one example row (UTF-8 with a BOM, which Excel needs)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerow([EXAMPLE_ROW[name] for name in COLUMNS])
    return out.getvalue().encode("utf-8-sig")


def template_xlsx(values: Iterable[tuple[str, str, str]] = ()) -> bytes:
    """The XLSX template: the header and one example row; `values` (column, value, meaning)
    fill a second sheet listing what each column accepts."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "listings"
    sheet.append(list(COLUMNS))
    sheet.append([EXAMPLE_ROW[name] for name in COLUMNS])
    sheet.freeze_panes = "A2"
    choices = book.create_sheet("values")
    choices.append(["column", "value", "meaning"])
    for row in values:
        choices.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
