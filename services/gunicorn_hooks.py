"""gunicorn server hooks of every Boucle web process (`--config python:services.gunicorn_hooks`)."""

from __future__ import annotations

from typing import Any

from shared.heap import freeze_start_up_heap


def post_worker_init(worker: Any) -> None:
    """Once a worker has built its app: keep the collector's full passes off its requests."""
    freeze_start_up_heap()
