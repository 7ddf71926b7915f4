"""The monitor's figures as JSON for admins and scripts, under /api/v1/monitor."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Response, abort, current_app
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from monitor import api_schemas as doc
from monitor import serialize
from monitor.access import current_admin, refuse_non_admin
from monitor.errors import ReplayError
from monitor.service import MonitorService
from shared.impact.table import impact_csv
from shared.openapi import ApiBlueprint

blp = ApiBlueprint("monitor_api", __name__, url_prefix="/api/v1/monitor", description="Monitor")
blp.before_request(refuse_non_admin)  # every route of the API is for admins only
SERVICE_KEY = "boucle.monitor"


def monitor() -> MonitorService:
    """The wired MonitorService of this app."""
    service: MonitorService = current_app.extensions[SERVICE_KEY]
    return service


class DeadLetterQuery(Schema):
    topic = fields.String(load_default=None, validate=validate.Length(min=1, max=249))


class ReplayAllRequest(Schema):
    topic = fields.String(load_default=None, validate=validate.Length(min=1, max=249))


class ActivityQuery(Schema):
    days = fields.Integer(load_default=30, validate=validate.Range(min=1, max=366))


def _answers(schema: type, example: str, status: int = 200) -> Any:
    # Documents the answer only: the views build it with monitor/serialize.py.
    return blp.alt_response(
        status,
        schema=schema,
        example=doc.EXAMPLES[example],
        description="OK" if status == 200 else "Accepted",
        success=True,
    )


@blp.route("/topics")
class Topics(MethodView):
    @blp.admin(503)
    @_answers(doc.TopicsOut, "topics")
    def get(self) -> Any:
        """Every topic: partitions, offsets, messages per minute."""
        return {"topics": [serialize.topic_dict(t) for t in monitor().topics()]}


@blp.route("/groups")
class Groups(MethodView):
    @blp.admin(503)
    @_answers(doc.GroupsOut, "groups")
    def get(self) -> Any:
        """Every consumer group: state, members, lag per partition, its trend and its pace."""
        service = monitor()
        groups = service.groups()
        paces = service.paces(groups)
        return {"groups": [serialize.group_dict(g, paces[g.group_id]) for g in groups]}


@blp.route("/services")
class Services(MethodView):
    @blp.admin()
    @_answers(doc.ServicesOut, "services")
    def get(self) -> Any:
        """Each service's health, as last polled."""
        return {"services": [serialize.service_dict(s) for s in monitor().services()]}


@blp.route("/dead-letters")
class DeadLetters(MethodView):
    @blp.admin()
    @blp.arguments(DeadLetterQuery, location="query")
    @_answers(doc.DeadLettersOut, "dead_letters")
    def get(self, query: dict[str, Any]) -> Any:
        """Open dead letters (not replayed), newest first."""
        service = monitor()
        letters = service.dead_letters.open_letters(query["topic"])
        names = service.activity.organisation_names()
        return {"dead_letters": [serialize.dead_letter_dict(d, names=names) for d in letters]}


@blp.route("/dead-letters/<string:topic>/<int:partition>/<int:offset>")
class DeadLetter(MethodView):
    @blp.admin(404)
    @_answers(doc.DeadLetterFullOut, "dead_letter")
    def get(self, topic: str, partition: int, offset: int) -> Any:
        """One dead letter with its raw value, envelope and headers."""
        service = monitor()
        letter = service.dead_letters.get(f"{topic}:{partition}:{offset}")
        if letter is None:
            abort(404, "no such dead letter")
        body = serialize.dead_letter_dict(
            letter, full=True, names=service.activity.organisation_names()
        )
        replay = service.dead_letters.replay_of(letter.id)
        body["replayed"] = replay is not None
        return body


@blp.route("/dead-letters/<string:topic>/<int:partition>/<int:offset>/replay")
class ReplayOne(MethodView):
    @blp.admin(400, 404, 409, 503)
    @_answers(doc.ReplayOneOut, "replayed", status=202)
    def post(self, topic: str, partition: int, offset: int) -> Any:
        """Re-publish one dead letter to its source topic."""
        replay = _replay(lambda s, by: [s.replay(f"{topic}:{partition}:{offset}", by)])
        return {"replayed": replay}, 202


@blp.route("/dead-letters/replay")
class ReplayAll(MethodView):
    @blp.admin(404, 409, 503)
    @blp.arguments(ReplayAllRequest, example={"topic": "matches.dlq"})
    @_answers(doc.ReplayOneOut, "replayed", status=202)
    def post(self, body: dict[str, Any]) -> Any:
        """Re-publish every open dead letter (of one `.dlq` topic, or all)."""
        replays = _replay(lambda s, by: s.replay_all(by, body["topic"]))
        return {"replayed": replays}, 202


def _replay(action: Any) -> list[dict[str, Any]]:
    try:
        replays = action(monitor(), current_admin() or "")
    except ReplayError as exc:
        status = 404 if "no dead letter" in str(exc) else 409
        abort(status, str(exc))
    return [
        {
            "dead_letter_id": r.dead_letter_id,
            "topic": r.topic,
            "partition": r.partition,
            "offset": r.offset,
        }
        for r in replays
    ]


@blp.route("/replays")
class Replays(MethodView):
    @blp.admin(503)
    @_answers(doc.ReplaysOut, "replays")
    def get(self) -> Any:
        """Recent replays: pending, handled, or dead-lettered again."""
        return {"replays": [serialize.replay_dict(r) for r in monitor().replay_rows()]}


@blp.route("/activity")
class Activity(MethodView):
    @blp.admin()
    @blp.arguments(ActivityQuery, location="query")
    @_answers(doc.ActivityOut, "activity")
    def get(self, query: dict[str, Any]) -> Any:
        """Listings published, matches found and alerts sent per day."""
        service = monitor()
        series = service.activity.series(datetime.now(UTC).date(), query["days"])
        return serialize.activity_dict(series) | {"totals": service.activity.totals()}


@blp.route("/impact")
class Impact(MethodView):
    @blp.admin()
    @_answers(doc.ImpactOut, "impact")
    def get(self) -> Any:
        """Quantities moved, CO2e avoided and distances, by material class."""
        service = monitor()
        rows, total = service.impact()
        return serialize.impact_dict(rows, total, service.long_chain_km)


@blp.route("/impact.csv")
class ImpactCsv(MethodView):
    @blp.admin()
    @blp.alt_response(
        200,
        schema={"type": "string"},
        content_type="text/csv",
        example=doc.IMPACT_CSV,
        description="The impact summary, one row per material class and a total",
        success=True,
    )
    def get(self) -> Any:
        """The impact summary as CSV."""
        return csv_response(monitor())


def csv_response(service: MonitorService) -> Response:
    """The impact CSV as a download."""
    rows, total = service.impact()
    return Response(
        impact_csv(rows, total),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="boucle-impact.csv"'},
    )
