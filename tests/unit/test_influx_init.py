"""``influx init`` on the v2 path against a stateful test double of InfluxDB 2.x's buckets and
DBRP API (the v1 path runs against real InfluxDB in tests/integration/test_sink_v1.py), and the
retention durations it takes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from pipeline.settings import Settings
from pipeline.sinks.init import Retention, init_influx, parse_retention


class FakeInflux2:
    """Organisation ``envmon``; buckets and DBRP mappings kept in memory."""

    def __init__(self) -> None:
        self.buckets: dict[str, dict[str, Any]] = {}
        self.dbrps: list[dict[str, Any]] = []

    def answer(self, method: str, path: str, query: dict[str, str], body: Any) -> Any:
        if path == "/api/v2/orgs":
            return {
                "orgs": [{"id": "0123456789abcdef", "name": "envmon"}]
                if query["org"] == "envmon"
                else []
            }
        if path == "/api/v2/buckets" and method == "GET":
            return {"buckets": [b for b in self.buckets.values() if b["name"] == query["name"]]}
        if path == "/api/v2/buckets":
            bucket = body | {"id": f"b{len(self.buckets)}"}
            self.buckets[bucket["id"]] = bucket
            return bucket
        if path.startswith("/api/v2/buckets/"):
            self.buckets[path.rsplit("/", 1)[1]] |= body
            return self.buckets[path.rsplit("/", 1)[1]]
        if path == "/api/v2/dbrps" and method == "GET":
            mapped = [
                d
                for d in self.dbrps
                if (d["database"], d["retention_policy"]) == (query["db"], query["rp"])
            ]
            return {"content": [self._dbrp(d) for d in mapped]}
        if path == "/api/v2/dbrps":
            self.dbrps.append(body)
            return self._dbrp(body)
        raise AssertionError(f"unexpected {method} {path}")

    @staticmethod
    def _dbrp(d: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": "d",
            "orgID": d["orgID"],
            "bucketID": d["bucketID"],
            "database": d["database"],
            "retention_policy": d["retention_policy"],
            "default": d["default"],
        }


@pytest.fixture
def influx2() -> Iterator[tuple[FakeInflux2, str]]:
    fake = FakeInflux2()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            if (
                isinstance(body, dict)
                and "retention_policy" not in body
                and "retentionPolicy" in body
            ):
                body["retention_policy"] = body["retentionPolicy"]
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            data = json.dumps(fake.answer(self.command, url.path, query, body)).encode()
            self.send_response(201 if self.command == "POST" else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = _serve

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield fake, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_v2_init_creates_buckets_and_mappings_once(influx2: tuple[FakeInflux2, str]) -> None:
    fake, url = influx2
    settings = Settings(influx_url=url, influx_api="v2", influx_bucket="env", influx_database="db")
    assert init_influx(settings, Retention()) == [
        "bucket env (INF): created",
        "dbrp db/autogen -> env: created",
        "bucket env-raw (30d): created",
        "dbrp db/raw -> env-raw: created",
    ]
    assert init_influx(settings, Retention(raw_s=14 * 86_400)) == [
        "bucket env (INF): unchanged",
        "dbrp db/autogen: unchanged",
        "bucket env-raw (2w): updated",
        "dbrp db/raw: unchanged",
    ]
    raw = next(b for b in fake.buckets.values() if b["name"] == "env-raw")
    assert [r["everySeconds"] for r in raw["retentionRules"]] == [14 * 86_400]
    assert {(d["database"], d["retention_policy"], d["default"]) for d in fake.dbrps} == {
        ("db", "autogen", True),
        ("db", "raw", False),
    }


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30d", 2_592_000), ("12h", 43_200), (" 2W ", 1_209_600), ("90m", 5400), ("inf", 0)],
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_retention(text) == seconds


@pytest.mark.parametrize("text", ["30", "30 days", "10m", "-1d", "0d", "1.5d", "250ms"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_retention(text)
