"""Health probe for containers: ``python -m pipeline.stack.probe [URL ...]``.

Exits 0 when every URL answers — ``http://…`` with status 200, ``tcp://host:port`` by accepting a
connection — and 1 naming the first that does not. Without URLs it probes the worker's ``/health``
on ``ENVMON_WORKER_WEB_PORT``, since the image's default command is ``envmon worker``. The image
has no curl; this needs only the standard library and the settings, so a probe every few seconds
costs a fraction of an ``envmon`` start-up.
"""

from __future__ import annotations

import socket
import sys
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from pipeline.settings import SettingsError, load_settings

TIMEOUT_S = 3.0


def probe(url: str, timeout: float = TIMEOUT_S) -> str | None:
    """None when ``url`` is healthy, else why not."""
    parts = urlsplit(url)
    if parts.scheme == "tcp":
        if parts.hostname is None or parts.port is None:
            return f"{url}: expected tcp://host:port"
        try:
            with socket.create_connection((parts.hostname, parts.port), timeout=timeout):
                return None
        except OSError as exc:
            return f"{url}: {exc}"
    if parts.scheme not in ("http", "https"):
        return f"{url}: expected http://, https:// or tcp://"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return None if response.status == 200 else f"{url}: HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return f"{url}: HTTP {exc.code}"
    except (OSError, urllib.error.URLError) as exc:
        return f"{url}: {exc}"


def default_url() -> str:
    return f"http://127.0.0.1:{load_settings().worker_web_port}/health"


def main(argv: list[str]) -> int:
    try:
        urls = argv or [default_url()]
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 1
    for url in urls:
        problem = probe(url)
        if problem is not None:
            print(f"unhealthy: {problem}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
