"""Bulk import of listings from a spreadsheet, as an organisation does it: the template, a
preview with each row's errors in the member's language, then the valid rows imported with
their events; the same through POST /api/v1/listings/import."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

import pytest
from flask.testing import FlaskClient
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from listings.import_files import COLUMNS, MAX_ROWS
from listings.tables import ListingRow, OutboxRow
from shared.db import make_engine
from shared.events import decode_event
from tests.integration.listings_client import listings_app, register
from tests.integration.test_listings_pages import csrf, sign_up

pytestmark = pytest.mark.postgres

GOOD = {
    "kind": "offer",
    "title": "Chutes de bois de charpente",
    "category": "ewc-170201",
    "quantity": "3,5",
    "unit": "m3",
    "place": "Metz",
    "radius_km": "10",
    "available_until": "30/06/2030",
    "price_mode": "free",
}


@pytest.fixture
def client(postgres_url: str) -> FlaskClient:
    return listings_app(postgres_url).test_client()


def as_csv(*rows: dict[str, str], separator: str = ",") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, delimiter=separator)
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode()


def as_xlsx(*rows: dict[str, object]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append([row.get(name) for name in COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client: FlaskClient, content: bytes, name: str = "listings.csv", **extra: str):
    data = {
        "csrf_token": csrf(client, "/my/listings/import"),
        "file": (io.BytesIO(content), name),
        **extra,
    }
    return client.post("/my/listings/import", data=data, content_type="multipart/form-data")


def row_errors(page: str, line: int) -> list[str]:
    """The messages shown in the preview's row for this line of the file."""
    row = re.search(rf'<tr id="row-{line}".*?</tr>', page, re.S)
    assert row, f"no row {line} in the preview"
    return [unescape(m) for m in re.findall(r'<span class="error">([^<]+)</span>', row.group(0))]


def listing_rows(url: str, organisation_id: str) -> tuple[list[ListingRow], list[object]]:
    """The organisation's stored listings and the outbox events about them."""
    engine = make_engine(url, schema="listings")
    with engine.connect() as connection:
        rows = list(
            connection.execute(
                select(ListingRow).where(ListingRow.organisation_id == organisation_id)
            )
        )
        ids = {row.id for row in rows}
        payloads = connection.execute(select(OutboxRow.payload)).scalars()
        events = [e for e in map(decode_event, payloads) if e.subject in ids]
    engine.dispose()
    return rows, events


def my_organisation(client: FlaskClient) -> str:
    return client.get("/api/v1/organisations/me").get_json()["id"]


def test_the_preview_shows_each_rows_errors_in_french_and_imports_only_the_valid_rows(
    client, postgres_url
):
    sign_up(client)  # the organisation's language is French
    client.get("/my/listings?lang=fr")
    content = as_csv(
        GOOD,
        {**GOOD, "title": "", "quantity": "beaucoup"},
        {**GOOD, "title": "Palettes", "kind": "offer", "min_quantity": "2"},
        {**GOOD, "title": "Pommes", "place": "Xyzzyville"},
        separator=";",  # what Excel writes in French
    )
    preview = upload(client, content, action="preview")
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "1 des 4 lignes peuvent être importées" in unescape(page)
    assert row_errors(page, 2) == []
    assert "Ce champ est requis." in row_errors(page, 3)
    assert "N'est pas une valeur décimale valide." in row_errors(page, 3)
    assert row_errors(page, 4) == ["Seul un besoin peut avoir une quantité minimale."]
    [place_error] = row_errors(page, 5)
    assert place_error.startswith("lieu inconnu « Xyzzyville »")
    organisation_id = my_organisation(client)
    assert listing_rows(postgres_url, organisation_id) == ([], [])

    sealed = re.search(r'name="rows" type="hidden" value="([^"]+)"', page).group(1)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    done = client.post(
        "/my/listings/import", data={"csrf_token": token, "rows": sealed, "action": "import"}
    )
    assert done.status_code == 302 and done.headers["Location"].endswith("/my/listings")
    mine = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "1 annonce importée. 3 lignes écartées." in unescape(mine)
    [listing], events = listing_rows(postgres_url, organisation_id)
    assert (listing.title, listing.quantity, listing.place) == (GOOD["title"], 3.5, "Metz")
    assert listing.available_until.date().isoformat() == "2030-06-30"
    assert [(e.type, e.subject) for e in events] == [("boucle.listing.published", listing.id)]


def test_the_api_checks_a_file_in_german_without_creating_anything_on_a_dry_run(
    client, postgres_url
):
    org = register(client, place="Saarbrücken", country="DE", language="de")
    headers = {**org["headers"], "Accept-Language": "de"}
    content = as_csv(GOOD, {**GOOD, "unit": "Säcke", "title": ""})
    response = client.post(
        "/api/v1/listings/import?dry_run=true",
        data={"file": (io.BytesIO(content), "angebote.csv")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["dry_run"], body["total"], body["valid"], body["created"]) == (True, 2, 1, 0)
    second = body["rows"][1]
    assert second["row"] == 3 and not second["valid"]
    assert second["errors"]["title"] == ["Dieses Feld wird benötigt."]
    assert second["errors"]["unit"] == ["Keine gültige Auswahl."]
    assert listing_rows(postgres_url, org["organisation"]["id"]) == ([], [])


def test_the_api_imports_an_xlsx_all_valid_rows_together_with_their_events(client, postgres_url):
    org = register(client)
    content = as_xlsx(
        {**GOOD, "quantity": 12.5, "available_until": None, "title": "Cagettes"},
        {
            **GOOD,
            "kind": "need",
            "title": "Besoin de palettes",
            "category": "ewc-150103",
            "unit": "pallets",
            "quantity": 20,
            "min_quantity": 5,
            "draft": "oui",
        },
        {**GOOD, "category": "no-such-category"},
    )
    response = client.post(
        "/api/v1/listings/import",
        data={"file": (io.BytesIO(content), "listings.xlsx")},
        headers=org["headers"],
        content_type="multipart/form-data",
    )
    body = response.get_json()
    assert response.status_code == 200, body
    assert (body["total"], body["valid"], body["created"]) == (3, 2, 2)
    assert [row["valid"] for row in body["rows"]] == [True, True, False]
    assert set(body["rows"][2]["errors"]) == {"category"}
    rows, events = listing_rows(postgres_url, org["organisation"]["id"])
    by_title = {row.title: row for row in rows}
    assert by_title["Cagettes"].quantity == 12.5 and by_title["Cagettes"].status == "published"
    need = by_title["Besoin de palettes"]
    assert (need.status, need.min_quantity) == ("draft", 5)
    assert {row["listing_id"] for row in body["rows"][:2]} == {row.id for row in rows}
    # A draft has no event yet; the published offer has its one.
    assert [(e.type, e.subject) for e in events] == [
        ("boucle.listing.published", by_title["Cagettes"].id)
    ]


def test_the_templates_download_and_their_example_row_imports_as_is(client, postgres_url):
    org = register(client)
    as_text = client.get("/my/listings/import/template.csv")
    assert as_text.status_code == 200 and "attachment" in as_text.headers["Content-Disposition"]
    header, example = list(csv.reader(io.StringIO(as_text.get_data().decode("utf-8-sig"))))
    assert tuple(header) == COLUMNS and example[COLUMNS.index("kind")] == "offer"
    as_sheet = client.get("/my/listings/import/template.xlsx?lang=de")
    book = load_workbook(io.BytesIO(as_sheet.get_data()))
    assert [cell.value for cell in book["listings"][1]] == list(COLUMNS)
    values = [(row[0].value, row[1].value) for row in book["values"].iter_rows(min_row=2)]
    assert ("unit", "pallets") in values and ("category", "ewc-150103") in values
    for name, content in (("t.csv", as_text.get_data()), ("t.xlsx", as_sheet.get_data())):
        response = client.post(
            "/api/v1/listings/import?dry_run=true",
            data={"file": (io.BytesIO(content), name)},
            headers=org["headers"],
            content_type="multipart/form-data",
        )
        assert response.get_json()["valid"] == 1, response.get_json()


def test_too_many_rows_too_big_a_file_or_no_csrf_token_are_refused_clearly(client):
    sign_up(client)
    client.get("/my/listings?lang=de")
    too_many = upload(client, as_csv(*[GOOD] * (MAX_ROWS + 1)), action="preview")
    assert too_many.status_code == 400
    assert f"mehr als {MAX_ROWS} Anzeigen" in unescape(too_many.get_data(as_text=True))
    too_big = upload(client, b"kind,title\n" + b"x" * (3 * 1024 * 1024), action="preview")
    assert too_big.status_code == 413
    assert "größer als 2 MB" in unescape(too_big.get_data(as_text=True))
    unsigned = client.post(
        "/my/listings/import",
        data={"file": (io.BytesIO(as_csv(GOOD)), "a.csv")},
        content_type="multipart/form-data",
    )
    assert unsigned.status_code == 400
    anonymous = client.application.test_client().post(
        "/api/v1/listings/import",
        data={"file": (io.BytesIO(as_csv(GOOD)), "a.csv")},
        content_type="multipart/form-data",
    )
    assert anonymous.status_code == 401


def test_a_previewed_file_cannot_be_imported_by_another_organisation(client, postgres_url):
    sign_up(client)
    page = upload(client, as_csv(GOOD), action="preview").get_data(as_text=True)
    sealed = re.search(r'name="rows" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/logout", data={"csrf_token": csrf(client, "/my/listings")})
    sign_up(client)
    refused = client.post(
        "/my/listings/import",
        data={
            "csrf_token": csrf(client, "/my/listings/import"),
            "rows": sealed,
            "action": "import",
        },
    )
    assert refused.status_code == 400
    assert listing_rows(postgres_url, my_organisation(client)) == ([], [])


def test_the_api_takes_the_same_rows_as_json(client, postgres_url):
    org = register(client)
    rows = [
        {**GOOD, "quantity": 7, "radius_km": 0, "draft": False, "available_until": None},
        {**GOOD, "kind": "gift"},
    ]
    response = client.post("/api/v1/listings/import", json={"rows": rows}, headers=org["headers"])
    body = response.get_json()
    assert response.status_code == 200, body
    assert (body["total"], body["valid"], body["created"]) == (2, 1, 1)
    assert body["rows"][1]["row"] == 2 and set(body["rows"][1]["errors"]) == {"kind"}
    [listing], _ = listing_rows(postgres_url, org["organisation"]["id"])
    assert (listing.quantity, listing.status) == (7, "published")
    empty = client.post("/api/v1/listings/import", json={"rows": []}, headers=org["headers"])
    assert empty.status_code == 400 and "rows" in empty.get_json()["errors"]
