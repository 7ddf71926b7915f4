"""Run a real throwaway PostgreSQL server on 127.0.0.1 from the installed server binaries."""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

logger = logging.getLogger(__name__)

SUPERUSER = "postgres"
DATABASE = "boucle"
_LIVE: set[LocalPostgres] = set()


def _bin(name: str) -> str:
    """Locate a server binary via $PG_BIN, the newest /usr/lib/postgresql/*/bin, or PATH."""
    if os.environ.get("PG_BIN"):
        return str(Path(os.environ["PG_BIN"]) / name)
    # Debian keeps initdb/pg_ctl out of PATH, in one directory per major version.
    versions = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if p.parent.name.isdigit()]
    if versions:
        return str(max(versions, key=lambda p: int(p.parent.name)) / name)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"PostgreSQL's {name} not found; install the server or set PG_BIN")
    return found


def _free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int = 40) -> str:
    """Return the last lines of a log file (empty if it does not exist)."""
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


class LocalPostgres:
    """A PostgreSQL server in a private data directory, trusting loopback connections."""

    def __init__(self, port: int | None = None, data_dir: Path | None = None) -> None:
        self.port = port or _free_port()
        self._owns_dir = data_dir is None
        self.data_dir = Path(data_dir).resolve() if data_dir is not None else None
        self._running = False

    @property
    def url(self) -> str:
        """Return the SQLAlchemy URL of the `boucle` database."""
        return self.url_for(DATABASE)

    def url_for(self, dbname: str) -> str:
        """Return the SQLAlchemy URL of another database on this server."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def _run(self, *cmd: str) -> None:
        """Run a server tool as the postgres user when we are root, raising with its output."""
        # The server refuses to run as root, and so does initdb.
        full = ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else list(cmd)
        # Own session: a Ctrl-C aimed at us must not reach the postmaster before stop() runs.
        res = subprocess.run(
            full, capture_output=True, text=True, check=False, start_new_session=True
        )
        if res.returncode != 0:
            log = "" if self.data_dir is None else _tail(self.data_dir / "postgres.log")
            raise RuntimeError(
                f"{' '.join(cmd)} failed with exit code {res.returncode}:\n"
                f"{res.stdout}{res.stderr}\nlast lines of the server log:\n{log}"
            )

    def start(self, timeout: float = 30) -> LocalPostgres:
        """Create the cluster if needed, start the server and create the `boucle` database."""
        if self._running:
            return self
        try:
            return self._start(time.monotonic(), timeout)
        except BaseException:
            self.stop()  # also removes a temporary data directory; the error carries the log
            raise

    def _start(self, t0: float, timeout: float) -> LocalPostgres:
        """Do the work of start(); the caller cleans up on failure."""
        if self.data_dir is None:
            self.data_dir = Path(tempfile.mkdtemp(prefix="boucle-pg-"))
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            # mkdtemp makes a root-only 0700 directory the postgres user could not enter.
            self.data_dir.chmod(0o755)
            shutil.chown(self.data_dir, "postgres", "postgres")
        pgdata = self.data_dir / "pgdata"
        if not (pgdata / "PG_VERSION").exists():
            self._run(
                _bin("initdb"),
                "-D",
                str(pgdata),
                "-U",
                SUPERUSER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            )
            with (pgdata / "postgresql.conf").open("a") as conf:
                conf.write("include 'boucle.conf'\n")
        # Rewritten on every start so a reused data directory picks up a new port.
        (pgdata / "boucle.conf").write_text(
            f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{pgdata}'\n"
            # Durability is pointless for throwaway test data; speed is not.
            "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
        )
        self._run(
            _bin("pg_ctl"),
            "-D",
            str(pgdata),
            "-l",
            str(self.data_dir / "postgres.log"),
            "-w",
            "-t",
            str(int(timeout)),
            "-s",
            "start",
        )
        self._running = True
        _LIVE.add(self)
        self._create(DATABASE, exist_ok=True)
        logger.info("PostgreSQL ready on port %s in %.1fs", self.port, time.monotonic() - t0)
        return self

    def _create(self, name: str, exist_ok: bool = False) -> None:
        """Create a database through the `postgres` maintenance database."""
        import psycopg  # imported late so `--help` works without the driver
        from psycopg import sql

        conninfo = f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname=postgres"
        with psycopg.connect(conninfo, autocommit=True) as conn:
            query = "SELECT 1 FROM pg_database WHERE datname = %s"
            if exist_ok and conn.execute(query, (name,)).fetchone():
                return
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def create_database(self, name: str) -> str:
        """Create an empty database (for tests wanting isolation) and return its URL."""
        self._create(name)
        return self.url_for(name)

    def stop(self) -> None:
        """Stop the server (fast mode); remove the data directory if it was a temporary one."""
        pgdata = str(self.data_dir / "pgdata") if self.data_dir is not None else ""
        # The pid file, not _running: a start that timed out may have left a live server.
        if pgdata and Path(pgdata, "postmaster.pid").exists():
            logger.info("Stopping PostgreSQL on port %s", self.port)
            try:
                self._run(_bin("pg_ctl"), "-D", pgdata, "-m", "fast", "-w", "-s", "stop")
            except RuntimeError:
                logger.warning("fast shutdown failed; using immediate mode", exc_info=True)
                self._run(_bin("pg_ctl"), "-D", pgdata, "-m", "immediate", "-w", "-s", "stop")
        self._running = False
        _LIVE.discard(self)
        if self._owns_dir and self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.data_dir = None

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@atexit.register
def _stop_all() -> None:
    """Stop servers a normally exiting interpreter would otherwise leave running."""
    for server in list(_LIVE):
        server.stop()


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Command line entry point: serve."""
    parser = argparse.ArgumentParser(
        prog="python -m services.devtools.postgres", description=__doc__
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run a server in the foreground until Ctrl-C")
    serve.add_argument("--port", type=int, help="default: a free port")
    serve.add_argument("--data-dir", type=Path, help="keep data here (default: temporary)")
    opts = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for sig in (signal.SIGINT, signal.SIGTERM):  # SIGINT too: `cmd &` starts with it ignored
        signal.signal(sig, _raise_interrupt)
    server = LocalPostgres(port=opts.port, data_dir=opts.data_dir)
    try:
        server.start()
        print(server.url, flush=True)
        while True:
            signal.pause()
    except KeyboardInterrupt:
        return 0
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
