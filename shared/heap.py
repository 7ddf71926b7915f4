"""Keep the garbage collector's full passes off the request path of long-running processes."""

from __future__ import annotations

import gc


def freeze_start_up_heap() -> None:
    """Put every object made while starting (modules, the app, catalogues) out of the
    collector's sight for good.

    A web worker holds ~200,000 such objects, and a full collection walks all of them:
    113 ms measured for the listings app, a pause of every thread of the worker, due
    whenever long-lived objects have grown by a quarter. Frozen, they are never walked
    (a full pass then takes microseconds); objects made later are collected as before.
    """
    gc.collect()
    gc.freeze()
