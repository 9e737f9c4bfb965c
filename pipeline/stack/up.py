"""The one-machine stack behind ``envmon up``: broker, InfluxDB, topics, services, simulator.

Every part is a child process in its own process group with its log under the state directory;
the logs are followed and shown with a prefix per part. Children die with the stack (Linux
PDEATHSIG) and are stopped in reverse order on Ctrl-C, so nothing is left behind. A lock file
stops a second stack on the same state directory.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import IO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from pipeline.kafka.admin import ensure_topics
from pipeline.registry import Registry
from pipeline.settings import Settings, with_overrides
from pipeline.sources.simulator.stations import synthetic_registry, to_yaml
from pipeline.stack.servers import (
    InfluxDB,
    ServerError,
    ServerProcess,
    TansuBroker,
    free_port,
    http_status,
    require_binary,
    tansu_binary,
)

PREFIX_STYLES = ("cyan", "magenta", "green", "yellow", "blue", "red")


class StackRunning(RuntimeError):
    """Another ``envmon up`` holds the state directory."""


@dataclass
class StackOptions:
    stations: int = 20  # synthetic micro-stations added to the registry's
    backfill: str = "6h"  # history simulated at once before real time ("0" for none)
    seed: int = 0
    influx: bool = True  # start a local InfluxDB when influxd is installed and none is configured


@dataclass
class Part:
    """One child of the stack; ``oneshot`` parts run to completion before the next starts."""

    name: str
    process: ServerProcess
    oneshot: bool = False
    urls: dict[str, str] = field(default_factory=dict)
    server: bool = False  # broker or InfluxDB: stopped after the envmon parts


class Stack:
    def __init__(self, settings: Settings, options: StackOptions, console: Console) -> None:
        self.settings = settings
        self.options = options
        self.console = console
        self.state_dir = settings.state_dir.resolve()
        self.log_dir = self.state_dir / "logs"
        self.parts: list[Part] = []
        self._lock: IO[str] | None = None
        self._stop = threading.Event()

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(exist_ok=True)
        self._take_lock()
        threading.Thread(target=self._follow_logs, daemon=True).start()
        self._start_broker()
        self._start_influx()
        self._write_registry()
        report = ensure_topics(self.settings, self.settings.namespace)
        self.console.print(
            f"topics: {len(report.created)} created, {len(report.existing)} existing"
        )
        self._start_services()
        self._write_pids()
        self._print_summary()

    def wait(self) -> None:
        """Until Ctrl-C, or until a long-running part dies (reported, then the stack stops)."""
        while not self._stop.wait(0.5):
            for part in self.parts:
                code = part.process.exit_code
                if code is not None and not part.oneshot:
                    self.console.print(
                        f"[red]{part.name} exited with code {code}; stopping the stack"
                    )
                    return

    def stop(self) -> None:
        """Every envmon part at once (each: SIGTERM, SIGKILL after its stop timeout), then
        InfluxDB, then the broker; Ctrl-C takes the slowest part's time, not their sum."""
        services = [part for part in self.parts if not part.server]
        with ThreadPoolExecutor(max(1, len(services))) as pool:
            list(pool.map(self._stop_part, services))
        for part in reversed(self.parts):
            if part.server:
                self._stop_part(part)
        self._stop.set()
        if self._lock is not None:
            self._lock.close()
            (self.state_dir / "up.lock").unlink(missing_ok=True)
        (self.state_dir / "up.json").unlink(missing_ok=True)

    def _stop_part(self, part: Part) -> None:
        running = part.process.exit_code is None and not part.oneshot
        started = time.monotonic()
        part.process.stop()
        if running:
            self.console.print(f"stopped {part.name} ({time.monotonic() - started:.1f} s)")

    # --- parts -----------------------------------------------------------------------------
    def _start_broker(self) -> None:
        if "kafka_bootstrap" in self.settings.model_fields_set:
            self.console.print(
                f"broker: using {self.settings.kafka_bootstrap} (ENVMON_KAFKA_BOOTSTRAP)"
            )
            return
        broker = TansuBroker(tansu_binary(), self.log_dir)
        self._launch(
            Part("broker", broker.process, urls={"bootstrap": broker.bootstrap}, server=True)
        )
        self.settings = with_overrides(self.settings, kafka_bootstrap=broker.bootstrap)

    def _start_influx(self) -> None:
        if "influx_url" in self.settings.model_fields_set or not self.options.influx:
            self.console.print(f"InfluxDB: using {self.settings.influx_url}")
            return
        try:
            binary = require_binary("influxd", "apt install influxdb")
        except ServerError:
            self.console.print(
                "InfluxDB: influxd not installed and ENVMON_INFLUX_URL not set; none"
            )
            return
        workdir = self.state_dir / "influxdb"
        workdir.mkdir(exist_ok=True)
        influx = InfluxDB(binary, workdir)
        influx.process.log_path = self.log_dir / "influxd.log"
        self._launch(Part("influxd", influx.process, urls={"url": influx.url}, server=True))
        self.settings = with_overrides(self.settings, influx_url=influx.url, influx_api="v1")

    def _start_services(self) -> None:
        env = self._child_env()
        self._start_worker(env)
        if "influx_url" in self.settings.model_fields_set:
            self._envmon("influx-init", ["influx", "init"], env, oneshot=True)
            self._envmon("sites", ["dashboards", "sites"], env, oneshot=True)
            self._start_with_health("sink", ["sink"], env)
        else:
            self.console.print("sink: not started (no InfluxDB)")
        self._start_with_health("archive", ["archive"], env, dir=env["ENVMON_ARCHIVE_DIR"])
        self._start_with_health(
            "notifier",
            ["notify"],
            env,
            port_option="--web-port",
            subscriptions=env["ENVMON_SUBSCRIPTIONS_FILE"],
        )
        self._start_gateway(env)
        self._start_simulator(env)

    def _start_worker(self, env: dict[str, str]) -> None:
        """The stream agents; Faust's web server (health, metrics) on a free port."""
        port = free_port()
        web = f"http://127.0.0.1:{port}"
        self._envmon(
            "worker",
            ["worker"],
            env | {"ENVMON_WORKER_WEB_PORT": str(port)},
            lambda: http_status(f"{web}/health") == 200,
            urls={"web": web, "health": f"{web}/health", "metrics": f"{web}/metrics"},
        )

    def _start_with_health(
        self,
        part: str,
        args: list[str],
        env: dict[str, str],
        port_option: str = "--health-port",
        **urls: str,
    ) -> None:
        """A service whose health endpoint (``/health``, ``/metrics``) on a free port, given by
        ``port_option``, tells it is up; ``urls`` are shown with it."""
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        self._envmon(
            part,
            [*args, port_option, str(port)],
            env,
            lambda: http_status(f"{base}/health") == 200,
            urls={"health": f"{base}/health", "metrics": f"{base}/metrics", **urls},
        )

    def _start_gateway(self, env: dict[str, str]) -> None:
        """The HJ 212 gateway: on ENVMON_HJ212_HOST/PORT when set, else a free loopback port."""
        given = self.settings.model_fields_set
        host = self.settings.hj212_host if "hj212_host" in given else "127.0.0.1"
        port = self.settings.hj212_port if "hj212_port" in given else free_port()
        self._start_with_health(
            "gateway",
            ["gateway", "hj212", "--host", host, "--port", str(port)],
            env,
            hj212=f"tcp://{host}:{port}",
        )

    def _start_simulator(self, env: dict[str, str]) -> None:
        """A backfill of the last hours at full speed, then real-time readings."""
        sim = ["simulate", "all", "--seed", str(self.options.seed)]  # stations: the registry file
        if self.options.backfill not in ("", "0"):
            window = ["--from", f"now-{self.options.backfill}", "--to", "now", "--speed", "max"]
            self._envmon("backfill", [*sim, *window], env, oneshot=True)
        self._envmon("simulator", sim, env, lambda: True)

    def _envmon(
        self,
        name: str,
        args: list[str],
        env: dict[str, str],
        ready: Callable[[], bool] = lambda: True,
        *,
        oneshot: bool = False,
        urls: dict[str, str] | None = None,
    ) -> None:
        argv = [sys.executable, "-m", "pipeline", *args]
        process = ServerProcess(
            name, argv, ready, self.log_dir / f"{name}.log", startup_timeout=90, env=env
        )
        part = Part(name, process, oneshot=oneshot, urls=urls or {})
        self._launch(part)
        if oneshot:
            while process.exit_code is None:
                time.sleep(0.2)
            if process.exit_code != 0:
                raise ServerError(
                    f"{name} failed with code {process.exit_code}; log {process.log_path}"
                )

    def _launch(self, part: Part) -> None:
        self.parts.append(part)
        self.console.print(f"starting {part.name} …")
        part.process.start()

    # --- helpers ---------------------------------------------------------------------------
    def _registry_path(self) -> Path:
        return self.state_dir / "registry.yaml"

    def _write_registry(self) -> None:
        """The registry every child uses: the configured one plus the synthetic micro-stations."""
        base = Registry.load(self.settings.registry_file)
        registry = synthetic_registry(base, self.options.stations, 0, seed=self.options.seed)
        self._registry_path().write_text(to_yaml(registry), "utf-8")

    def _child_env(self) -> dict[str, str]:
        """The environment of envmon children: this stack's settings as ENVMON_* variables."""
        env = dict(os.environ)  # the user's ENVMON_* settings (tokens, …) pass through
        env.update(
            {
                "ENVMON_KAFKA_BOOTSTRAP": self.settings.kafka_bootstrap,
                "ENVMON_NAMESPACE": self.settings.namespace,
                "ENVMON_INFLUX_URL": self.settings.influx_url,
                "ENVMON_INFLUX_API": self.settings.influx_api,
                "ENVMON_STATE_DIR": str(self.state_dir),
                "ENVMON_PARTITIONS": str(self.settings.partitions),
                "ENVMON_REGISTRY_FILE": str(self._registry_path()),
                # the bundled broker keeps nothing across restarts, so neither do the tables
                "ENVMON_TABLE_STORE": "memory",
                "ENVMON_ARCHIVE_DIR": str(self._archive_dir()),
                "ENVMON_SUBSCRIPTIONS_FILE": str(self._subscriptions_file()),
            }
        )
        return env

    def _archive_dir(self) -> Path:
        """ENVMON_ARCHIVE_DIR when set, else ``archive`` in the state directory."""
        if "archive_dir" in self.settings.model_fields_set:
            return self.settings.archive_dir.resolve()
        return self.state_dir / "archive"

    def _subscriptions_file(self) -> Path:
        """ENVMON_SUBSCRIPTIONS_FILE when set, else one written here sending every alert
        transition to the notifier's log channel."""
        if self.settings.subscriptions_file is not None:
            return self.settings.subscriptions_file.resolve()
        path = self.state_dir / "subscriptions.yaml"
        path.write_bytes(files("pipeline.stack").joinpath("log_subscriptions.yaml").read_bytes())
        return path

    def _take_lock(self) -> None:
        lock = open(self.state_dir / "up.lock", "a+")  # noqa: SIM115 — held for the stack's life
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "?"
            lock.close()
            raise StackRunning(
                f"envmon up is already running (pid {holder}) on {self.state_dir}"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        self._lock = lock

    def _write_pids(self) -> None:
        """``up.json``: the stack's pid, its children's pids and where each part listens."""
        pids = {p.name: p.process.pid for p in self.parts if p.process.running}
        urls = {p.name: p.urls for p in self.parts if p.urls}
        state = {"pid": os.getpid(), "children": pids, "urls": urls}
        (self.state_dir / "up.json").write_text(json.dumps(state))

    def _print_summary(self) -> None:
        """Where everything listens, and the variables that point other commands at it."""
        names = {part.name for part in self.parts}
        table = Table(title="envmon up — ready (Ctrl-C stops everything)")
        table.add_column("part")
        table.add_column("where")
        bundled = "bundled Tansu" if "broker" in names else "ENVMON_KAFKA_BOOTSTRAP"
        table.add_row("broker", f"{self.settings.kafka_bootstrap} ({bundled})")
        if "influxd" in names:
            influx = f"{self.settings.influx_url} (local influxd, API {self.settings.influx_api})"
        elif "influx_url" in self.settings.model_fields_set:
            influx = f"{self.settings.influx_url} (ENVMON_INFLUX_URL)"
        else:
            influx = "none"
        table.add_row("InfluxDB", influx)
        for part in self.parts:
            if part.urls and part.name not in ("broker", "influxd"):
                table.add_row(part.name, "\n".join(f"{k} {v}" for k, v in part.urls.items()))
        table.add_row("logs", str(self.log_dir))
        table.add_row("registry", str(self._registry_path()))
        self.console.print(table)
        self.console.print("other envmon commands reach this stack with:")
        exports = {
            "ENVMON_KAFKA_BOOTSTRAP": self.settings.kafka_bootstrap,
            "ENVMON_INFLUX_URL": self.settings.influx_url,
            "ENVMON_INFLUX_API": self.settings.influx_api,
            "ENVMON_REGISTRY_FILE": self._registry_path(),
        }
        for name, value in exports.items():
            self.console.print(f"  export {name}={value}", soft_wrap=True)

    def _follow_logs(self) -> None:
        """Print every part's new log lines with a coloured ``name |`` prefix."""
        offsets: dict[Path, int] = {}
        while not self._stop.is_set():
            for index, part in enumerate(list(self.parts)):
                path = part.process.log_path
                try:
                    with open(path, "rb") as fh:
                        fh.seek(offsets.get(path, 0))
                        chunk = fh.read()
                        offsets[path] = fh.tell()
                except OSError:
                    continue
                style = PREFIX_STYLES[index % len(PREFIX_STYLES)]
                for line in chunk.decode(errors="replace").splitlines():
                    if line.strip():
                        prefix = (f"{part.name:>9} | ", style)
                        self.console.print(Text.assemble(prefix, line), soft_wrap=True)
            time.sleep(0.3)
