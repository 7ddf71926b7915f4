"""How an alert reads: its reasons and units as sentences, in the reader's language.

Plain Python: the translation functions are passed in (flask-babel's on pages, the e-mail
catalogue's in the notifier), so pages and e-mails say the same thing. They are called
without variables and the result is formatted here, which suits both.
"""

from __future__ import annotations

from collections.abc import Callable

from notifications.alerts import BUYER, Alert

Gettext = Callable[..., str]
Ngettext = Callable[..., str]


def unit_label(unit: str, gettext: Gettext) -> str:
    """A unit as people write it."""
    labels = {
        "kg": "kg",
        "t": "t",
        "m3": "m³",
        "l": "l",
        "pieces": gettext("pieces"),
        "pallets": gettext("pallets"),
        "g": "g",
        "crates": gettext("crates"),
    }
    return labels.get(unit, unit)


def reason_lines(alert: Alert, gettext: Gettext, ngettext: Ngettext) -> list[str]:
    """Why the two listings were paired, one short sentence per reason."""
    reasons = alert.reasons
    lines = []
    # Each sentence names whose listing it speaks of from the reader's side: "Ihr Bedarf"
    # for the other party's need reads as the reader's own in German (Ihr = your / their).
    buyer = alert.role == BUYER
    relation = reasons.get("category_relation")
    if relation == "same":
        lines.append(gettext("Same category"))
    elif relation in ("parent", "ancestor"):
        if buyer:
            lines.append(gettext("The offer falls within the category you asked for"))
        else:
            lines.append(gettext("The other organisation's need covers your offer's category"))
    fit = reasons.get("quantity_fit")
    if fit == "full":
        lines.append(
            gettext("The offer covers your need in full")
            if buyer
            else gettext("Your offer covers the other organisation's need in full")
        )
    elif fit == "partial":
        lines.append(
            gettext("The offer covers part of your need")
            if buyer
            else gettext("Your offer covers part of the other organisation's need")
        )
    days_left = reasons.get("days_left")
    if isinstance(days_left, int):
        template = ngettext("%(num)d day left", "%(num)d days left", days_left)
        lines.append(template % {"num": days_left})
    if reasons.get("cross_border"):
        countries = " → ".join(reasons.get("countries") or [])
        lines.append(gettext("Across the border: %(countries)s") % {"countries": countries})
    return lines


def retraction_label(reason: str | None, gettext: Gettext) -> str:
    """Why a match went, in the reader's language ("offer reserved" -> "Angebot reserviert").

    Reasons are written by the readers of the matches topic as "<kind> <status>" or
    "<kind> updated" (shared/match_state.py), or by the matcher when a pair stops fitting
    (matching/rules.py); anything else is shown as it came.
    """
    labels = {
        "not an offer and a need": gettext("the listings no longer pair an offer and a need"),
        "same organisation": gettext("both listings belong to the same organisation"),
        "category does not fit": gettext("the categories no longer fit"),
        "expired": gettext("a listing expired"),
        "availability windows do not overlap": gettext("the dates no longer overlap"),
        "quantity below the need's minimum": gettext("the quantity is below the minimum asked"),
        "price above the need's maximum": gettext("the price is above the maximum asked"),
        "out of range": gettext("the places are now too far apart"),
        "offer reserved": gettext("the offer is reserved"),
        "offer closed": gettext("the offer is closed"),
        "offer withdrawn": gettext("the offer was withdrawn"),
        "offer expired": gettext("the offer expired"),
        "offer updated": gettext("the offer changed"),
        "need reserved": gettext("the need is covered for now"),
        "need closed": gettext("the need is closed"),
        "need withdrawn": gettext("the need was withdrawn"),
        "need expired": gettext("the need expired"),
        "need updated": gettext("the need changed"),
    }
    return labels.get(reason or "", reason or "")


def price_line(alert: Alert, gettext: Gettext) -> str:
    """What the offer costs, as a sentence ("" when the offer did not say)."""
    if alert.price_mode == "free":
        return gettext("Free")
    if alert.price_mode == "negotiable":
        return gettext("Price to negotiate")
    if alert.price_mode == "per_unit" and alert.price_amount is not None:
        return gettext("%(amount)s € per %(unit)s") % {
            "amount": f"{alert.price_amount:.2f}",
            "unit": unit_label(alert.unit, gettext),
        }
    return ""
