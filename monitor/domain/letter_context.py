"""Whose a dead letter is and where it points, from its payload and headers alone.

A consumer's dead letter is the event it failed on: the organisations are the ones the event
is about. The notifier's dead letters are `boucle.delivery.dead_lettered` events: they name the
organisation, the channel and the recipient (an e-mail address, a webhook endpoint id); the
notifier adds the endpoint's host in a `dlq.target` header, since the monitor does not know
the endpoints. Addresses are shown masked: the monitor is for operators, not a directory.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from monitor.domain.dead_letters import DeadLetter

#: The notifier's header with where a given-up delivery pointed (notifications/outcomes.py).
DLQ_TARGET = "dlq.target"
DELIVERY_DEAD_LETTERED = "boucle.delivery.dead_lettered"
EMAIL, WEBHOOK, INBOX = "email", "webhook", "inbox"


@dataclass(frozen=True)
class LetterContext:
    """The organisations a letter concerns, and for a delivery its channel and target."""

    organisations: tuple[tuple[str, str], ...]
    channel: str | None
    target: str | None
    is_delivery: bool

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (organisations as {id, name})."""
        return {
            "organisations": [{"id": oid, "name": name} for oid, name in self.organisations],
            "channel": self.channel,
            "target": self.target,
            "delivery": self.is_delivery,
        }


def mask_email(address: str) -> str:
    """`canteen@example.org` -> `c…n@example.org`: enough to recognise, not to copy."""
    local, at, domain = address.rpartition("@")
    if not at:
        return "…"
    if len(local) <= 2:
        return f"{local[:1]}…@{domain}"
    return f"{local[0]}…{local[-1]}@{domain}"


def organisation_ids(envelope: Mapping[str, Any] | None) -> list[str]:
    """Organisations an event is about: an owner, both sides of a match, the organisation."""
    data = (envelope or {}).get("data")
    if not isinstance(data, dict):
        return []
    found: list[Any] = [data.get("organisation_id")]
    for side in ("offer", "need"):
        if isinstance(data.get(side), dict):
            found.append(data[side].get("organisation_id"))
    found += [data.get("owner_organisation_id"), data.get("requester_organisation_id")]
    if str((envelope or {}).get("type", "")).startswith("boucle.organisation."):
        found.append(data.get("id"))
    return list(dict.fromkeys(str(o) for o in found if o))


def letter_context(letter: DeadLetter, names: Mapping[str, str]) -> LetterContext:
    """Describe `letter` with the organisations' names (`names`: id -> name)."""
    envelope = letter.record.document()
    organisations = tuple((oid, names.get(oid, "")) for oid in organisation_ids(envelope))
    data = (envelope or {}).get("data")
    if (envelope or {}).get("type") != DELIVERY_DEAD_LETTERED or not isinstance(data, dict):
        return LetterContext(organisations, None, None, False)
    channel = str(data.get("channel") or "")
    recipient = str(data.get("recipient") or "")
    target = letter.record.header(DLQ_TARGET)
    if not target and channel == EMAIL and recipient:
        target = mask_email(recipient)
    return LetterContext(organisations, channel or None, target or None, True)
