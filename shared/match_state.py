"""How every reader of the `matches` topic decides what stands: versions, not arrival order.

Match events of one match may reach a reader out of order (two matchers, a restart, a
zombie, events keyed by either listing), so readers never trust the order they see:

- a match event computed from a listing version older than one the reader has seen is
  stale and dropped;
- when a listing reaches a version (its `MatchesSettled`, or a listing event), every match
  of it computed from an older version that was not found again no longer holds; and none
  holds once the listing left `published`, whatever the matcher said.

Plain Python: the notifier, the listings read model and the monitor apply these rules to
their own storage. docs/adr/0002-matching.md tells why they are enough.
"""

from __future__ import annotations

from collections.abc import Mapping

from shared.contracts import PUBLISHED, MatchFound, MatchRetracted


def sides(match: MatchFound | MatchRetracted) -> dict[str, int]:
    """listing id -> the version the match was computed from, for both sides."""
    return {match.offer.listing_id: match.offer.version, match.need.listing_id: match.need.version}


def is_stale(match: MatchFound | MatchRetracted, known: Mapping[str, int]) -> bool:
    """True when a side's version is older than the newest the reader knows of it."""
    return any(version < known.get(listing, 0) for listing, version in sides(match).items())


def no_longer_holds(computed_from: int, version: int, status: str) -> bool:
    """Does a match computed from `computed_from` of a listing stand once it is at `version`?

    False means it may still stand (it was found at this version, or later ones). A late
    word that an older version left `published` says nothing of a match from a newer one.
    """
    return computed_from < version or (computed_from <= version and status != PUBLISHED)


def retraction_reason(kind: str, status: str) -> str:
    """Why a listing's matches went, as shown to both parties ("offer reserved")."""
    return f"{kind} {status}" if status != PUBLISHED else f"{kind} updated"
