"""Offline geocoder of the Greater Region behind geopy's ``Geocoder`` interface.

The data is a GeoNames extract committed in ``shared/data`` (built by
``services/devtools/build_gazetteer.py``): ``gazetteer.csv`` holds the places of
Luxembourg, Lorraine, Saarland, Rheinland-Pfalz and Wallonie with their alternate
names, ``postcodes.csv`` (optional) their postcodes. Both are read once, lazily, through
:func:`load_gazetteer`; nothing here ever calls the network.

Matching is case- and accent-insensitive on the name, the ASCII name and the alternate
names ("Saarbrücken", "saarbrucken" and "Sarrebruck" are one place). A query may end
with qualifiers, each after a comma: a country ("Metz, FR", "Arlon, Belgique") or a
region ("Homburg, Saarland"). Postcodes ("57000", "L-4002", "66111", "4000") and
postcode-plus-place ("57000 Metz") are understood when the postcode file is present.
Results are ranked: matches on the place's own name first, then alternate names, then
place names known only from the postcode table; within each, by population.
"""

from __future__ import annotations

import bisect
import csv
import functools
import importlib.resources
import io
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NoReturn, TextIO

from geopy.adapters import BaseSyncAdapter
from geopy.exc import GeocoderServiceError
from geopy.geocoders.base import DEFAULT_SENTINEL, Geocoder
from geopy.location import Location
from geopy.point import Point

__all__ = [
    "Gazetteer",
    "GazetteerGeocoder",
    "Place",
    "PostalCode",
    "fold",
    "load_gazetteer",
]

DATA_PACKAGE = "shared"
PLACES_FILE = ("data", "gazetteer.csv")
POSTCODES_FILE = ("data", "postcodes.csv")
MAX_RESULTS = 10

# Match tiers, best first; exposed as raw["match"].
MATCH_NAME = "name"
MATCH_POSTCODE = "postcode"
MATCH_ALTERNATE = "alternate"
MATCH_POSTAL_PLACE = "postal_place"
_TIER = {MATCH_NAME: 0, MATCH_POSTCODE: 0, MATCH_ALTERNATE: 1, MATCH_POSTAL_PLACE: 2}

_SAME_PLACE_KM = 15.0  # a postcode's place and a gazetteer place of that name
_EARTH_RADIUS_KM = 6371.0088


# --- normalisation ------------------------------------------------------------------------

_TOKEN_ALIASES = {"saint": "st", "sankt": "st", "sainte": "ste"}


def fold(text: str) -> str:
    """Comparison key: case, accents and punctuation folded away.

    "Saint-Avold", "St. Avold" and "saint avold" share a key, as do "Saarbrücken" and
    "SAARBRUCKEN".
    """
    text = text.casefold().replace("ß", "ss").replace("œ", "oe").replace("æ", "ae")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    tokens = re.sub(r"[^0-9a-z]+", " ", text).split()
    return " ".join(_TOKEN_ALIASES.get(token, token) for token in tokens)


# Linking words of place names, and their abbreviations: "Esch-sur-Alzette" is written
# "Esch/Alzette" or "Esch s/Alzette", "Neustadt an der Weinstraße" "Neustadt a.d. W.".
_PARTICLES = frozenset(
    [
        "sur",
        "s",
        "sous",
        "ss",
        "a",
        "au",
        "aux",
        "l",
        "la",
        "le",
        "les",
        "lez",
        "de",
        "d",
        "du",
        "des",
        "en",
        "am",
        "an",
        "der",
        "den",
        "im",
        "in",
        "i",
        "ob",
        "auf",
        "bei",
    ]
)
# Everyday names of a place that are no spelling of any name the gazetteer holds.
_PLACE_ALIASES = {
    "lux ville": "luxembourg",
    "lux": "luxembourg",
    "luxembourg ville": "luxembourg",
    "ville de luxembourg": "luxembourg",
    "luxembourg city": "luxembourg",
    "city of luxembourg": "luxembourg",
    "luxemburg stadt": "luxembourg",
    "stadt luxemburg": "luxembourg",
    "luxemburg city": "luxembourg",
    "letzebuerg stad": "luxembourg",
}


def compact(key: str) -> str:
    """A folded name without its spaces: "eschsuralzette" for "Esch-sur-Alzette"."""
    return key.replace(" ", "")


def skeleton(key: str) -> str:
    """A folded name without linking words or spaces: "eschalzette" for "Esch/Alzette"."""
    return "".join(token for token in key.split() if token not in _PARTICLES)


# --- data ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Place:
    """A populated place of the gazetteer."""

    geonameid: int
    name: str
    ascii_name: str
    country: str
    region: str
    latitude: float
    longitude: float
    population: int
    alternate_names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PostalCode:
    """One (postcode, place) pair of the postal table."""

    postcode: str
    country: str
    place: str
    region: str
    latitude: float
    longitude: float

    @property
    def digits(self) -> str:
        return _postcode_digits(self.postcode)


def _postcode_digits(postcode: str) -> str:
    return "".join(ch for ch in postcode if ch.isdigit())


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance; within a region, this is within 0.5 % of the geodesic."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


class _PointIndex:
    """Nearest-neighbour search over points sorted by latitude (bisect on a band)."""

    def __init__(self, items: Iterable[tuple[float, float, object]]) -> None:
        ordered = sorted(items, key=lambda item: item[0])
        self._lats = [item[0] for item in ordered]
        self._items = ordered

    def nearest(self, lat: float, lon: float, k: int = 1) -> list[tuple[float, object]]:
        if not self._items:
            return []
        band = 0.05  # degrees of latitude, about 5.5 km; widened until it holds k points
        while True:
            lo = bisect.bisect_left(self._lats, lat - band)
            hi = bisect.bisect_right(self._lats, lat + band)
            found = sorted(
                (
                    (_distance_km(lat, lon, p_lat, p_lon), obj)
                    for p_lat, p_lon, obj in self._items[lo:hi]
                ),
                key=lambda pair: pair[0],
            )[:k]
            covers_all = lo == 0 and hi == len(self._items)
            # Any point outside the band is farther than `band` degrees of latitude.
            if covers_all or (len(found) == k and found[-1][0] <= band * 111.0):
                return found
            band *= 2


class Gazetteer:
    """Places and postcodes of the Greater Region, indexed for lookup."""

    def __init__(self, places: Iterable[Place], postcodes: Iterable[PostalCode] = ()) -> None:
        self.places: tuple[Place, ...] = tuple(places)
        self.postcodes: tuple[PostalCode, ...] = tuple(postcodes)

        self._by_name: dict[str, list[tuple[str, Place]]] = {}
        # Looser keys, asked only when the exact name is unknown (see by_loose_name).
        self._by_compact: dict[str, list[tuple[str, Place]]] = {}
        self._by_skeleton: dict[str, list[tuple[str, Place]]] = {}
        for place in self.places:
            own = {fold(place.name), fold(place.ascii_name)}
            for key in own:
                self._by_name.setdefault(key, []).append((MATCH_NAME, place))
            for alt in {fold(alt) for alt in place.alternate_names} - own:
                self._by_name.setdefault(alt, []).append((MATCH_ALTERNATE, place))
            keys = own | {fold(alt) for alt in place.alternate_names}
            for index, loosen in ((self._by_compact, compact), (self._by_skeleton, skeleton)):
                for loose in {loosen(key) for key in keys} - {""}:
                    index.setdefault(loose, []).append((MATCH_ALTERNATE, place))

        self._by_postcode: dict[str, list[PostalCode]] = {}
        self._postal_by_name: dict[str, list[PostalCode]] = {}
        for entry in self.postcodes:
            self._by_postcode.setdefault(entry.digits, []).append(entry)
            self._postal_by_name.setdefault(fold(entry.place), []).append(entry)

        self._places_index = _PointIndex((p.latitude, p.longitude, p) for p in self.places)
        self._all_index: _PointIndex | None = None
        self._postal_place: dict[PostalCode, Place | None] = {}

    # CSV ------------------------------------------------------------------------------

    @classmethod
    def from_csv(cls, places: TextIO, postcodes: TextIO | None = None) -> Gazetteer:
        """Read the two files written by the build script."""
        place_rows = [
            Place(
                geonameid=int(row["geonameid"]),
                name=row["name"],
                ascii_name=row["asciiname"] or row["name"],
                country=row["country"],
                region=row["region"],
                latitude=float(row["lat"]),
                longitude=float(row["lon"]),
                population=int(row["population"] or 0),
                alternate_names=tuple(a for a in row["alternatenames"].split("|") if a),
            )
            for row in csv.DictReader(places)
        ]
        postal_rows: list[PostalCode] = []
        if postcodes is not None:
            postal_rows = [
                PostalCode(
                    postcode=row["postcode"],
                    country=row["country"],
                    place=row["place"],
                    region=row["region"],
                    latitude=float(row["lat"]),
                    longitude=float(row["lon"]),
                )
                for row in csv.DictReader(postcodes)
            ]
        return cls(place_rows, postal_rows)

    # lookups --------------------------------------------------------------------------

    @property
    def has_postcodes(self) -> bool:
        return bool(self.postcodes)

    def by_name(self, key: str) -> list[tuple[str, Place]]:
        """(match tier, place) pairs whose name or alternate name folds to ``key``."""
        return list(self._by_name.get(key, ()))

    def by_loose_name(self, key: str) -> list[tuple[str, Place]]:
        """Places a folded ``key`` names once spaces, linking words and their abbreviations
        are set aside ("Eschsuralzette", "Esch/Alzette", "Lux-Ville"), as alternate matches.
        """
        key = _PLACE_ALIASES.get(key, key)
        if found := self._by_name.get(key):
            return [(MATCH_ALTERNATE, place) for _, place in found]
        found = self._by_compact.get(compact(key)) or self._by_skeleton.get(skeleton(key)) or []
        return list(found)

    def postal_by_name(self, key: str) -> list[PostalCode]:
        return list(self._postal_by_name.get(key, ()))

    def by_postcode(self, digits: str) -> list[PostalCode]:
        return list(self._by_postcode.get(digits, ()))

    def place_of(self, entry: PostalCode) -> Place | None:
        """The gazetteer place a postcode entry names, if it is one (same name, nearby)."""
        if entry not in self._postal_place:
            best: Place | None = None
            for _, place in self._by_name.get(fold(entry.place), ()):
                if place.country != entry.country:
                    continue
                km = _distance_km(entry.latitude, entry.longitude, place.latitude, place.longitude)
                if km <= _SAME_PLACE_KM and (best is None or place.population > best.population):
                    best = place
            self._postal_place[entry] = best
        return self._postal_place[entry]

    def nearest(self, lat: float, lon: float, k: int = 1) -> list[tuple[float, Place]]:
        """The ``k`` places nearest to a point, as (distance in km, place), nearest first."""
        return self._places_index.nearest(lat, lon, k)  # type: ignore[return-value]

    def nearest_country(self, lat: float, lon: float) -> tuple[float, str] | None:
        """(distance in km, ISO country) of the nearest place or postcode, the denser net."""
        if self._all_index is None:
            self._all_index = _PointIndex(
                [(p.latitude, p.longitude, p.country) for p in self.places]
                + [(e.latitude, e.longitude, e.country) for e in self.postcodes]
            )
        found = self._all_index.nearest(lat, lon, 1)
        if not found:
            return None
        km, country = found[0]
        return km, str(country)


def _read_text(parts: Sequence[str]) -> str | None:
    resource = importlib.resources.files(DATA_PACKAGE)
    for part in parts:
        resource = resource.joinpath(part)
    if not resource.is_file():
        return None
    return resource.read_text(encoding="utf-8")


@functools.cache
def load_gazetteer() -> Gazetteer:
    """The committed gazetteer, read once per process (postcodes only if shipped)."""
    places = _read_text(PLACES_FILE)
    if places is None:
        raise FileNotFoundError("shared/data/gazetteer.csv is missing from the package")
    postcodes = _read_text(POSTCODES_FILE)
    return Gazetteer.from_csv(
        io.StringIO(places), io.StringIO(postcodes) if postcodes is not None else None
    )


# --- query parsing ------------------------------------------------------------------------

# A qualifier is a list of (country, region or None) options, in order of preference:
# results matching an earlier option hide those matching only a later one.
Qualifier = tuple[tuple[str, str | None], ...]

_COUNTRY_WORDS = {
    "LU": (
        "lu",
        "lux",
        "grand duche de luxembourg",
        "grand duchy of luxembourg",
        "grossherzogtum luxemburg",
    ),
    "FR": ("fr", "fra", "france", "frankreich", "frankraich"),
    "DE": ("de", "deu", "germany", "deutschland", "allemagne", "daitschland"),
    "BE": ("be", "bel", "belgium", "belgique", "belgien", "belgie", "belsch"),
}
_REGION_WORDS = {
    ("FR", "Lorraine"): ("lorraine", "lothringen", "lorraine france"),
    ("DE", "Saarland"): ("saarland", "sarre", "saar", "saarland deutschland"),
    ("DE", "Rheinland-Pfalz"): (
        "rheinland pfalz",
        "rhineland palatinate",
        "rhenanie palatinat",
        "rlp",
        "pfalz",
        "palatinat",
        "palatinate",
    ),
    ("BE", "Wallonie"): ("wallonie", "wallonia", "wallonien", "region wallonne"),
}
_QUALIFIERS: dict[str, Qualifier] = {}
for _country, _words in _COUNTRY_WORDS.items():
    for _word in _words:
        _QUALIFIERS[_word] = ((_country, None),)
for (_country, _region), _words in _REGION_WORDS.items():
    for _word in _words:
        _QUALIFIERS[_word] = ((_country, _region),)
# "Luxembourg" is the country, and also a Belgian province in Wallonie (Arlon, Bastogne).
for _word in ("luxembourg", "luxemburg", "letzebuerg"):
    _QUALIFIERS[_word] = (("LU", None), ("BE", None))

_PREFIX_COUNTRY = {
    "L": "LU",
    "LU": "LU",
    "B": "BE",
    "BE": "BE",
    "F": "FR",
    "FR": "FR",
    "D": "DE",
    "DE": "DE",
}
_CODE = r"(?:(?P<prefix>LU|BE|FR|DE|L|B|F|D)\s*-?\s*)?(?P<digits>\d{4,5})"
_POSTCODE_ONLY = re.compile(rf"^{_CODE}$", re.IGNORECASE)
_POSTCODE_FIRST = re.compile(rf"^{_CODE}\s+(?P<name>\D.*)$", re.IGNORECASE)
_POSTCODE_LAST = re.compile(rf"^(?P<name>.*\D)\s+{_CODE}$", re.IGNORECASE)
_PARENTHESIS = re.compile(r"^(?P<name>.*\S)\s*\((?P<inner>[^()]+)\)$")


def _qualifier(text: str) -> Qualifier | None:
    return _QUALIFIERS.get(fold(text))


def _postcode_countries(prefix: str | None, digits: str) -> frozenset[str]:
    by_length = frozenset({"LU", "BE"} if len(digits) == 4 else {"FR", "DE"})
    if prefix:
        return by_length & {_PREFIX_COUNTRY[prefix.upper()]}
    return by_length


def _country_filter(country_codes: str | Iterable[str] | None) -> frozenset[str] | None:
    if country_codes is None:
        return None
    if isinstance(country_codes, str):
        country_codes = [country_codes]
    return frozenset(code.strip().upper() for code in country_codes if code.strip())


@dataclass(slots=True)
class _Candidate:
    match: str
    name: str
    country: str
    region: str
    latitude: float
    longitude: float
    population: int
    geonameid: int | None = None
    postcode: str | None = None
    places: tuple[str, ...] = ()

    @property
    def tier(self) -> int:
        return _TIER[self.match]

    def sort_key(self) -> tuple[int, int, str]:
        return (self.tier, -self.population, fold(self.name))

    def to_location(self) -> Location:
        label = f"{self.postcode} {self.name}" if self.postcode else self.name
        raw: dict[str, object] = {
            "geonameid": self.geonameid,
            "name": self.name,
            "country": self.country,
            "region": self.region,
            "population": self.population,
            "match": self.match,
            "source": "geonames",
        }
        if self.postcode:
            raw["postcode"] = self.postcode
            raw["places"] = list(self.places)
        return Location(
            f"{label}, {self.region}, {self.country}", Point(self.latitude, self.longitude), raw
        )


def _from_place(place: Place, match: str) -> _Candidate:
    return _Candidate(
        match,
        place.name,
        place.country,
        place.region,
        place.latitude,
        place.longitude,
        place.population,
        geonameid=place.geonameid,
    )


class _OfflineAdapter(BaseSyncAdapter):
    """Adapter that refuses every request: this geocoder never calls the network."""

    def get_json(self, url: str, *, timeout: float | None, headers: dict) -> NoReturn:
        raise GeocoderServiceError(f"GazetteerGeocoder is offline; refused {url}")

    def get_text(self, url: str, *, timeout: float | None, headers: dict) -> NoReturn:
        raise GeocoderServiceError(f"GazetteerGeocoder is offline; refused {url}")


# --- the geocoder -------------------------------------------------------------------------


class GazetteerGeocoder(Geocoder):
    """geopy geocoder over the committed gazetteer of the Greater Region; never online.

    ``geocode()`` returns ``None`` when nothing matches (as geopy geocoders do), one
    :class:`geopy.location.Location` with ``exactly_one=True``, otherwise a ranked list
    of at most ``max_results``. ``Location.raw`` carries ``geonameid``, ``name``,
    ``country`` (ISO 3166-1 alpha-2), ``region``, ``population`` and ``match`` (``"name"``,
    ``"alternate"``, ``"postcode"`` or ``"postal_place"``); postcode results add
    ``postcode`` and ``places``. ``reverse()`` returns the nearest places, with
    ``distance_km`` in ``raw``.
    """

    def __init__(
        self, gazetteer: Gazetteer | None = None, *, max_results: int = MAX_RESULTS
    ) -> None:
        super().__init__(user_agent="boucle", adapter_factory=_OfflineAdapter)
        self._gazetteer = gazetteer
        self.max_results = max_results

    @property
    def gazetteer(self) -> Gazetteer:
        if self._gazetteer is None:
            self._gazetteer = load_gazetteer()
        return self._gazetteer

    # geocode --------------------------------------------------------------------------

    def geocode(
        self,
        query: str,
        *,
        exactly_one: bool = True,
        timeout: float | None = DEFAULT_SENTINEL,
        country_codes: str | Iterable[str] | None = None,
    ) -> Location | list[Location] | None:
        """Locate a place name or postcode of the Greater Region (``timeout`` is ignored)."""
        candidates = self._search(str(query), _country_filter(country_codes))
        if not candidates:
            return None
        locations = [candidate.to_location() for candidate in candidates[: self.max_results]]
        return locations[0] if exactly_one else locations

    def _search(self, query: str, countries: frozenset[str] | None) -> list[_Candidate]:
        parts = [part.strip() for part in query.split(",") if part.strip()]
        qualifiers: list[Qualifier] = []
        while len(parts) > 1 and (qualifier := _qualifier(parts[-1])) is not None:
            qualifiers.append(qualifier)
            parts.pop()
        if not parts:
            return []
        if len(parts) == 1 and (paren := _PARENTHESIS.match(parts[0])):
            # "Metz (FR)"; but "Berg (Pfalz)" is itself a name of the postal table.
            qualifier = _qualifier(paren["inner"])
            if qualifier is not None and not self._lookup(parts[0]):
                qualifiers.append(qualifier)
                parts = [paren["name"]]

        # The whole text first; failing that, each comma-separated part ("rue X, Metz").
        attempts = [", ".join(parts)] + (parts if len(parts) > 1 else [])
        for text in attempts:
            found = self._filter(self._lookup(text), countries, qualifiers)
            if found:
                return sorted(found, key=_Candidate.sort_key)
        return []

    @staticmethod
    def _filter(
        candidates: list[_Candidate], countries: frozenset[str] | None, qualifiers: list[Qualifier]
    ) -> list[_Candidate]:
        if countries is not None:
            candidates = [c for c in candidates if c.country in countries]
        for qualifier in qualifiers:
            ranked: list[tuple[int, _Candidate]] = []
            for candidate in candidates:
                for rank, (country, region) in enumerate(qualifier):
                    if candidate.country == country and region in (None, candidate.region):
                        ranked.append((rank, candidate))
                        break
            best = min((rank for rank, _ in ranked), default=0)
            candidates = [c for rank, c in ranked if rank == best]
        return candidates

    def _lookup(self, text: str) -> list[_Candidate]:
        text = text.strip()
        gazetteer = self.gazetteer
        if gazetteer.has_postcodes:
            if match := _POSTCODE_ONLY.match(text):
                return self._postcode(match["prefix"], match["digits"])
            match = _POSTCODE_FIRST.match(text) or _POSTCODE_LAST.match(text)
            if match:
                return self._postcode(match["prefix"], match["digits"], match["name"])
        return self._by_name(fold(text))

    def _by_name(self, key: str) -> list[_Candidate]:
        if not key:
            return []
        gazetteer = self.gazetteer
        best: dict[int, _Candidate] = {}
        for match, place in gazetteer.by_name(key) or gazetteer.by_loose_name(key):
            current = best.get(place.geonameid)
            if current is None or _TIER[match] < current.tier:
                best[place.geonameid] = _from_place(place, match)
        if best:
            return list(best.values())
        return self._postal_places(gazetteer.postal_by_name(key))

    def _postal_places(self, entries: list[PostalCode]) -> list[_Candidate]:
        """Places known only from the postal table, one per cluster of same-named entries."""
        clusters: list[list[PostalCode]] = []
        for entry in entries:
            for cluster in clusters:
                head = cluster[0]
                if (
                    head.country == entry.country
                    and _distance_km(head.latitude, head.longitude, entry.latitude, entry.longitude)
                    < 10
                ):
                    cluster.append(entry)
                    break
            else:
                clusters.append([entry])
        found = []
        for cluster in clusters:
            head = cluster[0]
            lat = sum(e.latitude for e in cluster) / len(cluster)
            lon = sum(e.longitude for e in cluster) / len(cluster)
            found.append(
                _Candidate(
                    MATCH_POSTAL_PLACE,
                    head.place,
                    head.country,
                    head.region,
                    round(lat, 5),
                    round(lon, 5),
                    0,
                    places=tuple(sorted({e.postcode for e in cluster})),
                )
            )
        return found

    def _postcode(
        self,
        prefix: str | None,
        digits: str,
        name: str | None = None,
    ) -> list[_Candidate]:
        gazetteer = self.gazetteer
        countries = _postcode_countries(prefix, digits)
        entries = [e for e in gazetteer.by_postcode(digits) if e.country in countries]
        if name is not None:
            key = fold(name)
            named = [e for e in entries if fold(e.place) == key]
            if not named:
                named = [e for e in entries if key and key in fold(e.place)]
            if not named:
                # The name is better known than this postcode: trust the name, nearby.
                by_name = [c for c in self._by_name(key) if c.country in countries]
                return by_name or self._postcode(prefix, digits)
            entries = named
        groups: dict[tuple[str, str], list[PostalCode]] = {}
        for entry in entries:
            groups.setdefault((entry.country, entry.postcode), []).append(entry)
        found = []
        for (country, postcode), group in groups.items():

            def weight(entry: PostalCode) -> int:
                place = gazetteer.place_of(entry)
                return place.population if place is not None else -1

            head = max(group, key=weight)  # the main place served by this postcode
            place = gazetteer.place_of(head)
            found.append(
                _Candidate(
                    MATCH_POSTCODE,
                    head.place,
                    country,
                    head.region,
                    head.latitude,
                    head.longitude,
                    place.population if place is not None else 0,
                    geonameid=place.geonameid if place is not None else None,
                    postcode=postcode,
                    places=tuple(e.place for e in group),
                )
            )
        return found

    # reverse --------------------------------------------------------------------------

    def reverse(
        self,
        query: Point | tuple[float, float] | str,
        *,
        exactly_one: bool = True,
        timeout: float | None = DEFAULT_SENTINEL,
    ) -> Location | list[Location] | None:
        """The gazetteer place nearest to a point (with ``exactly_one=False``, the nearest
        ``max_results`` places, nearest first). ``raw["distance_km"]`` tells how far."""
        point = Point(query)
        nearest = self.gazetteer.nearest(
            point.latitude, point.longitude, 1 if exactly_one else self.max_results
        )
        if not nearest:
            return None
        locations = []
        for km, place in nearest:
            location = _from_place(place, MATCH_NAME).to_location()
            location.raw["distance_km"] = round(km, 3)
            locations.append(location)
        return locations[0] if exactly_one else locations
