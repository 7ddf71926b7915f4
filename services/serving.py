"""Run a web process's Flask app under gunicorn from its console script (`boucle-*-web`).

The same server `make run` starts with `python -m gunicorn`, without a command line to get
right in every deployment: gthread workers, so a slow or long response holds one thread and
not a whole worker. BIND sets the address (default loopback, the port `make run` uses);
GUNICORN_CMD_ARGS and WEB_CONCURRENCY tune the rest, as with any gunicorn.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication

from services.gunicorn_hooks import post_worker_init


class _FactoryApplication(BaseApplication):
    """gunicorn running the app `factory` builds, in each worker after it forks."""

    def __init__(
        self,
        factory: Callable[[], Any],
        options: dict[str, Any],
        forced: dict[str, Any],
    ) -> None:
        self._factory = factory
        self._options = options
        self._forced = forced
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)
        # gunicorn >= 25 opens a control socket at one path per user ($HOME/.gunicorn): the
        # several Boucle servers of one host or user would take it from each other.
        if "control_socket_disable" in self.cfg.settings:
            self.cfg.set("control_socket_disable", True)
        # The operator's GUNICORN_CMD_ARGS win over our defaults, as with the gunicorn command.
        from_env = self.cfg.parser().parse_args(self.cfg.get_cmd_args_from_env())
        for key, value in vars(from_env).items():
            if value is not None and key != "args":
                self.cfg.set(key.lower(), value)
        for key, value in self._forced.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self._factory()


def gunicorn_options(name: str, default_port: int, threads: int) -> dict[str, Any]:
    """The defaults of every Boucle web process (before GUNICORN_CMD_ARGS)."""
    return {
        "bind": [os.environ.get("BIND") or f"127.0.0.1:{default_port}"],
        "worker_class": "gthread",
        "threads": threads,
        "timeout": 120,
        # Open live feeds must not hold a shutdown for gunicorn's default 30 s.
        "graceful_timeout": 5,
        "proc_name": f"boucle-{name}",
        "post_worker_init": post_worker_init,
    }


def serve(
    name: str,
    factory: Callable[[], Any],
    default_port: int,
    threads: int = 8,
    single_worker: bool = False,
) -> None:
    """Serve `factory()`'s app until gunicorn is stopped (SIGTERM/SIGINT); exits on failure.

    `single_worker`: the process keeps state in memory, so exactly one worker, whatever
    WEB_CONCURRENCY or GUNICORN_CMD_ARGS say.
    """
    forced = {"workers": 1} if single_worker else {}
    _FactoryApplication(factory, gunicorn_options(name, default_port, threads), forced).run()
