"""`make demo`: a living exchange — a few dozen organisations at real places of the Greater
Region post offers and needs across the taxonomy, through the public API of a running
exchange (so every listing flows through matching and alerts like a real one)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import sys
import unicodedata
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

log = logging.getLogger("boucle.demo")

# (name, kind, country, place, language)
ORGANISATIONS = [
    ("Ferme Schmit", "farm", "LU", "Ettelbruck", "fr"),
    ("Epicerie solidaire Esch", "association", "LU", "Esch-sur-Alzette", "fr"),
    ("Schräinerei Weber", "business", "LU", "Diekirch", "de"),
    ("Kantine Uni Luxembourg", "public_body", "LU", "Luxembourg", "en"),
    ("Repair Café Dudelange", "association", "LU", "Dudelange", "fr"),
    ("Bio-Haff Mersch", "farm", "LU", "Mersch", "de"),
    ("Emmaüs Lorraine", "association", "FR", "Metz", "fr"),
    ("Menuiserie Thionvilloise", "business", "FR", "Thionville", "fr"),
    ("Cantine scolaire de Nancy", "public_body", "FR", "Nancy", "fr"),
    ("Maraîchage de la Seille", "farm", "FR", "Pont-à-Mousson", "fr"),
    ("Vergers de Lorraine", "farm", "FR", "Verdun", "fr"),
    ("Ressourcerie Longwy", "association", "FR", "Longwy", "fr"),
    ("BTP Réemploi Épinal", "business", "FR", "Épinal", "fr"),
    ("Palettes Sarreguemines", "business", "FR", "Sarreguemines", "fr"),
    ("Saarbrücker Tafel", "association", "DE", "Saarbrücken", "de"),
    ("Hofgut Neunkirchen", "farm", "DE", "Neunkirchen", "de"),
    ("Holzwerk Saarlouis", "business", "DE", "Saarlouis", "de"),
    ("Stadtwerke Homburg", "public_body", "DE", "Homburg", "de"),
    ("Trierer Weinbau Mosel", "farm", "DE", "Trier", "de"),
    ("Kaiserslauterer Bauteilbörse", "business", "DE", "Kaiserslautern", "de"),
    ("Mainzer Mensa", "public_body", "DE", "Mainz", "de"),
    ("Koblenzer Textilkreis", "association", "DE", "Koblenz", "de"),
    ("Bäckerei Bitburg", "business", "DE", "Bitburg", "de"),
    ("Laiterie d'Arlon", "business", "BE", "Arlon", "fr"),
    ("Ressourcerie Namuroise", "association", "BE", "Namur", "fr"),
    ("Ferme de Bastogne", "farm", "BE", "Bastogne", "fr"),
    ("Cuisine centrale de Liège", "public_body", "BE", "Liège", "fr"),
    ("Recyclerie Charleroi", "association", "BE", "Charleroi", "fr"),
    ("Scierie de Marche", "business", "BE", "Marche-en-Famenne", "fr"),
    ("Epicerie sociale de Virton", "association", "BE", "Virton", "fr"),
]

# (kind, category, title, unit, quantity range, radius range km, produce?)
LISTINGS = [
    (
        "offer",
        "reuse-pallets-epal",
        "EPAL pallets, used but sound",
        "pallets",
        (10, 120),
        (0, 30),
        False,
    ),
    ("need", "reuse-pallets", "Pallets for our workshop", "pallets", (5, 60), (20, 80), False),
    ("offer", "ewc-150103", "Broken wooden packaging for chipping", "t", (1, 8), (0, 40), False),
    ("offer", "ewc-170201", "Demolition timber, beams and planks", "m3", (2, 30), (0, 20), False),
    ("need", "ewc-1702", "Wood for a community build", "m3", (1, 10), (30, 100), False),
    ("offer", "ewc-170405", "Steel profiles from a refit", "t", (1, 12), (0, 50), False),
    ("need", "ewc-1704", "Scrap metal for art workshop", "kg", (50, 500), (20, 80), False),
    ("offer", "ewc-200110", "Sorted second-hand clothes", "kg", (100, 900), (0, 25), False),
    ("need", "ewc-200110", "Winter clothes for families", "kg", (50, 400), (10, 60), False),
    ("offer", "ewc-150101", "Clean cardboard boxes", "kg", (50, 600), (0, 15), False),
    (
        "offer",
        "reuse-furniture-office",
        "Office desks and chairs",
        "pieces",
        (5, 40),
        (0, 30),
        False,
    ),
    (
        "need",
        "reuse-furniture",
        "Furniture for a new youth centre",
        "pieces",
        (5, 30),
        (20, 90),
        False,
    ),
    (
        "offer",
        "produce-vegetables-potatoes",
        "Potatoes, odd sizes",
        "kg",
        (100, 2000),
        (0, 40),
        True,
    ),
    (
        "need",
        "produce-vegetables",
        "Vegetables for the school canteen",
        "kg",
        (50, 500),
        (20, 60),
        True,
    ),
    ("offer", "produce-fruit-apples", "Apples from our orchard", "kg", (100, 1500), (0, 50), True),
    ("need", "produce-fruit", "Fruit for the food bank", "kg", (50, 400), (15, 70), True),
    ("offer", "produce-dairy-milk", "Surplus milk, daily", "l", (50, 400), (0, 30), True),
    ("offer", "produce-bakery-bread", "Yesterday's bread", "kg", (10, 80), (0, 15), True),
    ("need", "produce-bakery", "Bread for the solidarity grocery", "kg", (5, 50), (5, 30), True),
]


def _ascii_slug(name: str) -> str:
    """ "Saarbrücker Tafel" -> "saarbruckertafel": demo logins anyone can type."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())[:20]


def demo_login(index: int) -> str:
    """The login e-mail of the demo organisation at `index`."""
    return f"demo-{index}@{_ascii_slug(ORGANISATIONS[index][0])}.example"


class ApiClient:
    """Just enough HTTP to drive the public API, with bounded timeouts."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def post(self, path: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(
            self.base_url + path, json.dumps(body).encode(), headers, method="POST"
        )
        with urllib.request.urlopen(request, timeout=15) as response:
            return dict(json.load(response))


def load_demo(client: ApiClient, seed: int = 2026) -> tuple[int, int]:
    """Register the organisations and post 3-5 listings each; returns the counts."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    organisations = listings = 0
    for index, (name, kind, country, place, language) in enumerate(ORGANISATIONS):
        slug = _ascii_slug(name)
        try:
            registered = client.post(
                "/api/v1/organisations",
                {
                    "name": name,
                    "kind": kind,
                    "country": country,
                    "place": place,
                    "contact_email": f"contact@{slug}.example",
                    "language": language,
                    "email": f"demo-{index}@{slug}.example",
                    "password": "demo-password-2026",
                },
            )
        except urllib.error.HTTPError as exc:
            if exc.code == 409:
                log.info("%s is already there; skipping it", name)
                continue
            raise
        organisations += 1
        for _ in range(rng.randint(3, 5)):
            kind_, category, title, unit, (low, high), (rlow, rhigh), produce = rng.choice(LISTINGS)
            body: dict[str, Any] = {
                "kind": kind_,
                "title": title,
                "category": category,
                "unit": unit,
                "quantity": rng.randint(low, high),
                "place": f"{place}, {country}",
                "radius_km": rng.randint(rlow, rhigh),
                "available_until": (now + timedelta(days=rng.randint(14, 60))).isoformat(),
            }
            if produce and kind_ == "offer":
                body["use_by"] = (now + timedelta(days=rng.randint(3, 10))).date().isoformat()
            client.post("/api/v1/listings", body, registered["api_token"])
            listings += 1
        print(f"  [{index + 1}/{len(ORGANISATIONS)}] {name} ({place})", flush=True)
    return organisations, listings


def main(argv: list[str] | None = None) -> int:
    """Load the demo into the exchange at --url (default: PUBLIC_BASE_URL or :8000)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default=os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(f"Loading demo organisations and listings into {args.url} ...")
    try:
        organisations, listings = load_demo(ApiClient(args.url))
    except urllib.error.URLError as exc:
        print(
            f"error: cannot reach {args.url} ({exc}). Start the exchange first: make run",
            file=sys.stderr,
        )
        return 1
    print(
        f"Done: {organisations} organisations, {listings} listings. Demo logins: "
        "demo-<n>@<organisation>.example / demo-password-2026"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
