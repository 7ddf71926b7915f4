"""Run a real single-node Apache Kafka broker (KRaft) from Maven Central jars, no Docker needed."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import fcntl
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

ROOT = Path(__file__).resolve().parents[2]
POM = ROOT / "services" / "kafka" / "pom.xml"
LOG4J_CONFIG = ROOT / "services" / "kafka" / "log4j2.properties"
CACHE = ROOT / ".cache" / "kafka"
LIB = CACHE / "lib"
STAMP = CACHE / "lib.stamp"
TOOLS = {
    "topics": "org.apache.kafka.tools.TopicCommand",
    "configs": "kafka.admin.ConfigCommand",
    "consumer-groups": "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
    "console-consumer": "org.apache.kafka.tools.consumer.ConsoleConsumer",
    "console-producer": "org.apache.kafka.tools.ConsoleProducer",
}
_LIVE: set[LocalKafka] = set()


def _tail(path: Path, lines: int = 40) -> str:
    """Return the last lines of a log file (empty if it does not exist)."""
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def fetch_jars() -> Path:
    """Copy the broker and tool jars from Maven into .cache/kafka/lib unless they are current."""
    CACHE.mkdir(parents=True, exist_ok=True)
    # Parallel test workers may all call this at once; only one should run mvn.
    with (CACHE / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = STAMP.stat().st_mtime if STAMP.exists() else -1.0
        if any(LIB.glob("*.jar")) and stamp >= POM.stat().st_mtime:
            return LIB
        mvn = shutil.which("mvn")
        if mvn is None:
            raise RuntimeError("mvn (Apache Maven) is not on PATH; it is needed to fetch Kafka")
        logger.info("Fetching Kafka jars with Maven into %s", LIB)
        # Old jars would stay on the '<lib>/*' classpath next to the new ones.
        shutil.rmtree(LIB, ignore_errors=True)
        log = CACHE / "mvn.log"
        cmd = [
            mvn,
            "-q",
            "-B",
            "-f",
            str(POM),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={LIB}",
        ]
        with log.open("w") as out:
            code = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, check=False).returncode
        if code != 0 or not any(LIB.glob("*.jar")):
            raise RuntimeError(f"mvn failed with exit code {code}:\n{_tail(log)}")
        STAMP.touch()
        logger.info("Fetched %d Kafka jars", len(list(LIB.glob("*.jar"))))
        return LIB


def _java_cmd(lib: Path, *jvm_opts: str) -> list[str]:
    """Return the java command line prefix using JAVA_HOME when set, with our log4j config."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else "java"
    return [java, *jvm_opts, f"-Dlog4j2.configurationFile={LOG4J_CONFIG}", "-cp", f"{lib}/*"]


def _free_ports(count: int) -> list[int]:
    """Return distinct free TCP ports on 127.0.0.1 (all held open together so none repeats)."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]


class LocalKafka:
    """A combined broker+controller KRaft node listening on 127.0.0.1."""

    def __init__(
        self,
        port: int | None = None,
        controller_port: int | None = None,
        data_dir: Path | None = None,
    ) -> None:
        free = _free_ports(2)
        self.port = port or next(p for p in free if p != controller_port)
        self.controller_port = controller_port or next(p for p in free if p != self.port)
        self._owns_dir = data_dir is None
        # Absolute, because it ends up in server.properties as log.dirs.
        self.data_dir = Path(data_dir).resolve() if data_dir is not None else None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        """Return the PLAINTEXT address clients connect to."""
        return f"127.0.0.1:{self.port}"

    def _properties(self, log_dir: Path) -> str:
        """Render server.properties for a single combined node."""
        plain, ctrl = f"127.0.0.1:{self.port}", f"127.0.0.1:{self.controller_port}"
        return "\n".join(
            [
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.bootstrap.servers={ctrl}",
                f"listeners=PLAINTEXT://{plain},CONTROLLER://{ctrl}",
                f"advertised.listeners=PLAINTEXT://{plain},CONTROLLER://{ctrl}",
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                f"log.dirs={log_dir}",
                "num.partitions=3",
                # Topics are created as configured by shared.topics, never on first use.
                "auto.create.topics.enable=false",
                "offsets.topic.replication.factor=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "log.cleaner.enable=true",
                # The local broker compacts within seconds of a segment closing (the default
                # looks every 15 s), so what erasure leaves on compacted topics can be checked.
                "log.cleaner.backoff.ms=1000",
                "",
            ]
        )

    def start(self, timeout: float = 60) -> LocalKafka:
        """Format storage if needed, launch the broker and wait until it answers metadata."""
        if self._proc is not None and self._proc.poll() is None:
            return self
        try:
            return self._start(time.monotonic(), timeout)
        except BaseException:
            self.stop()  # also removes a temporary data directory; the error carries the log
            raise

    def _start(self, t0: float, timeout: float) -> LocalKafka:
        """Do the work of start(); the caller cleans up on failure."""
        lib = fetch_jars()
        if self.data_dir is None:
            self.data_dir = Path(tempfile.mkdtemp(prefix="boucle-kafka-"))
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log_dir, props = self.data_dir / "kraft-logs", self.data_dir / "server.properties"
        props.write_text(self._properties(log_dir))
        if not (log_dir / "meta.properties").exists():
            storage = [*_java_cmd(lib), "kafka.tools.StorageTool"]
            uuid = (
                subprocess.run(
                    [*storage, "random-uuid"], capture_output=True, text=True, check=True
                )
                .stdout.strip()
                .splitlines()[-1]
            )
            fmt = subprocess.run(
                [*storage, "format", "--standalone", "-t", uuid, "-c", str(props)],
                capture_output=True,
                text=True,
                check=False,
            )
            if fmt.returncode != 0:
                raise RuntimeError(f"kafka storage format failed:\n{fmt.stdout}{fmt.stderr}")
        log = self.data_dir / "kafka.log"
        with log.open("ab") as out:
            # Own session: a Ctrl-C aimed at us must not kill the broker before stop() runs.
            self._proc = subprocess.Popen(
                [*_java_cmd(lib, "-Xmx512m"), "kafka.Kafka", str(props)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        _LIVE.add(self)
        deadline = t0 + timeout
        while not self._ready():
            code = self._proc.poll()
            if code is not None or time.monotonic() > deadline:
                why = f"not ready after {timeout:.0f}s" if code is None else f"exited with {code}"
                self._halt()  # before reading the log, so the tail includes the shutdown
                raise RuntimeError(f"Kafka broker {why}; last lines of {log}:\n{_tail(log)}")
            time.sleep(0.2)
        logger.info("Kafka ready on %s in %.1fs", self.bootstrap_servers, time.monotonic() - t0)
        return self

    def _ready(self) -> bool:
        """Return whether the broker answers a metadata request."""
        from kafka import KafkaAdminClient  # imported late: fetch/tool need no kafka-python

        # A plain connect first, so kafka-python does not log errors while the JVM boots.
        with contextlib.suppress(Exception):
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            admin = KafkaAdminClient(
                bootstrap_servers=self.bootstrap_servers,
                request_timeout_ms=5000,
                bootstrap_timeout_ms=5000,
            )
            try:
                admin.list_topics()
                return True
            finally:
                admin.close()
        return False

    def _halt(self, timeout: float = 20) -> None:
        """Terminate the broker process group, escalating to SIGKILL."""
        proc, self._proc = self._proc, None
        _LIVE.discard(self)
        if proc is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout)
                return
            except subprocess.TimeoutExpired:
                logger.warning("Kafka broker ignored %s for %ss", sig.name, timeout)

    def stop(self, timeout: float = 20) -> None:
        """Stop the broker; remove the data directory if it was a temporary one."""
        if self._proc is not None:
            logger.info("Stopping Kafka on %s", self.bootstrap_servers)
        self._halt(timeout)
        if self._owns_dir and self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.data_dir = None

    def freeze(self) -> None:
        """SIGSTOP the broker: a broker that hangs without closing its connections."""
        if self._proc is not None:
            os.killpg(self._proc.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT a frozen broker."""
        if self._proc is not None:
            os.killpg(self._proc.pid, signal.SIGCONT)

    def restart(self) -> LocalKafka:
        """Stop and start again on the same ports, keeping the data."""
        self._halt()
        return self.start()

    def __enter__(self) -> LocalKafka:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@atexit.register
def _stop_all() -> None:
    """Stop brokers a normally exiting interpreter would otherwise leave running."""
    for kafka in list(_LIVE):
        kafka.stop()


def run_tool(tool: str, args: list[str]) -> int:
    """Run one of Kafka's CLI tools (see TOOLS) and return its exit code."""
    if tool not in TOOLS:
        raise ValueError(f"unknown Kafka tool {tool!r}; choose from {', '.join(TOOLS)}")
    return subprocess.run([*_java_cmd(fetch_jars()), TOOLS[tool], *args], check=False).returncode


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Command line entry point: fetch, serve or tool."""
    parser = argparse.ArgumentParser(prog="python -m services.devtools.kafka", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("fetch", help="download the Kafka jars")
    serve = sub.add_parser("serve", help="run a broker in the foreground until Ctrl-C")
    serve.add_argument("--port", type=int, default=9092)
    serve.add_argument("--data-dir", type=Path, help="keep data here (default: temporary)")
    tool = sub.add_parser("tool", help="run a Kafka CLI tool")
    tool.add_argument("name", choices=sorted(TOOLS))
    tool.add_argument("args", nargs=argparse.REMAINDER)
    opts = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)  # kafka-python chatter while polling
    if opts.command == "fetch":
        print(fetch_jars())
        return 0
    if opts.command == "tool":
        return run_tool(opts.name, opts.args)
    for sig in (signal.SIGINT, signal.SIGTERM):  # SIGINT too: `cmd &` starts with it ignored
        signal.signal(sig, _raise_interrupt)
    kafka = LocalKafka(port=opts.port, data_dir=opts.data_dir)
    try:
        kafka.start()
        print(kafka.bootstrap_servers, flush=True)
        proc = kafka._proc
        code = proc.wait() if proc is not None else 1
        logger.error("Kafka broker exited on its own with code %s", code)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        kafka.stop()


if __name__ == "__main__":
    sys.exit(main())
