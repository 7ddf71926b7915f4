"""Search results equal a brute-force oracle, on SQLite and on the real PostgreSQL.

10,000 listings of the benchmark workload (bench/workload.py), a twentieth of them not
published, a pair on the very edge of each circle (0.5 mm in, 0.5 mm out) and a dozen at
one point (a page splitting them keeps the order by id); titles and descriptions from a
small French/German/English vocabulary whose matches for the query word are known. For
3 cities x 10/50/100 km x no filter / a category (with its sub-categories) / a word, the
total, the ids of the page in order and their distances must equal what the oracle
computes row by row with geographiclib's geodesic.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from alembic import command
from alembic.config import Config
from geographiclib.geodesic import Geodesic
from sqlalchemy import select

from bench.workload import stream
from listings import spatial
from listings.domain import Listing
from listings.repository import SqlAlchemyRepository
from listings.search import ListingSearch, SearchPage, SearchQuery
from listings.tables import ListingRow
from shared.db import make_engine, service_database, unit_of_work
from shared.taxonomy import Taxonomy

COUNT = 10_000
CITIES = {"Luxembourg": (49.61, 6.13), "Metz": (49.12, 6.18), "Saarbrücken": (49.23, 7.00)}
RADII = (10.0, 50.0, 100.0)
CATEGORY = "reuse-pallets"
WORD = "palette"
TIED, TIED_AT = 12, (49.7071, 6.3527)
# (text, whether it holds a form of "palette" in French, German or English)
TITLES = [
    ("Palettes réutilisables", True),
    ("Paletten, gebraucht", True),
    ("Wooden pallets", False),  # English says pallet: another word
    ("Cartons de déménagement", False),
    ("Holz, unbehandelt", False),
    ("Une palette de légumes", True),
]
DESCRIPTIONS = [
    ("", False),
    ("Enlèvement sur place", False),
    ("Abholung vor Ort", False),
    ("Collection on site", False),
    ("Livraison possible sur palette", True),
]


@dataclass(frozen=True)
class Row:
    id: str
    lat: float
    lon: float
    category: str
    published: bool
    has_word: bool


def _rows_and_listings() -> tuple[list[Row], list[Listing]]:
    rows, listings = [], []
    for i, generated in enumerate(stream(COUNT, seed=11)):
        title, in_title = TITLES[i % len(TITLES)]
        description, in_description = DESCRIPTIONS[(i // len(TITLES)) % len(DESCRIPTIONS)]
        status = "withdrawn" if i % 20 == 0 else "published"
        listing = Listing(
            id=str(uuid.UUID(int=i + 1)),
            kind=generated.kind,
            title=f"{title} {i}",
            description=description,
            category=generated.category,
            quantity=generated.quantity,
            unit=generated.unit,
            lat=generated.lat,
            lon=generated.lon,
            radius_km=generated.radius_km,
            organisation_id=generated.organisation_id,
            status=status,
        )
        listings.append(listing)
        rows.append(
            Row(
                listing.id,
                listing.lat,
                listing.lon,
                listing.category,
                status == "published",
                in_title or in_description,
            )
        )
    # On each circle of the query set, one row half a millimetre inside and one outside:
    # only the geodesic itself can tell them apart (the chord test leaves them unsure).
    for city, (lat, lon) in CITIES.items():
        for radius in RADII:
            for offset_km in (-5e-7, 5e-7):
                moved = Geodesic.WGS84.Direct(lat, lon, 37.0, (radius + offset_km) * 1000)
                listing = Listing(
                    id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{city}/{radius}/{offset_km}")),
                    kind="offer",
                    title=f"Palettes réutilisables at {radius:g} km from {city}",
                    category="reuse-pallets-epal",
                    quantity=1,
                    unit="pallets",
                    lat=moved["lat2"],
                    lon=moved["lon2"],
                    radius_km=0,
                    organisation_id="org-edge",
                )
                listings.append(listing)
                rows.append(Row(listing.id, listing.lat, listing.lon, listing.category, True, True))
    # Rows at one point, all at the same distance from anywhere: a page may split them.
    for i in range(TIED):
        listing = Listing(
            id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"tied/{i}")),
            kind="offer",
            title=f"Cartons de déménagement, lot {i}",
            category="reuse-pallets-boxes",
            quantity=1,
            unit="boxes",
            lat=TIED_AT[0],
            lon=TIED_AT[1],
            radius_km=0,
            organisation_id="org-tied",
        )
        listings.append(listing)
        rows.append(Row(listing.id, listing.lat, listing.lon, listing.category, True, False))
    return rows, listings


@pytest.fixture(scope="module")
def data() -> tuple[list[Row], list[Listing]]:
    return _rows_and_listings()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def search(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, data
) -> Iterator[ListingSearch]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('search') / 'listings.db'}"
    else:
        url = request.getfixturevalue("module_postgres_url")
    engine, sessions = service_database(url, "listings")
    with unit_of_work(sessions) as session:
        repository = SqlAlchemyRepository(session)
        for listing in data[1]:
            repository.add_listing(listing)
    if request.param == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE listings")
    yield ListingSearch(sessions, Taxonomy.load_default())
    engine.dispose()


@pytest.fixture(scope="module")
def distances(data) -> dict[str, dict[str, float]]:
    """city -> listing id -> geodesic km, row by row."""
    rows = data[0]
    return {
        city: {
            row.id: Geodesic.WGS84.Inverse(*point, row.lat, row.lon)["s12"] / 1000 for row in rows
        }
        for city, point in CITIES.items()
    }


def _oracle(
    rows: list[Row], distance: dict[str, float], query: SearchQuery
) -> list[tuple[str, float]]:
    wanted = {CATEGORY, *Taxonomy.load_default().descendants(CATEGORY)}
    found = [
        (distance[row.id], row.id)
        for row in rows
        if row.published
        and distance[row.id] <= query.radius_km
        and (query.category is None or row.category in wanted)
        and (query.text is None or row.has_word)
    ]
    return [(row_id, km) for km, row_id in sorted(found)]


def _assert_equal(page: SearchPage, expected: list[tuple[str, float]], query: SearchQuery):
    start = (query.page - 1) * query.page_size
    wanted = expected[start : start + query.page_size]
    assert page.total == len(expected)
    assert [hit.listing.id for hit in page.hits] == [row_id for row_id, _ in wanted]
    for hit, (_, km) in zip(page.hits, wanted, strict=True):
        assert hit.distance_km == pytest.approx(km, abs=1e-9)


@pytest.mark.parametrize("city", CITIES)
@pytest.mark.parametrize("radius", RADII)
@pytest.mark.parametrize("what", ["everything", "category", "word"])
def test_page_one_and_total_equal_the_oracle(search, data, distances, city, radius, what):
    query = SearchQuery(
        near=CITIES[city],
        radius_km=radius,
        category=CATEGORY if what == "category" else None,
        text=WORD if what == "word" else None,
    )
    expected = _oracle(data[0], distances[city], query)
    assert expected, "the oracle finds something for every query of the set"
    _assert_equal(search.search(query), expected, query)


@pytest.mark.parametrize(("page", "page_size"), [(3, 50), (2, 100), (7, 20)])
def test_later_pages_and_the_last_one_equal_the_oracle(search, data, distances, page, page_size):
    for city in CITIES:
        query = SearchQuery(near=CITIES[city], radius_km=50, page=page, page_size=page_size)
        expected = _oracle(data[0], distances[city], query)
        _assert_equal(search.search(query), expected, query)
        last = SearchQuery(
            near=CITIES[city], radius_km=10, page=-(-len(expected) // 7), page_size=7
        )
        _assert_equal(search.search(last), _oracle(data[0], distances[city], last), last)


@pytest.mark.parametrize("category", [None, CATEGORY])
def test_pages_splitting_rows_at_one_distance_order_them_by_id(search, data, category):
    distance = {
        row.id: Geodesic.WGS84.Inverse(*TIED_AT, row.lat, row.lon)["s12"] / 1000 for row in data[0]
    }
    for page in (1, 2, 3, 4):
        query = SearchQuery(near=TIED_AT, radius_km=5, category=category, page=page, page_size=5)
        _assert_equal(search.search(query), _oracle(data[0], distance, query), query)


def test_the_word_finds_french_and_german_forms_and_not_english_pallets(search, data):
    page = search.search(SearchQuery(text="palette", page_size=100))
    assert page.total == sum(row.published and row.has_word for row in data[0])
    titles = {hit.listing.title.rsplit(" ", 1)[0] for hit in page.hits}
    assert {"Palettes réutilisables", "Paletten, gebraucht"} <= titles
    for hit in page.hits:
        if hit.listing.title.startswith("Wooden pallets"):
            assert "palette" in hit.listing.description  # found by its description


def test_without_a_place_every_published_row_counts_newest_first(search, data):
    page = search.search(SearchQuery(page_size=5))
    assert page.total == sum(row.published for row in data[0])
    stamps = [hit.listing.updated_at for hit in page.hits]
    assert stamps == sorted(stamps, reverse=True)


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_migration_0010_fills_in_the_rows_already_there(request, tmp_path, backend):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    if backend == "postgresql":
        url = request.getfixturevalue("postgres_url")
    config = Config()
    config.attributes["schema"] = "listings"
    config.attributes["version_table"] = "alembic_version_listings"
    config.set_main_option("script_location", "listings:migrations")
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "0009")
    engine = make_engine(url, schema="listings")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO listings (id, organisation_id, kind, status, title, description,"
            " category, quantity, unit, lat, lon, radius_km, version, created_at, updated_at)"
            " VALUES ('l-1', 'o-1', 'offer', 'published', 'Paletten', 'gebraucht',"
            " 'reuse-pallets-epal', 5, 'pallets', 49.5, 6.2, 0, 1,"
            " '2026-11-30 10:00:00+00:00', '2026-11-30 10:00:00+00:00')"
        )
    engine.dispose()
    engine, sessions = service_database(url, "listings")
    with unit_of_work(sessions) as session:
        row = session.scalars(select(ListingRow)).one()
        assert row.h3_cell == spatial.stored_cell(49.5, 6.2)
        assert (row.ecef_x, row.ecef_y, row.ecef_z) == pytest.approx(spatial.ecef_km(49.5, 6.2))
    found = ListingSearch(sessions, Taxonomy.load_default()).search(
        SearchQuery(near=(49.6, 6.1), radius_km=20, text="palette")
    )
    assert [hit.listing.id for hit in found.hits] == ["l-1"]
    engine.dispose()
