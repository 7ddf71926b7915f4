"""The live tail: the last messages of every watched topic, and a wait for the next ones."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.domain.records import RawRecord, redacted, redacted_text


@dataclass(frozen=True)
class TailItem:
    """One message as the tail shows it: where it is, its envelope and its payload."""

    seq: int
    record: RawRecord
    envelope: dict[str, Any] | None

    @property
    def event_type(self) -> str:
        """The CloudEvents type, or '' for a message that is not an event."""
        return str((self.envelope or {}).get("type", ""))

    @property
    def organisations(self) -> set[str]:
        """Organisations the event is about (owner of a listing, both sides of a match...)."""
        data = (self.envelope or {}).get("data")
        if not isinstance(data, dict):
            return set()
        found = {data.get("organisation_id")}
        for side in ("offer", "need"):
            if isinstance(data.get(side), dict):
                found.add(data[side].get("organisation_id"))
        if str(self.event_type).startswith("boucle.organisation."):
            found.add(data.get("id"))
        return {str(o) for o in found if o}

    def as_dict(self) -> dict[str, Any]:
        """The JSON the page and the stream receive."""
        shown = redacted(self.envelope)
        envelope = dict(shown) if shown else None
        payload = envelope.pop("data", None) if envelope else None
        return {
            "seq": self.seq,
            "topic": self.record.topic,
            "partition": self.record.partition,
            "offset": self.record.offset,
            "key": self.record.key_text,
            "timestamp": self.record.timestamp.isoformat(),
            "type": self.event_type,
            "id": (self.envelope or {}).get("id", ""),
            "envelope": envelope,
            "payload": payload if envelope else redacted_text(self.record.value_text(2000)),
            "error": self.record.header("dlq.error"),
        }


#: The organisation filter may hold several ids, comma-separated: organisations that share
#: a name (each admin account has its own "Boucle administrators") are one choice.
ORGANISATION_FILTER_MAX = 2000


def organisation_choices(names: Mapping[str, str]) -> list[tuple[str, str]]:
    """(filter value, name) once per name, by name; an unnamed organisation by its id."""
    ids_by_name: dict[str, list[str]] = {}
    shown: dict[str, str] = {}
    for oid, name in names.items():
        label = " ".join(name.split()) or oid
        key = label.casefold()
        ids_by_name.setdefault(key, []).append(oid)
        shown.setdefault(key, label)
    return sorted(
        ((",".join(sorted(ids)), shown[key]) for key, ids in ids_by_name.items()),
        key=lambda choice: (choice[1].casefold(), choice[0]),
    )


@dataclass(frozen=True)
class TailFilter:
    """What an admin asked to see; empty fields match everything."""

    topic: str = ""
    event_type: str = ""
    organisation: str = ""

    def accepts(self, item: TailItem) -> bool:
        """True if the item passes every non-empty criterion."""
        if self.topic and item.record.topic != self.topic:
            return False
        if self.event_type and not item.event_type.startswith(self.event_type):
            return False
        wanted = {o.strip() for o in self.organisation.split(",") if o.strip()}
        return not wanted or bool(wanted & item.organisations)


class TailHub:
    """A bounded buffer of recent messages that readers wait on (one writer thread)."""

    def __init__(self, capacity: int = 500) -> None:
        self._items: deque[TailItem] = deque(maxlen=capacity)
        self._changed = threading.Condition()
        self._seq = 0

    @property
    def last_seq(self) -> int:
        """Sequence number of the newest message (0 before any)."""
        return self._seq

    def publish(self, record: RawRecord) -> TailItem:
        """Add a message and wake every waiting reader."""
        with self._changed:
            self._seq += 1
            item = TailItem(self._seq, record, record.document())
            self._items.append(item)
            self._changed.notify_all()
        return item

    def recent(self, wanted: TailFilter, limit: int = 50) -> list[TailItem]:
        """The newest `limit` messages that pass the filter, newest first."""
        with self._changed:
            items = list(self._items)
        return [item for item in reversed(items) if wanted.accepts(item)][:limit]

    def after(self, seq: int, wanted: TailFilter, timeout_s: float) -> tuple[int, list[TailItem]]:
        """The newest seq, and the messages after `seq` that pass the filter (waits for one)."""
        with self._changed:
            self._changed.wait_for(lambda: self._seq > seq, timeout=timeout_s)
            newest = self._seq
            items = [item for item in self._items if item.seq > seq]
        return newest, [item for item in items if wanted.accepts(item)]

    def seq_before(self, moment: datetime) -> int:
        """The seq after which the messages written at or after `moment` start.

        A page rendered at `moment` asks its feed for what came later; the few messages
        written while the page travelled come again, and the page drops the doubles.
        """
        with self._changed:
            for item in self._items:
                if item.record.timestamp >= moment:
                    return item.seq - 1
            return self._seq
