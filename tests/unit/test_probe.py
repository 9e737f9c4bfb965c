"""The container health probe against real local endpoints: healthy, failing, gone."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import pytest

from pipeline.stack.probe import main, probe


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health" else 503)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_healthy_endpoints(server: str) -> None:
    assert probe(f"http://{server}/health") is None
    assert probe(f"tcp://{server}") is None
    assert main([f"http://{server}/health", f"tcp://{server}"]) == 0


def test_unhealthy_endpoints_are_named(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert probe(f"http://{server}/other") == f"http://{server}/other: HTTP 503"
    port = _closed_port()
    assert "Connection refused" in (probe(f"tcp://127.0.0.1:{port}") or "")
    assert probe("ftp://x") == "ftp://x: expected http://, https:// or tcp://"
    assert main([f"http://{server}/health", f"http://127.0.0.1:{port}/health"]) == 1
    assert f"unhealthy: http://127.0.0.1:{port}/health" in capsys.readouterr().err


def _probe_with(port: str) -> subprocess.CompletedProcess[str]:
    """``python -m pipeline.stack.probe`` without URLs, ENVMON_WORKER_WEB_PORT set to ``port``."""
    env = {"ENVMON_WORKER_WEB_PORT": port, "PATH": "/usr/bin:/bin"}
    argv = [sys.executable, "-m", "pipeline.stack.probe"]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)


def test_default_is_the_workers_port_from_the_settings(server: str) -> None:
    assert _probe_with(server.rsplit(":", 1)[1]).returncode == 0
    down = _probe_with(str(_closed_port()))
    assert down.returncode == 1 and "unhealthy" in down.stderr
    bad = _probe_with("http")
    assert bad.returncode == 1 and "ENVMON_WORKER_WEB_PORT" in bad.stderr
