"""The notifications service's part of an organisation's export, asked for over HTTP.

Listings signs the owner's identity as the edge would (ADR 0007) and asks the notifications
service for the alerts, deliveries, notices and settings it holds. An export missing that
part would mislead; when the service does not answer, the export says so (503) instead.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from werkzeug.exceptions import ServiceUnavailable

from shared.auth import Principal
from shared.identity import IDENTITY_HEADER, Identity, IdentitySigner

PATH = "/api/v1/organisations/me/export/notifications"

Export = Callable[[Principal], dict[str, list[dict[str, Any]]]]


def notifications_export(base_url: str | None, signer: IdentitySigner) -> Export:
    """A fetcher of the notifications part (for `OrganisationData.export`)."""

    def fetch(principal: Principal) -> dict[str, list[dict[str, Any]]]:
        if not base_url:
            raise ServiceUnavailable("the notifications service is not configured")
        signed = signer.sign(Identity(principal), datetime.now(UTC))
        request = urllib.request.Request(
            base_url.rstrip("/") + PATH,
            headers={IDENTITY_HEADER: signed, "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                found: dict[str, list[dict[str, Any]]] = json.load(answer)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise ServiceUnavailable(
                "The notifications service did not answer, so the export would be "
                "incomplete. Try again in a minute."
            ) from exc
        return found

    return fetch
