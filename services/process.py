"""Running a worker loop until SIGTERM or SIGINT, then letting it finish cleanly."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType


def run_until_signalled(loop: Callable[[threading.Event], None]) -> None:
    """Call `loop(stop)` and set `stop` when the process is asked to terminate."""
    stop = threading.Event()

    def _request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _request_stop)
    signal.signal(signal.SIGINT, _request_stop)
    loop(stop)
