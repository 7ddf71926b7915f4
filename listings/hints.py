"""Why a nearby offer does not match a need, in words its poster can act on. Plain Python.

Shown on a need's page while it has no match: the nearest offers of its category and what
would make each match (a larger radius, another unit, a smaller minimum).
"""

from __future__ import annotations

from collections.abc import Callable

from listings.domain import Listing
from shared.units import in_base_unit

Gettext = Callable[..., str]


def what_would_match(
    need: Listing,
    offer: Listing,
    distance_km: float | None,
    gettext: Gettext,
    unit_label: Callable[[str], str] = str,
) -> list[str]:
    """The changes to the need that would let `offer` match it (empty: it should match)."""
    hints = []
    if distance_km is not None and distance_km > need.radius_km:
        hints.append(
            gettext("%(km)s km away: collect up to %(needed)s km instead of %(radius)s km")
            % {
                "km": f"{distance_km:.0f}",
                "needed": f"{distance_km + 1:.0f}",
                "radius": f"{need.radius_km:g}",
            }
        )
    offer_dimension, offered = in_base_unit(offer.available, offer.unit)
    need_dimension, _ = in_base_unit(need.quantity, need.unit)
    if offer_dimension != need_dimension and need.min_quantity is not None:
        hints.append(
            gettext("counted in %(unit)s: ask in %(unit)s, or without a minimum")
            % {"unit": unit_label(offer.unit)}
        )
    elif need.min_quantity is not None and offered < in_base_unit(need.min_quantity, need.unit)[1]:
        hints.append(
            gettext("only %(left)s %(unit)s: lower your minimum")
            % {"left": f"{offer.available:g}", "unit": unit_label(offer.unit)}
        )
    return hints
