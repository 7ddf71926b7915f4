"""Structured JSON logs: one object per line, with the event id on lines about an event."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object; `extra={"event_id": ...}` lands as a field."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        event_id = getattr(record, "event_id", None)
        if event_id:
            entry["event_id"] = event_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(service: str) -> None:
    """JSON logs to stderr at LOG_LEVEL (INFO by default); quiet kafka-python's chatter."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())
    logging.getLogger("kafka").setLevel(logging.WARNING)
    # The /health endpoints are polled every few seconds; their access lines are noise.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger(__name__).debug("logging configured for %s", service)
