"""The monitor API's answers as the API reference describes them, with examples.

The views answer with monitor/serialize.py's dicts; these schemas only document them.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from marshmallow import Schema, fields

from shared.impact.table import IMPACT_COLUMNS


class PartitionOffsets(Schema):
    partition = fields.Integer()
    start_offset = fields.Integer()
    end_offset = fields.Integer()


class TopicOut(Schema):
    name = fields.String()
    dead_letter = fields.Boolean(metadata={"description": "a `.dlq` topic"})
    partitions = fields.List(fields.Nested(PartitionOffsets))
    messages = fields.Integer()
    messages_per_minute = fields.Float(allow_none=True)


class TopicsOut(Schema):
    topics = fields.List(fields.Nested(TopicOut))


class GroupMemberOut(Schema):
    member_id = fields.String()
    client_id = fields.String()
    host = fields.String()
    assignment = fields.List(
        fields.List(fields.Raw()), metadata={"description": "[topic, partition] pairs"}
    )


class PartitionLagOut(Schema):
    topic = fields.String()
    partition = fields.Integer()
    committed = fields.Integer(allow_none=True)
    end = fields.Integer()
    lag = fields.Integer()
    member = fields.String(allow_none=True)


class PaceOut(Schema):
    verdict = fields.String(
        metadata={
            "description": "keeping-up, idle (no consumer, nothing waiting), catching-up, "
            "behind (not catching up), stalled, stopped (no consumer, messages waiting), "
            "measuring"
        }
    )
    lag = fields.Integer()
    reads_per_s = fields.Float(allow_none=True)
    arrives_per_s = fields.Float(allow_none=True)
    catch_up_s = fields.Float(allow_none=True, metadata={"description": "estimated"})
    still_for_s = fields.Float(allow_none=True, metadata={"description": "without progress"})


class GroupOut(Schema):
    group_id = fields.String()
    state = fields.String()
    members = fields.List(fields.Nested(GroupMemberOut))
    total_lag = fields.Integer()
    lag_trend = fields.String(metadata={"description": "rising, falling or steady"})
    lag_history = fields.List(fields.Integer())
    partitions = fields.List(fields.Nested(PartitionLagOut))
    pace = fields.Nested(PaceOut)


class GroupsOut(Schema):
    groups = fields.List(fields.Nested(GroupOut))


class ServiceOut(Schema):
    name = fields.String()
    url = fields.String()
    status = fields.String(metadata={"description": "up, failing, down or unknown"})
    last_seen = fields.String(allow_none=True)
    last_checked = fields.String(allow_none=True)
    detail = fields.Raw(allow_none=True)


class ServicesOut(Schema):
    services = fields.List(fields.Nested(ServiceOut))


class SourceOut(Schema):
    topic = fields.String()
    partition = fields.Integer()
    offset = fields.Integer()


class OrganisationRef(Schema):
    id = fields.String()
    name = fields.String(metadata={"description": "'' while the monitor has not heard of it"})


class DeadLetterOut(Schema):
    id = fields.String(metadata={"description": "`<dlq topic>:<partition>:<offset>`"})
    dlq_topic = fields.String()
    partition = fields.Integer()
    offset = fields.Integer()
    key = fields.String(allow_none=True)
    error = fields.String()
    attempts = fields.Integer(allow_none=True)
    consumer = fields.String()
    source = fields.Nested(SourceOut, allow_none=True)
    replay_of = fields.String(allow_none=True)
    failed_at = fields.String()
    event_type = fields.String(allow_none=True)
    replayable = fields.Boolean(
        metadata={"description": "it names the position it came from, so it can be replayed"}
    )
    organisations = fields.List(
        fields.Nested(OrganisationRef), metadata={"description": "whom the message concerns"}
    )
    channel = fields.String(
        allow_none=True, metadata={"description": "a given-up delivery's channel: email, webhook"}
    )
    target = fields.String(
        allow_none=True,
        metadata={"description": "where the delivery pointed: a webhook's host, a masked e-mail"},
    )
    delivery = fields.Boolean(metadata={"description": "a delivery the notifier gave up"})


class DeadLettersOut(Schema):
    dead_letters = fields.List(fields.Nested(DeadLetterOut))


class DeadLetterFullOut(DeadLetterOut):
    value = fields.String(allow_none=True, metadata={"description": "the raw value as text"})
    envelope = fields.Dict(allow_none=True, metadata={"description": "the value as JSON"})
    headers = fields.Dict(keys=fields.String(), values=fields.String())
    replayed = fields.Boolean()


class ReplayedOut(Schema):
    dead_letter_id = fields.String()
    topic = fields.String()
    partition = fields.Integer()
    offset = fields.Integer()


class ReplayOneOut(Schema):
    replayed = fields.List(fields.Nested(ReplayedOut))


class ReplayRowOut(Schema):
    dead_letter_id = fields.String()
    target = fields.Nested(SourceOut)
    by = fields.String()
    at = fields.String()
    consumer = fields.String()
    status = fields.String(metadata={"description": "pending, handled or dead-lettered again"})
    new_dead_letter_id = fields.String(allow_none=True)


class ReplaysOut(Schema):
    replays = fields.List(fields.Nested(ReplayRowOut))


class DayCount(Schema):
    day = fields.Date()
    count = fields.Integer()


class ActivityOut(Schema):
    listings = fields.List(fields.Nested(DayCount), metadata={"description": "published"})
    matches = fields.List(fields.Nested(DayCount), metadata={"description": "found"})
    alerts = fields.List(fields.Nested(DayCount), metadata={"description": "sent"})
    totals = fields.Dict(keys=fields.String(), values=fields.Integer())


class ImpactRowOut(Schema):
    material = fields.String()
    transfers = fields.Integer()
    tonnes = fields.Float()
    co2e_avoided_kg = fields.Float()
    net_co2e_avoided_kg = fields.Float()
    emission_factor_kg_per_t = fields.Float(allow_none=True)
    factor_source = fields.String()
    distance_km = fields.Float()
    tonne_km = fields.Float()
    long_chain_tonne_km = fields.Float()
    transport_co2e_avoided_kg = fields.Float()
    unconverted_quantities = fields.String()


class ImpactOut(Schema):
    rows = fields.List(fields.Nested(ImpactRowOut))
    total = fields.Nested(ImpactRowOut)
    assumptions = fields.Dict()


DEAD_LETTER: dict[str, Any] = {
    "id": "matches.dlq:0:12",
    "dlq_topic": "matches.dlq",
    "partition": 0,
    "offset": 12,
    "key": "0b7c2c4e-5d8e-4f7a-9a43-2f1e6b0c9d11",
    "error": "KeyError: 'listing_id'",
    "attempts": 3,
    "consumer": "notifier",
    "source": {"topic": "matches", "partition": 0, "offset": 4711},
    "replay_of": None,
    "failed_at": "2025-01-31T09:30:00+00:00",
    "event_type": "boucle.match.found",
    "replayable": True,
    "organisations": [
        {"id": "3f2b8f0e-1c1d-4a57-9d0e-7b1f0c2a9e01", "name": "Ferme du Kiem"},
        {"id": "a81c5f7d-22b4-4f0e-8c7a-5d9e3b6f1a42", "name": "Cantine solidaire"},
    ],
    "channel": None,
    "target": None,
    "delivery": False,
}
EXAMPLES: dict[str, Any] = {
    "topics": {
        "topics": [
            {
                "name": "matches",
                "dead_letter": False,
                "partitions": [{"partition": 0, "start_offset": 0, "end_offset": 4712}],
                "messages": 4712,
                "messages_per_minute": 3.4,
            }
        ]
    },
    "groups": {
        "groups": [
            {
                "group_id": "notifier",
                "state": "Stable",
                "members": [
                    {
                        "member_id": "notifier-1-4f1c",
                        "client_id": "notifier-1",
                        "host": "/10.0.0.7",
                        "assignment": [["matches", 0]],
                    }
                ],
                "total_lag": 2,
                "lag_trend": "steady",
                "lag_history": [0, 1, 2],
                "pace": {
                    "verdict": "keeping-up",
                    "lag": 2,
                    "reads_per_s": 3.4,
                    "arrives_per_s": None,
                    "catch_up_s": None,
                    "still_for_s": None,
                },
                "partitions": [
                    {
                        "topic": "matches",
                        "partition": 0,
                        "committed": 4710,
                        "end": 4712,
                        "lag": 2,
                        "member": "notifier-1-4f1c",
                    }
                ],
            }
        ]
    },
    "services": {
        "services": [
            {
                "name": "matcher",
                "url": "http://127.0.0.1:8003/health",
                "status": "up",
                "last_seen": "2025-01-31T09:30:00+00:00",
                "last_checked": "2025-01-31T09:30:00+00:00",
                "detail": {"status": "ok"},
            }
        ]
    },
    "dead_letters": {"dead_letters": [DEAD_LETTER]},
    "dead_letter": {
        **DEAD_LETTER,
        "value": '{"type": "boucle.match.found"}',
        "envelope": {"type": "boucle.match.found"},
        "headers": {"dlq.error": "KeyError: 'listing_id'", "dlq.consumer": "notifier"},
        "replayed": False,
    },
    "replayed": {
        "replayed": [
            {
                "dead_letter_id": "matches.dlq:0:12",
                "topic": "matches",
                "partition": 0,
                "offset": 4790,
            }
        ]
    },
    "replays": {
        "replays": [
            {
                "dead_letter_id": "matches.dlq:0:12",
                "target": {"topic": "matches", "partition": 0, "offset": 4790},
                "by": "admin-1",
                "at": "2025-01-31T09:35:00+00:00",
                "consumer": "notifier",
                "status": "handled",
                "new_dead_letter_id": None,
            }
        ]
    },
    "activity": {
        "listings": [{"day": "2025-01-30", "count": 12}, {"day": "2025-01-31", "count": 9}],
        "matches": [{"day": "2025-01-30", "count": 30}, {"day": "2025-01-31", "count": 21}],
        "alerts": [{"day": "2025-01-30", "count": 41}, {"day": "2025-01-31", "count": 28}],
        "totals": {
            "listings": 21,
            "published": 15,
            "closed": 4,
            "matches": 51,
            "alerts": 69,
            "failed_alerts": 0,
            "organisations": 8,
        },
    },
}
IMPACT_ROW: dict[str, Any] = {
    "material": "Wood",
    "transfers": 3,
    "tonnes": 1.2,
    "co2e_avoided_kg": 780.0,
    "net_co2e_avoided_kg": 771.4,
    "emission_factor_kg_per_t": 650.0,
    "factor_source": "ADEME Base Empreinte",
    "distance_km": 58.2,
    "tonne_km": 34.9,
    "long_chain_tonne_km": 240.0,
    "transport_co2e_avoided_kg": 20.9,
    "unconverted_quantities": "",
}
EXAMPLES["impact"] = {
    "rows": [IMPACT_ROW],
    "total": {**IMPACT_ROW, "material": "Total", "factor_source": ""},
    "assumptions": {
        "long_chain_km": 200.0,
        "road_freight_kg_co2e_per_tonne_km": 0.087,
        "definition": "an exchange both organisations confirmed as handed over",
    },
}


def _csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=IMPACT_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


IMPACT_CSV = _csv([IMPACT_ROW, EXAMPLES["impact"]["total"]])
