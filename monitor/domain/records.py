"""A Kafka message as plain data, so the monitor's rules never see kafka-python's types."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class RawRecord:
    """One message: where it sits, its key, value and headers, and the broker's timestamp."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()
    timestamp_ms: int = 0

    def header(self, name: str) -> str | None:
        """The last header of that name, decoded, or None."""
        found = None
        for key, value in self.headers:
            if key == name:
                found = value.decode("utf-8", errors="replace") if value is not None else ""
        return found

    @property
    def timestamp(self) -> datetime:
        """When the broker (or producer) stamped the message, in UTC."""
        return datetime.fromtimestamp(self.timestamp_ms / 1000, UTC)

    @property
    def key_text(self) -> str:
        """The key as text, for display."""
        return self.key.decode("utf-8", errors="replace") if self.key is not None else ""

    def document(self) -> dict[str, Any] | None:
        """The value parsed as a JSON object (a CloudEvents envelope), or None."""
        if self.value is None:
            return None
        try:
            parsed = json.loads(self.value)
        except (UnicodeDecodeError, ValueError):
            return None
        return parsed if isinstance(parsed, dict) else None

    def value_text(self, limit: int = 20_000) -> str:
        """The value as text (cut at `limit` characters), for display."""
        if self.value is None:
            return ""
        return self.value[:limit].decode("utf-8", errors="replace")


#: Fields no admin view shows in clear: an account e-mail's `link` is a signed, single-use
#: key to a member's account (confirm an address, set a password, join an organisation).
SECRET_FIELDS = ("link",)
REDACTED = "[redacted]"
_SECRET_TEXT = re.compile(r'("(?:link)"\s*:\s*")(?:[^"\\]|\\.)*(")')  # SECRET_FIELDS


def redacted(document: dict[str, Any] | None) -> dict[str, Any] | None:
    """The envelope as admins may see it: secret fields of its data replaced."""
    data = (document or {}).get("data")
    if document is None or not isinstance(data, dict) or not set(SECRET_FIELDS) & set(data):
        return document
    hidden = {k: REDACTED if k in SECRET_FIELDS else v for k, v in data.items()}
    return {**document, "data": hidden}


def redacted_text(text: str) -> str:
    """A raw value as admins may see it (also when it is not valid JSON)."""
    return _SECRET_TEXT.sub(rf"\g<1>{REDACTED}\g<2>", text)


def coordinates(topic: str, partition: int, offset: int) -> str:
    """A message's address as one string: `topic:partition:offset`."""
    return f"{topic}:{partition}:{offset}"


def parse_coordinates(text: str | None) -> tuple[str, int, int] | None:
    """The inverse of `coordinates` (topic names may contain ':'), or None if malformed."""
    if not text:
        return None
    topic, _, rest = text.rpartition(":")
    topic, _, partition = topic.rpartition(":")
    if not topic or not partition.isdigit() or not rest.isdigit():
        return None
    return topic, int(partition), int(rest)
