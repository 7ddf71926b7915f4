"""Examples shown in the API reference (request bodies and the main answers)."""

from __future__ import annotations

from typing import Any

ALERT: dict[str, Any] = {
    "id": "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d",
    "match_id": "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f",
    "listing_id": "d2e3f4a5-b6c7-4d8e-9f0a-1b2c3d4e5f6a",
    "organisation_id": "e3f4a5b6-c7d8-4e9f-0a1b-2c3d4e5f6a7b",
    "role": "buyer",
    "own_title": "Pallets wanted for a garden project",
    "counterpart_listing_id": "0b7c2c4e-5d8e-4f7a-9a43-2f1e6b0c9d11",
    "counterpart_title": "40 Euro pallets, good condition",
    "counterpart_place": "Thionville",
    "category": "reuse-pallets-epal",
    "quantity": 40.0,
    "unit": "pallets",
    "distance_km": 27.4,
    "score": 0.87,
    "reasons": {"category": "same category", "distance_km": 27.4},
    "available_until": None,
    "status": "active",
    "retraction_reason": None,
    "read": False,
    "created_at": "2025-01-31T09:30:02+00:00",
}
INBOX: dict[str, Any] = {"unread": 1, "items": [ALERT]}
MARKED: dict[str, Any] = {"marked": 1}

ENDPOINT_IN: dict[str, Any] = {
    "url": "https://erp.example.org/hooks/boucle",
    "description": "our stock system",
}
ENDPOINT: dict[str, Any] = {
    "id": "3c2b1a09-8f7e-4d6c-9b5a-4f3e2d1c0b9a",
    "url": "https://erp.example.org/hooks/boucle",
    "description": "our stock system",
    "created_at": "2025-01-31T09:30:00+00:00",
}
NEW_ENDPOINT: dict[str, Any] = {**ENDPOINT, "secret": "whsec_EXAMPLEonlyNOTaREALsecret00000000"}
PREFERENCES: dict[str, Any] = {
    "email": True,
    "webhook": True,
    "inbox": True,
    "digest": True,
    "digest_hour": 7,
    "muted_categories": ["ewc-200101"],
    "quiet_start": "22:00",
    "quiet_end": "07:00",
}
EXPORT: dict[str, Any] = {
    "organisation_id": "e3f4a5b6-c7d8-4e9f-0a1b-2c3d4e5f6a7b",
    "exported_at": "2025-02-01T10:00:00+00:00",
    "alerts": [{**ALERT, "read_at": None}],
    "alert_reads": [],
    "deliveries": [
        {
            "id": "5f6a7b8c-9d0e-4f1a-2b3c-4d5e6f7a8b9c",
            "alert_id": ALERT["id"],
            "channel": "email",
            "recipient": "contact@example.org",
            "status": "sent",
            "attempts": 1,
            "created_at": "2025-01-31T09:30:02+00:00",
            "sent_at": "2025-01-31T09:30:05+00:00",
        }
    ],
    "exchange_notices": [],
    "preferences": [],
    "webhooks": [],
}
