"""The activity page (charts and map) and the impact page (table and CSV)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import current_app, render_template

from monitor.access import admin_page
from monitor.api import csv_response, monitor
from monitor.domain.charts import bar_chart
from monitor.pages import bp
from shared.impact.factors import ROAD_FREIGHT_KG_PER_TKM, ROAD_FREIGHT_SOURCE
from shared.impact.table import impact_row_dict

TILE_URL_KEY, TILE_ATTRIBUTION_KEY = "boucle.monitor_tile_url", "boucle.monitor_tile_attribution"
MAP_FIELDS = ("id", "kind", "title", "category", "quantity", "unit", "organisation_name")


@bp.get("/activity")
@admin_page
def activity() -> Any:
    """Listings, matches and alerts per day as SVG bar charts; active listings on a map."""
    service = monitor()
    series = service.activity.series(datetime.now(UTC).date(), 30)
    listings = service.activity.active_listings()
    markers = [
        {
            **{k: row[k] for k in MAP_FIELDS},
            "lat": row["location"]["lat"],
            "lon": row["location"]["lon"],
        }
        for row in listings
    ]
    return render_template(
        "monitor/activity.html",
        charts={name: bar_chart(points) for name, points in series.items()},
        markers=markers,
        totals=service.activity.totals(),
        exchanges=service.activity.exchanges_summary(),
        tile_url=current_app.config.get(TILE_URL_KEY, ""),
        tile_attribution=current_app.config.get(TILE_ATTRIBUTION_KEY, ""),
    )


@bp.get("/impact")
@admin_page
def impact() -> Any:
    """What completed exchanges moved, and the CO2e and transport it avoided."""
    service = monitor()
    rows, total = service.impact()
    return render_template(
        "monitor/impact.html",
        rows=[(row, impact_row_dict(row)) for row in rows],
        total=impact_row_dict(total),
        long_chain_km=service.long_chain_km,
        freight_factor=ROAD_FREIGHT_KG_PER_TKM,
        freight_source=ROAD_FREIGHT_SOURCE,
    )


@bp.get("/impact.csv")
@admin_page
def impact_csv() -> Any:
    """The impact summary as a CSV download."""
    return csv_response(monitor())
