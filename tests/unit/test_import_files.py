"""Reading spreadsheets as people save them (Excel's CSV dialects, XLSX cells), and writing
the Atom and iCalendar documents other programs read."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime

import icalendar
import pytest
from openpyxl import Workbook

from listings.import_files import (
    COLUMNS,
    MAX_BYTES,
    MAX_ROWS,
    ImportFileError,
    read_rows,
    template_csv,
    template_xlsx,
)
from listings.syndication import (
    FeedEntry,
    Window,
    atom_feed,
    calendar,
    calendar_token,
    calendar_token_valid,
)


def test_a_french_excel_csv_with_semicolons_in_windows_1252_is_read_with_its_line_numbers():
    content = (
        "kind;title;category;quantity;unit;place\r\n"
        "offer;Chutes de bâche;ewc-150102;2,5;kg;Metz\r\n"
        ";;;;;\r\n"
        "offer;Palettes;ewc-150103;4;pallets;Thionville\r\n"
    )
    rows = read_rows("annonces.csv", content.encode("cp1252"))
    assert [row.line for row in rows] == [2, 4]  # the blank line is skipped, not renumbered
    assert rows[0].cells["title"] == "Chutes de bâche" and rows[0].cells["quantity"] == "2,5"


def test_xlsx_cells_become_what_the_form_would_receive():
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Kind", "Title", "Category", "Quantity", "Unit", "Place", "Use by", "Draft"])
    sheet.append(["offer", "Pommes", "produce-apples", 40.0, "kg", "Metz", date(2030, 5, 1), True])
    out = io.BytesIO()
    book.save(out)
    [row] = read_rows("apples.xlsx", out.getvalue())
    assert row.cells["quantity"] == "40" and row.cells["use_by"] == "2030-05-01"
    assert row.cells["draft"] == "yes"


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "empty"),
        (b"title,quantity\nPommes,3\n", "missing_columns"),
        (b"PK\x03\x04 not really a workbook", "unreadable"),
        (b"x" * (MAX_BYTES + 1), "too_large"),
        (
            (",".join(COLUMNS) + "\n" + "offer,t,c,1,kg,,P\n" * (MAX_ROWS + 1)).encode(),
            "too_many_rows",
        ),
    ],
)
def test_a_file_that_cannot_be_imported_says_why(content: bytes, code: str):
    with pytest.raises(ImportFileError) as refused:
        read_rows("listings.csv", content)
    assert refused.value.code == code


def test_both_templates_read_back_as_one_example_row():
    [from_csv] = read_rows("t.csv", template_csv())
    [from_xlsx] = read_rows("t.xlsx", template_xlsx([("unit", "kg", "kg")]))
    assert from_csv.cells == from_xlsx.cells and set(from_csv.cells) == set(COLUMNS)


def test_the_atom_feed_escapes_what_posters_type():
    moment = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    entry = FeedEntry(
        id="7d3c",
        title='<script>alert("x")</script> & Co',
        summary="2 kg · Metz]]>",
        url="https://boucle.example/listings/7d3c?a=1&b=2",
        category="ewc-150103",
        category_label="Palettes & caisses",
        place="Metz",
        published=moment,
        updated=moment,
    )
    document = atom_feed(
        feed_id="tag:boucle,2026:offers",
        title="Offers",
        self_url="https://boucle.example/feeds/offers.atom?a=1&b=2",
        page_url="https://boucle.example/listings",
        entries=[entry],
    )
    assert b"<script>" not in document
    feed = ET.fromstring(document)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert feed.findtext("a:entry/a:title", namespaces=ns) == entry.title
    assert feed.find("a:entry/a:link", ns).get("href") == entry.url
    assert feed.findtext("a:updated", namespaces=ns) == "2026-12-01T12:00:00Z"


def test_the_calendar_holds_each_window_and_its_address_is_bound_to_the_organisation():
    start = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    window = Window("exchange-1@boucle", "Pick-up: Palettes", "Exchange with A", start, None, "u")
    [event] = icalendar.Calendar.from_ical(calendar("Pick-ups", [window], start)).walk("VEVENT")
    assert event.decoded("dtstart") == start and "dtend" not in event
    token = calendar_token("key", "org-1")
    assert calendar_token_valid("key", "org-1", token)
    assert not calendar_token_valid("key", "org-2", token)
    assert not calendar_token_valid("other key", "org-1", token)


def test_a_csv_the_reader_cannot_parse_is_unreadable_not_a_crash():
    # A carriage return inside an unquoted cell makes the csv module give up.
    content = b"kind,title,category,quantity,unit,place\noffer,Pal\rlets,x,1,kg,Metz\n"
    with pytest.raises(ImportFileError) as refused:
        read_rows("listings.csv", content)
    assert refused.value.code == "unreadable"
