"""The monitor's figures as JSON-ready dicts and as CSV (shared by the API and the pages)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import date
from typing import Any

from monitor.domain.dead_letters import DeadLetter
from monitor.domain.health import HealthView
from monitor.domain.letter_context import letter_context
from monitor.domain.pace import Pace
from monitor.domain.records import redacted, redacted_text
from monitor.domain.streams import GroupState, TopicState
from monitor.service import ReplayRow
from shared.impact.factors import ROAD_FREIGHT_KG_PER_TKM, ROAD_FREIGHT_SOURCE
from shared.impact.summary import ImpactRow
from shared.impact.table import impact_row_dict


def topic_dict(topic: TopicState) -> dict[str, Any]:
    """One topic."""
    return {
        "name": topic.name,
        "dead_letter": topic.is_dead_letter,
        "partitions": [
            {
                "partition": p,
                "start_offset": topic.start_offsets.get(p, 0),
                "end_offset": topic.end_offsets[p],
            }
            for p in topic.partitions
        ],
        "messages": topic.messages,
        "messages_per_minute": None if topic.per_minute is None else round(topic.per_minute, 2),
    }


def group_dict(group: GroupState, pace: Pace | None = None) -> dict[str, Any]:
    """One consumer group with lag per partition, and whether it keeps up."""
    return {
        "group_id": group.group_id,
        "state": group.state,
        "members": [
            asdict(m) | {"assignment": [list(a) for a in m.assignment]} for m in group.members
        ],
        "total_lag": group.total_lag,
        "lag_trend": group.lag_trend,
        "lag_history": list(group.lag_history),
        "partitions": [asdict(p) for p in group.partitions],
        "pace": None if pace is None else asdict(pace),
    }


def service_dict(view: HealthView) -> dict[str, Any]:
    """One service's health."""
    return {
        "name": view.name,
        "url": view.url,
        "status": view.status,
        "last_seen": view.last_seen.isoformat() if view.last_seen else None,
        "last_checked": view.last_checked.isoformat() if view.last_checked else None,
        "detail": view.detail,
    }


def dead_letter_dict(
    letter: DeadLetter, full: bool = False, names: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """One dead letter, whose it is and where it points (`names`: organisation id -> name);
    with its raw value and headers when `full`."""
    record = letter.record
    body: dict[str, Any] = {
        "id": letter.id,
        "dlq_topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "key": record.key_text,
        "error": letter.error,
        "attempts": letter.attempts,
        "consumer": letter.consumer,
        "source": None
        if letter.source is None
        else dict(zip(("topic", "partition", "offset"), letter.source, strict=True)),
        "replay_of": letter.replay_of,
        "failed_at": letter.failed_at.isoformat(),
        "event_type": (record.document() or {}).get("type"),
        "replayable": letter.source is not None,
        **letter_context(letter, names or {}).as_dict(),
    }
    if full:
        body["value"] = redacted_text(record.value_text())
        body["envelope"] = redacted(record.document())
        body["headers"] = {k: v.decode("utf-8", errors="replace") for k, v in record.headers}
    return body


def replay_dict(row: ReplayRow) -> dict[str, Any]:
    """One replay and its outcome."""
    replay = row.replay
    return {
        "dead_letter_id": replay.dead_letter_id,
        "target": {"topic": replay.topic, "partition": replay.partition, "offset": replay.offset},
        "by": replay.by,
        "at": replay.at.isoformat(),
        "consumer": row.consumer,
        "status": row.status,
        "new_dead_letter_id": row.failure.id if row.failure else None,
    }


def activity_dict(series: dict[str, list[tuple[date, int]]]) -> dict[str, Any]:
    """Per-day counts of listings published, matches found and alerts sent."""
    return {
        name: [{"day": d.isoformat(), "count": n} for d, n in points]
        for name, points in series.items()
    }


def impact_dict(rows: list[ImpactRow], total: ImpactRow, long_chain_km: float) -> dict[str, Any]:
    """The impact summary with its assumptions."""
    return {
        "rows": [impact_row_dict(r) for r in rows],
        "total": impact_row_dict(total),
        "assumptions": {
            "long_chain_km": long_chain_km,
            "road_freight_kg_co2e_per_tonne_km": ROAD_FREIGHT_KG_PER_TKM,
            "road_freight_source": ROAD_FREIGHT_SOURCE,
            "definition": "an exchange both organisations confirmed as handed over",
            "documentation": "docs/impact.md",
        },
    }
