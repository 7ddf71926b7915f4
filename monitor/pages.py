"""The monitor's pages: overview, live tail (with its event stream), dead letters."""

from __future__ import annotations

import time
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext

from monitor import serialize
from monitor.access import admin_page, current_admin
from monitor.api import monitor
from monitor.domain.charts import sparkline
from monitor.domain.tail import ORGANISATION_FILTER_MAX, TailFilter, organisation_choices
from monitor.errors import BrokerUnavailable, ReplayError
from monitor.plain_words import pace_sentence, topic_hint

bp = Blueprint("monitor", __name__, url_prefix="/monitor", template_folder="templates")


@bp.get("")
@admin_page
def overview() -> Any:
    """Topics, consumer groups with lag, services, open dead letters."""
    service = monitor()
    error, topics, groups = None, [], []
    try:
        topics = service.topics()
        groups = service.groups(topics)
    except BrokerUnavailable as exc:
        error = str(exc)
    return render_template(
        "monitor/overview.html",
        error=error,
        topics=topics,
        groups=groups,
        paces={g: (p.verdict, pace_sentence(p)) for g, p in service.paces(groups).items()},
        topic_hint=lambda name: topic_hint(name, service.topic_prefix),
        services=service.services(),
        dead_letter_counts=service.dead_letters.counts(),
        totals=service.activity.totals(),
        sparkline=sparkline,
    )


def _tail_filter() -> TailFilter:
    return TailFilter(
        topic=request.args.get("topic", "").strip()[:249],
        event_type=request.args.get("type", "").strip()[:200],
        organisation=request.args.get("organisation", "").strip()[:ORGANISATION_FILTER_MAX],
    )


@bp.get("/tail")
@admin_page
def tail() -> Any:
    """The last events (server-rendered), then new ones live when JavaScript runs."""
    service = monitor()
    wanted = _tail_filter()
    items = [item.as_dict() for item in service.tail.recent(wanted, limit=50)]
    return render_template(
        "monitor/tail.html",
        wanted=wanted,
        items=items,
        # The live feed (feeds process) sends what came after this moment.
        rendered_ms=int(time.time() * 1000),
        topics=sorted({i["topic"] for i in items} | _watched_topics()),
        organisations=organisation_choices(service.activity.organisation_names()),
    )


def _watched_topics() -> set[str]:
    return set(monitor().watched_topics)


@bp.get("/dead-letters")
@admin_page
def dead_letters() -> Any:
    """Open dead letters per topic, with replay buttons; recent replays and their outcome."""
    service = monitor()
    topic = request.args.get("topic") or None
    error, replays = None, []
    try:
        replays = service.replay_rows()
    except BrokerUnavailable as exc:
        error = str(exc)
    names = service.activity.organisation_names()
    letters = service.dead_letters.open_letters(topic)
    return render_template(
        "monitor/dead_letters.html",
        letters=[serialize.dead_letter_dict(d, names=names) for d in letters],
        counts=service.dead_letters.counts(),
        topic=topic,
        replays=[serialize.replay_dict(r) for r in replays],
        error=error,
    )


@bp.get("/dead-letters/<string:topic>/<int:partition>/<int:offset>")
@admin_page
def dead_letter(topic: str, partition: int, offset: int) -> Any:
    """One dead letter: the error, the consumer, the attempts, the raw message."""
    service = monitor()
    letter = service.dead_letters.get(f"{topic}:{partition}:{offset}")
    if letter is None:
        abort(404)
    return render_template(
        "monitor/dead_letter.html",
        letter=serialize.dead_letter_dict(
            letter, full=True, names=service.activity.organisation_names()
        ),
        replay=service.dead_letters.replay_of(letter.id),
    )


@bp.post("/dead-letters/<string:topic>/<int:partition>/<int:offset>/replay")
@admin_page
def replay_one(topic: str, partition: int, offset: int) -> Any:
    """Replay one dead letter, then show the list."""
    letter_id = f"{topic}:{partition}:{offset}"
    return _replay(lambda by: [monitor().replay(letter_id, by)])


@bp.post("/dead-letters/replay-all")
@admin_page
def replay_all() -> Any:
    """Replay every open dead letter (of the chosen topic)."""
    topic = request.form.get("topic") or None
    return _replay(lambda by: monitor().replay_all(by, topic))


def _replay(action: Any) -> Any:
    try:
        done = action(current_admin() or "")
        flash(gettext("%(count)d message(s) replayed.", count=len(done)))
    except (ReplayError, BrokerUnavailable) as exc:
        flash(gettext("Replay refused: %(reason)s", reason=str(exc)), "error")
    return redirect(url_for("monitor.dead_letters"))
