"""Feeds other programs read: an Atom feed of new offers, an iCalendar of pick-up windows,
and the secret address of an organisation's calendar. No web framework here.

Atom is written with ElementTree (every text and attribute escaped by the serialiser);
iCalendar with the `icalendar` library (line folding, escaping, UTC times).
"""

from __future__ import annotations

import hashlib
import hmac
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import icalendar

ATOM = "http://www.w3.org/2005/Atom"


@dataclass(frozen=True)
class FeedEntry:
    """One offer as a feed shows it."""

    id: str
    title: str
    summary: str
    url: str
    category: str
    category_label: str
    place: str
    published: datetime
    updated: datetime


def atom_feed(
    *, feed_id: str, title: str, self_url: str, page_url: str, entries: Iterable[FeedEntry]
) -> bytes:
    """An Atom 1.0 document (RFC 4287), newest entries first as given."""
    ET.register_namespace("", ATOM)
    items = list(entries)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _text(feed, "id", feed_id)
    _text(feed, "title", title)
    # An empty feed is as fresh as the moment it was asked for.
    newest = max((entry.updated for entry in items), default=datetime.now(UTC))
    _text(feed, "updated", _rfc3339(newest))
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=self_url, type="application/atom+xml")
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", href=page_url, type="text/html")
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    _text(author, "name", "Boucle")
    _text(feed, "generator", "Boucle")
    for item in items:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        _text(entry, "id", f"urn:uuid:{item.id}")
        _text(entry, "title", item.title)
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", href=item.url, type="text/html")
        _text(entry, "published", _rfc3339(item.published))
        _text(entry, "updated", _rfc3339(item.updated))
        ET.SubElement(entry, f"{{{ATOM}}}category", term=item.category, label=item.category_label)
        _text(entry, "summary", item.summary)
    return bytes(ET.tostring(feed, encoding="utf-8", xml_declaration=True))


def _text(parent: ET.Element, name: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{name}")
    element.text = text
    return element


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Window:
    """A time something can be picked up or handed over."""

    uid: str
    summary: str
    description: str
    start: datetime
    end: datetime | None
    url: str
    location: str = ""
    status: str = "CONFIRMED"  # or TENTATIVE while the other side has not agreed


def calendar(name: str, windows: Iterable[Window], stamp: datetime) -> bytes:
    """An iCalendar (RFC 5545) with one event per window, times in UTC."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Boucle//pick-up windows//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    for window in windows:
        event = icalendar.Event()
        event.add("uid", window.uid)
        event.add("dtstamp", stamp.astimezone(UTC))
        event.add("dtstart", window.start.astimezone(UTC))
        if window.end is not None and window.end > window.start:
            event.add("dtend", window.end.astimezone(UTC))
        event.add("summary", window.summary)
        event.add("description", window.description)
        event.add("url", window.url)
        event.add("status", window.status)
        if window.location:
            event.add("location", window.location)
        cal.add_component(event)
    return bytes(cal.to_ical())


def calendar_token(secret_key: str, organisation_id: str) -> str:
    """The secret in an organisation's calendar address (calendar apps cannot log in).

    An HMAC of the organisation's id under the site's key, kept apart from other uses of
    the key by its label: only who was given the address can read the calendar, and
    changing SECRET_KEY revokes every address at once.
    """
    message = f"boucle.calendar:{organisation_id}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()[:40]


def calendar_token_valid(secret_key: str, organisation_id: str, token: str) -> bool:
    return hmac.compare_digest(calendar_token(secret_key, organisation_id), token)
