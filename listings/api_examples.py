"""Examples shown in the API reference (request bodies and the main answers).

They are real requests: the API fuzz test sends them too, so they stay valid.
"""

from __future__ import annotations

from typing import Any

LISTING_ID = "0b7c2c4e-5d8e-4f7a-9a43-2f1e6b0c9d11"
ORGANISATION_ID = "5f0d8a2e-3c1b-4e6f-8a9d-7b2c1e0f4a33"
EXCHANGE_ID = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"

LISTING_IN: dict[str, Any] = {
    "kind": "offer",
    "title": "40 Euro pallets, good condition",
    "description": "Collected at our loading bay, weekdays 8:00-16:00.",
    "category": "reuse-pallets-epal",
    "quantity": 40,
    "unit": "pallets",
    "place": "Thionville",
    "radius_km": 0,
    "price": {"mode": "free"},
}
LISTING_PATCH: dict[str, Any] = {"quantity": 25, "description": "25 left."}
ACTION: dict[str, Any] = {"action": "reserve"}

LISTING_OUT: dict[str, Any] = {
    "id": LISTING_ID,
    "organisation_id": ORGANISATION_ID,
    "kind": "offer",
    "status": "published",
    "title": "40 Euro pallets, good condition",
    "description": "Collected at our loading bay, weekdays 8:00-16:00.",
    "category": "reuse-pallets-epal",
    "quantity": 40.0,
    "remaining_quantity": 40.0,
    "min_quantity": None,
    "max_price": None,
    "unit": "pallets",
    "location": {"lat": 49.3579, "lon": 6.1683, "place": "Thionville", "country": "FR"},
    "radius_km": 0.0,
    "available_from": None,
    "available_until": None,
    "use_by": None,
    "expires_at": "2025-03-02T09:30:00+00:00",
    "recurrence": "one-off",
    "price": {"mode": "free", "amount": None},
    "version": 1,
    "created_at": "2025-01-31T09:30:00+00:00",
    "updated_at": "2025-01-31T09:30:00+00:00",
}
SEARCH_OUT: dict[str, Any] = {
    "hits": [{"listing": LISTING_OUT, "distance_km": 27.4}],
    "total": 1,
    "page": 1,
    "page_size": 20,
}
MATCHES_OUT: list[dict[str, Any]] = [
    {
        "match_id": "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f",
        "counterpart_id": "d2e3f4a5-b6c7-4d8e-9f0a-1b2c3d4e5f6a",
        "counterpart_title": "Pallets wanted for a garden project",
        "counterpart_organisation_id": "e3f4a5b6-c7d8-4e9f-0a1b-2c3d4e5f6a7b",
        "counterpart_organisation_name": "Jardins partagés Esch",
        "score": 0.87,
        "reasons": {"category": "same category", "distance_km": 27.4},
    }
]

REGISTRATION_IN: dict[str, Any] = {
    "name": "Menuiserie Thionvilloise",
    "kind": "business",
    "country": "FR",
    "place": "Thionville",
    "contact_email": "contact@menuiserie.example",
    "phone": "+33 3 82 00 00 00",
    "language": "fr",
    "email": "anne@menuiserie.example",
    "password": "a long passphrase",
    "member_name": "Anne",
}
ORGANISATION_OUT: dict[str, Any] = {
    "id": ORGANISATION_ID,
    "name": "Menuiserie Thionvilloise",
    "kind": "business",
    "country": "FR",
    "place": "Thionville",
    "contact_email": "contact@menuiserie.example",
    "language": "fr",
}
REGISTRATION_OUT: dict[str, Any] = {
    "organisation": ORGANISATION_OUT,
    "member_id": "f4a5b6c7-d8e9-4f0a-1b2c-3d4e5f6a7b8c",
    "api_token": "bcl_3q2-7wEXAMPLEonlyNOTaREALtoken0000000000",
}
TOKEN_IN: dict[str, Any] = {"name": "stock system"}
TOKEN_OUT: dict[str, Any] = {
    "id": "a5b6c7d8-e9f0-4a1b-2c3d-4e5f6a7b8c9d",
    "name": "stock system",
    "created_at": "2025-01-31T09:30:00+00:00",
    "revoked_at": None,
    "token": "bcl_9x8-EXAMPLEonlyNOTaREALtoken1111111111111",
}
CATEGORIES_OUT: dict[str, Any] = {
    "roots": [
        {
            "id": "reuse",
            "label": "Reusable goods and by-products (not waste)",
            "labels": {
                "en": "Reusable goods and by-products (not waste)",
                "fr": "Biens réutilisables et sous-produits (hors déchets)",
                "de": "Wiederverwendbare Güter und Nebenprodukte (kein Abfall)",
            },
            "ewc": None,
            "children": [
                {
                    "id": "reuse-pallets",
                    "label": "Reusable pallets",
                    "labels": {
                        "en": "Reusable pallets",
                        "fr": "Palettes réutilisables",
                        "de": "Mehrwegpaletten",
                    },
                    "ewc": None,
                    "children": [
                        {
                            "id": "reuse-pallets-epal",
                            "label": "EPAL Euro pallets",
                            "labels": {
                                "en": "EPAL Euro pallets",
                                "fr": "Palettes EPAL (palettes Europe)",
                                "de": "EPAL-Europaletten",
                            },
                            "ewc": None,
                            "children": [],
                        }
                    ],
                }
            ],
        }
    ]
}

REQUEST_IN: dict[str, Any] = {
    "quantity": 10,
    "window_from": "2025-02-03T08:00:00+01:00",
    "window_until": "2025-02-07T16:00:00+01:00",
    "message": "We could collect ten on Tuesday morning.",
}
TERMS_IN: dict[str, Any] = {
    "quantity": 8,
    "window_from": "2025-02-04T08:00:00+01:00",
    "window_until": "2025-02-04T12:00:00+01:00",
}
ANSWER_IN: dict[str, Any] = {"action": "accept"}
MESSAGE_IN: dict[str, Any] = {"text": "Ring at the side door, please."}
HANDOVER_IN: dict[str, Any] = {"quantity": 8, "reference": "BL-2025-0042"}
PROBLEM_IN: dict[str, Any] = {"text": "Nobody came to collect on the agreed day."}
EXCHANGE_OUT: dict[str, Any] = {
    "id": EXCHANGE_ID,
    "listing_id": LISTING_ID,
    "listing_title": "40 Euro pallets, good condition",
    "listing_kind": "offer",
    "owner": {
        "id": ORGANISATION_ID,
        "name": "Menuiserie Thionvilloise",
        "contact_email": None,
        "contact_phone": None,
    },
    "requester": {
        "id": "e3f4a5b6-c7d8-4e9f-0a1b-2c3d4e5f6a7b",
        "name": "Jardins partagés Esch",
        "contact_email": None,
        "contact_phone": None,
    },
    "quantity": 10.0,
    "unit": "pallets",
    "window_from": "2025-02-03T07:00:00+00:00",
    "window_until": "2025-02-07T15:00:00+00:00",
    "status": "requested",
    "awaiting": ORGANISATION_ID,
    "expires_at": "2025-02-03T09:30:00+00:00",
    "owner_handed_over": None,
    "requester_handed_over": None,
    "reference": "",
    "problem": None,
    "version": 1,
    "created_at": "2025-01-31T09:30:00+00:00",
    "updated_at": "2025-01-31T09:30:00+00:00",
    "messages": [
        {
            "author_id": "e3f4a5b6-c7d8-4e9f-0a1b-2c3d4e5f6a7b",
            "author": "Jardins partagés Esch",
            "text": "We could collect ten on Tuesday morning.",
            "created_at": "2025-01-31T09:30:00+00:00",
        }
    ],
    "repeats": "one-off",
    "series_id": None,
    "occurrence": 1,
}

PROFILE_IN: dict[str, Any] = {
    "description": "Joinery in Thionville: offcuts of oak and beech every week.",
    "website": "https://menuiserie.example",
    "phone": "+33 3 82 00 00 00",
}
PROFILE_OUT: dict[str, Any] = {
    **ORGANISATION_OUT,
    "description": PROFILE_IN["description"],
    "website": PROFILE_IN["website"],
    "phone": PROFILE_IN["phone"],
    "contact_email_verified": True,
}
MEMBERS_OUT: list[dict[str, Any]] = [
    {
        "id": "f4a5b6c7-d8e9-4f0a-1b2c-3d4e5f6a7b8c",
        "name": "Anne",
        "email": "anne@menuiserie.example",
        "language": "fr",
        "organisation_role": "owner",
        "email_verified": True,
    }
]
INVITE_IN: dict[str, Any] = {"email": "lena@menuiserie.example", "role": "member", "language": "de"}
ROLE_IN: dict[str, Any] = {"role": "owner"}
FORGOT_IN: dict[str, Any] = {"email": "anne@menuiserie.example"}
