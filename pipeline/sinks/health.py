"""The sink's health endpoint: ``GET /health`` (JSON) and ``GET /metrics`` (Prometheus text).

A stdlib HTTP server on a daemon thread, reading :class:`SinkMetrics`; ``/health`` answers 200
while the sink runs, also while InfluxDB is away (``"status": "paused"``): restarting the sink
would not bring InfluxDB back.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol


class HealthSource(Protocol):
    """What the endpoint reads: the sink's metrics, or another service's (the HJ 212 gateway)."""

    def health(self) -> dict[str, object]: ...

    def prometheus(self) -> str: ...


def serve_health(
    metrics: HealthSource, host: str, port: int, name: str = "sink"
) -> ThreadingHTTPServer:
    """Start the endpoint (``port`` 0: any free port, see ``server.server_port``); stop it
    with ``server.shutdown()``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/health":
                body = json.dumps(metrics.health(), ensure_ascii=False).encode()
                kind = "application/json"
            elif self.path == "/metrics":
                body = metrics.prometheus().encode()
                kind = "text/plain; version=0.0.4; charset=utf-8"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # quiet: scraped every few s
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name=f"{name}-health", daemon=True).start()
    return server
