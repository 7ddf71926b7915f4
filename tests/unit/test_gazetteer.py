"""The offline gazetteer finds the places of the Greater Region as people write them."""

from __future__ import annotations

import io

import pytest
from geopy.exc import GeocoderServiceError
from geopy.geocoders.base import Geocoder
from geopy.location import Location
from geopy.point import Point

from shared.geo.distance import country_of, geodesic_km
from shared.geo.gazetteer import Gazetteer, GazetteerGeocoder, fold, load_gazetteer
from shared.geo.resolve import resolve_place

METZ = (49.11911, 6.17269)
LUXEMBOURG_CITY = (49.60982, 6.13268)


@pytest.fixture(scope="module")
def geocoder() -> GazetteerGeocoder:
    return GazetteerGeocoder()


def _one(geocoder: GazetteerGeocoder, query: str) -> Location:
    location = geocoder.geocode(query)
    assert isinstance(location, Location), f"{query!r} was not found"
    return location


def test_the_gazetteer_covers_the_five_regions_of_the_greater_region() -> None:
    regions = {(place.country, place.region) for place in load_gazetteer().places}
    assert regions == {
        ("LU", "Luxembourg"),
        ("FR", "Lorraine"),
        ("DE", "Saarland"),
        ("DE", "Rheinland-Pfalz"),
        ("BE", "Wallonie"),
    }


def test_the_gazetteer_is_loaded_once_and_shared() -> None:
    assert load_gazetteer() is load_gazetteer()
    assert GazetteerGeocoder().gazetteer is GazetteerGeocoder().gazetteer


def test_it_is_a_geopy_geocoder_that_refuses_to_go_online(geocoder: GazetteerGeocoder) -> None:
    assert isinstance(geocoder, Geocoder)
    assert geocoder.headers["User-Agent"] == "boucle"
    with pytest.raises(GeocoderServiceError):
        geocoder.adapter.get_json("https://example.invalid/", timeout=1, headers={})


def test_mont_saint_martin_is_the_french_border_town_next_to_longwy(
    geocoder: GazetteerGeocoder,
) -> None:
    location = _one(geocoder, "Mont-Saint-Martin")
    assert location.raw["country"] == "FR"
    assert location.raw["region"] == "Lorraine"
    assert location.latitude == pytest.approx(49.54, abs=0.02)
    assert location.longitude == pytest.approx(5.78, abs=0.02)


def test_a_lowercase_name_with_a_country_qualifier_finds_esch_in_luxembourg(
    geocoder: GazetteerGeocoder,
) -> None:
    location = _one(geocoder, "esch-sur-alzette, lu")
    assert location.address == "Esch-sur-Alzette, Luxembourg, LU"
    assert location.raw["country"] == "LU"
    assert location.raw["population"] > 30_000


def test_saarbruecken_is_found_with_or_without_umlaut_and_by_its_french_name(
    geocoder: GazetteerGeocoder,
) -> None:
    found = [_one(geocoder, q) for q in ("Saarbrücken", "saarbrucken", "Sarrebruck")]
    assert {location.raw["geonameid"] for location in found} == {found[0].raw["geonameid"]}
    assert found[0].raw["name"] == "Saarbrücken"
    assert found[0].raw["country"] == "DE"
    assert found[0].raw["region"] == "Saarland"
    assert [location.raw["match"] for location in found] == ["name", "name", "alternate"]


def test_treves_is_the_french_name_of_trier(geocoder: GazetteerGeocoder) -> None:
    location = _one(geocoder, "Trèves")
    assert location.raw["name"] == "Trier"
    assert location.raw["region"] == "Rheinland-Pfalz"


def test_other_exonyms_of_the_region_are_understood(geocoder: GazetteerGeocoder) -> None:
    assert _one(geocoder, "Diedenhofen").raw["name"] == "Thionville"
    assert _one(geocoder, "Lüttich").raw["name"] == "Liège"
    assert _one(geocoder, "St Avold").raw["name"] == "Saint-Avold"


def test_luxembourg_resolves_to_the_capital(geocoder: GazetteerGeocoder) -> None:
    result = resolve_place(geocoder, "Luxembourg")
    assert result.status == "found"
    assert result.location is not None
    assert result.location.country == "LU"
    assert geodesic_km(result.location.point, LUXEMBOURG_CITY) < 2


def test_an_unknown_place_is_reported_as_unknown(geocoder: GazetteerGeocoder) -> None:
    assert geocoder.geocode("Xyzzyville") is None
    result = resolve_place(geocoder, "Xyzzyville")
    assert result.status == "unknown"
    assert result.location is None
    assert result.candidates == []


def test_neufchateau_exists_in_the_vosges_and_in_belgium_so_it_is_ambiguous(
    geocoder: GazetteerGeocoder,
) -> None:
    result = resolve_place(geocoder, "Neufchâteau")
    assert result.status == "ambiguous"
    assert result.location is None
    assert {candidate.country for candidate in result.candidates} == {"FR", "BE"}
    assert all(candidate.name == "Neufchâteau" for candidate in result.candidates)


def test_a_country_qualifier_settles_an_ambiguous_name(geocoder: GazetteerGeocoder) -> None:
    assert resolve_place(geocoder, "Bertrange").status == "ambiguous"
    in_luxembourg = resolve_place(geocoder, "Bertrange, LU")
    in_france = resolve_place(geocoder, "Bertrange, France")
    assert in_luxembourg.status == in_france.status == "found"
    assert in_luxembourg.location is not None and in_luxembourg.location.country == "LU"
    assert in_france.location is not None and in_france.location.country == "FR"


def test_a_region_qualifier_narrows_the_search(geocoder: GazetteerGeocoder) -> None:
    location = _one(geocoder, "Neufchâteau, Wallonie")
    assert location.raw["country"] == "BE"
    assert geocoder.geocode("Metz, DE") is None


def test_luxembourg_as_a_qualifier_also_means_the_belgian_province(
    geocoder: GazetteerGeocoder,
) -> None:
    assert _one(geocoder, "Arlon, Luxembourg").raw["country"] == "BE"


def test_country_codes_restrict_results_like_nominatim(geocoder: GazetteerGeocoder) -> None:
    location = _one(geocoder, "Kirchberg")
    assert location.raw["country"] == "LU"  # the most populous Kirchberg
    restricted = geocoder.geocode("Kirchberg", country_codes=["de"])
    assert isinstance(restricted, Location) and restricted.raw["country"] == "DE"


def test_all_candidates_are_ranked_name_matches_first_then_by_population(
    geocoder: GazetteerGeocoder,
) -> None:
    found = geocoder.geocode("Neunkirchen", exactly_one=False)
    assert isinstance(found, list) and 2 <= len(found) <= 10
    assert found[0].raw["region"] == "Saarland"  # the town, not the villages
    tiers = [0 if location.raw["match"] == "name" else 1 for location in found]
    assert tiers == sorted(tiers)
    populations = [loc.raw["population"] for loc in found if loc.raw["match"] == "name"]
    assert populations == sorted(populations, reverse=True)


def test_a_much_more_populous_namesake_wins_without_asking(geocoder: GazetteerGeocoder) -> None:
    result = resolve_place(geocoder, "Neunkirchen")
    assert result.status == "found"
    assert result.location is not None and result.location.region == "Saarland"
    assert len(result.candidates) > 1


postcodes = pytest.mark.skipif(
    not load_gazetteer().has_postcodes, reason="postcodes.csv is not shipped"
)


@postcodes
@pytest.mark.parametrize(
    ("query", "country", "place"),
    [
        ("57000", "FR", "Metz"),
        ("L-4002", "LU", "Esch-sur-Alzette"),
        ("66111", "DE", "Saarbrücken"),
        ("4000", "BE", "Liège"),
        ("57000 Metz", "FR", "Metz"),
    ],
)
def test_a_postcode_finds_the_main_place_it_serves(
    geocoder: GazetteerGeocoder, query: str, country: str, place: str
) -> None:
    location = _one(geocoder, query)
    assert location.raw["match"] == "postcode"
    assert location.raw["country"] == country
    assert location.raw["name"] == place
    assert location.raw["postcode"].endswith(query.split()[0][-4:])


@postcodes
def test_a_village_known_only_to_the_postal_table_is_still_found(
    geocoder: GazetteerGeocoder,
) -> None:
    location = _one(geocoder, "Berg (Pfalz)")
    assert location.raw["match"] == "postal_place"
    assert location.raw["region"] == "Rheinland-Pfalz"


def test_reverse_geocoding_the_coordinates_of_metz_gives_metz(
    geocoder: GazetteerGeocoder,
) -> None:
    location = geocoder.reverse(Point(*METZ))
    assert isinstance(location, Location)
    assert location.raw["name"] == "Metz"
    assert location.raw["distance_km"] < 1
    nearby = geocoder.reverse("49.12, 6.18", exactly_one=False)
    assert isinstance(nearby, list) and nearby[0].raw["name"] == "Metz"
    distances = [location.raw["distance_km"] for location in nearby]
    assert distances == sorted(distances)


def test_metz_and_luxembourg_are_about_55_km_apart() -> None:
    assert 50 <= geodesic_km(METZ, LUXEMBOURG_CITY) <= 60


def test_the_country_of_a_point_comes_from_the_nearest_known_place() -> None:
    assert country_of(*METZ) == "FR"
    assert country_of(*LUXEMBOURG_CITY) == "LU"
    assert country_of(49.2326, 7.0098) == "DE"  # Saarbrücken
    assert country_of(50.6337, 5.5675) == "BE"  # Liège
    assert country_of(48.8566, 2.3522) is None  # Paris: outside the Greater Region


def test_folding_ignores_case_accents_punctuation_and_saint_abbreviations() -> None:
    assert fold("Saarbrücken") == fold("SAARBRUCKEN")
    assert fold("Saint-Dié-des-Vosges") == fold("St Die des Vosges")
    assert fold("Straßenhaus") == fold("Strassenhaus")


def test_a_small_gazetteer_can_be_read_from_csv_text() -> None:
    places = io.StringIO(
        "geonameid,name,asciiname,country,region,lat,lon,population,alternatenames\n"
        "1,Hameau,Hameau,FR,Lorraine,49.0,6.0,10,Le Hameau|Weiler\n"
    )
    geocoder = GazetteerGeocoder(Gazetteer.from_csv(places))
    location = geocoder.geocode("weiler")
    assert isinstance(location, Location)
    assert location.address == "Hameau, Lorraine, FR"
    assert geocoder.geocode("57000") is None  # no postcode table here


@pytest.mark.parametrize(
    ("typed", "place", "country"),
    [
        ("Esch/Alzette", "Esch-sur-Alzette", "LU"),
        ("Esch s/Alzette", "Esch-sur-Alzette", "LU"),
        ("Esch-Uelzecht", "Esch-sur-Alzette", "LU"),
        ("Eschsuralzette", "Esch-sur-Alzette", "LU"),
        ("esch sur alzette", "Esch-sur-Alzette", "LU"),
        ("Esch/Sûre", "Esch-sur-Sûre", "LU"),
        ("Lux-Ville", "Luxembourg", "LU"),
        ("Luxembourg-Ville", "Luxembourg", "LU"),
        ("Ville de Luxembourg", "Luxembourg", "LU"),
        ("Luxembourg City", "Luxembourg", "LU"),
        ("St. Avold", "Saint-Avold", "FR"),
        ("St-Avold", "Saint-Avold", "FR"),
        ("Sarrebruck", "Saarbrücken", "DE"),
        ("Neustadt/Weinstraße", "Neustadt an der Weinstraße", "DE"),
        ("Neustadt a.d. Weinstraße", "Neustadt an der Weinstraße", "DE"),
    ],
)
def test_the_regions_usual_abbreviations_and_spellings_resolve(
    geocoder: GazetteerGeocoder, typed: str, place: str, country: str
) -> None:
    result = resolve_place(geocoder, typed)
    assert result.status == "found", (typed, result)
    assert result.location is not None
    assert (result.location.name, result.location.country) == (place, country)


def test_loose_spellings_do_not_make_up_places(geocoder: GazetteerGeocoder) -> None:
    assert resolve_place(geocoder, "Xyzzy/Alzette").status == "unknown"
    assert resolve_place(geocoder, "Neufchâteau").status == "ambiguous"
