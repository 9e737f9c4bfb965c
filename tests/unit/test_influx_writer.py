"""Both write paths and the batch writer against a local HTTP test double of InfluxDB that
answers 204, 500, 429/503 with Retry-After, and 400 partial writes."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from pipeline.sinks.influx import (
    Backpressure,
    BatchWriter,
    Entry,
    InfluxUnavailable,
    InfluxWriter,
    PointsRejected,
    RetryPolicy,
    V1Writer,
    V2Writer,
)
from pipeline.sinks.metrics import SinkMetrics
from pipeline.sinks.points import Target
from tests.fixtures.servers import free_port

Answer = tuple[int, dict[str, str], str]
CONFLICT = '{"error":"partial write: field type conflict: input field \\"aqi\\" dropped=%d"}'


@dataclass
class Request:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    lines: list[str]


@dataclass
class FakeInflux:
    """Answers each request with ``answer(request)``; records every request."""

    url: str
    answer: Callable[[Request], Answer] = lambda request: (204, {}, "")
    requests: list[Request] = field(default_factory=list)


@pytest.fixture
def influx() -> Iterator[FakeInflux]:
    fake = FakeInflux("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            url = urlsplit(self.path)
            request = Request(
                url.path, parse_qs(url.query), dict(self.headers), body.decode().split("\n")
            )
            fake.requests.append(request)
            status, headers, text = fake.answer(request)
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(text.encode())))
            self.end_headers()
            self.wfile.write(text.encode())

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield fake
    server.shutdown()


def v1(url: str) -> V1Writer:
    return V1Writer(url, "envmon", {Target.RAW: "raw", Target.RESULTS: None}, "user:pw", 2.0)


def v2(url: str) -> V2Writer:
    return V2Writer(url, "org", {Target.RAW: "b-raw", Target.RESULTS: "b"}, "tok", 2.0)


PATHS = pytest.mark.parametrize("make", [v1, v2], ids=["v1", "v2"])


def test_v1_writes_gzipped_line_protocol_to_write(influx: FakeInflux) -> None:
    v1(influx.url).write(Target.RAW, "m f=1i 1\nm f=2i 2")
    (request,) = influx.requests
    assert request.path == "/write"
    assert request.query == {"db": ["envmon"], "rp": ["raw"], "precision": ["ns"]}
    assert request.headers["Content-Encoding"] == "gzip"
    assert request.headers["Authorization"] == "Token user:pw"
    assert request.lines == ["m f=1i 1", "m f=2i 2"]


def test_v1_results_use_the_default_retention_policy(influx: FakeInflux) -> None:
    v1(influx.url).write(Target.RESULTS, "m f=1i 1")
    assert "rp" not in influx.requests[0].query


def test_v2_writes_through_influxdb_client(influx: FakeInflux) -> None:
    v2(influx.url).write(Target.RAW, "m f=1i 1\nm f=2i 2")
    (request,) = influx.requests
    assert request.path == "/api/v2/write"
    assert request.query == {"org": ["org"], "bucket": ["b-raw"], "precision": ["ns"]}
    assert request.headers["Content-Encoding"] == "gzip"
    assert request.headers["Authorization"] == "Token tok"
    assert request.lines == ["m f=1i 1", "m f=2i 2"]


@PATHS
def test_bad_points_are_rejected_with_the_servers_message(
    influx: FakeInflux, make: Callable[[str], InfluxWriter]
) -> None:
    influx.answer = lambda request: (400, {}, CONFLICT % 1)
    with pytest.raises(PointsRejected) as caught:
        make(influx.url).write(Target.RESULTS, "m f=1i 1")
    assert caught.value.status == 400
    assert caught.value.message == 'partial write: field type conflict: input field "aqi" dropped=1'


@PATHS
@pytest.mark.parametrize(
    ("answer", "retry_after"),
    [
        ((500, {}, '{"error":"engine: timeout"}'), None),
        ((503, {"Retry-After": "7"}, ""), 7.0),
        ((429, {"Retry-After": "2"}, '{"code":"too many requests","message":"slow down"}'), 2.0),
        ((404, {}, '{"error":"database not found: \\"envmon\\""}'), None),
    ],
)
def test_server_trouble_is_unavailable(
    influx: FakeInflux,
    make: Callable[[str], InfluxWriter],
    answer: Answer,
    retry_after: float | None,
) -> None:
    influx.answer = lambda request: answer
    with pytest.raises(InfluxUnavailable) as caught:
        make(influx.url).write(Target.RESULTS, "m f=1i 1")
    assert caught.value.retry_after == retry_after
    assert str(answer[0]) in str(caught.value)


@PATHS
def test_no_server_is_unavailable(make: Callable[[str], InfluxWriter]) -> None:
    with pytest.raises(InfluxUnavailable):
        make(f"http://127.0.0.1:{free_port()}").write(Target.RESULTS, "m f=1i 1")


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def batch_writer(influx: FakeInflux, sleeps: Sleeps) -> BatchWriter[int]:
    policy = RetryPolicy(attempts=3, backoff=0.2, backoff_max=5.0, retry_after_max=60)
    return BatchWriter(v1(influx.url), SinkMetrics("t", "g"), policy, sleeps, lambda: 1.0)


def entries(
    count: int, poison: frozenset[int] = frozenset(), target: Target = Target.RESULTS
) -> list[Entry[int]]:
    """Entry ``i`` holds two points; a poison entry's second point is the bad one."""
    return [
        Entry(target, [f"m,e={i} f=1i 1", f"m,e={i} {'poison' if i in poison else 'f'}=1i 2"], i)
        for i in range(count)
    ]


def reject_poison(request: Request) -> Answer:
    dropped = sum("poison" in line for line in request.lines)
    return (400, {}, CONFLICT % dropped) if dropped else (204, {}, "")


def test_a_batch_is_one_request_per_target(influx: FakeInflux) -> None:
    writer = batch_writer(influx, Sleeps())
    assert writer.write(entries(3) + entries(2, target=Target.RAW)) == []
    assert [(r.query.get("rp"), len(r.lines)) for r in influx.requests] == [(["raw"], 4), (None, 6)]
    assert (writer.metrics.points_written, writer.metrics.requests) == (10, 2)


def test_transient_failures_are_retried_with_growing_backoff(influx: FakeInflux) -> None:
    answers = iter([(500, {}, ""), (500, {}, ""), (204, {}, "")])
    influx.answer = lambda request: next(answers)
    sleeps = Sleeps()
    writer = batch_writer(influx, sleeps)
    assert writer.write(entries(2)) == []
    assert sleeps == [0.2, 0.4]  # jitter pinned at its top
    assert writer.metrics.batches_retried == 2


def test_retry_after_is_honoured(influx: FakeInflux) -> None:
    answers = iter([(429, {"Retry-After": "3"}, ""), (204, {}, "")])
    influx.answer = lambda request: next(answers)
    sleeps = Sleeps()
    batch_writer(influx, sleeps).write(entries(1))
    assert sleeps == [3.0]


def test_an_outage_becomes_backpressure(influx: FakeInflux) -> None:
    influx.answer = lambda request: (503, {"Retry-After": "9"}, "")
    with pytest.raises(Backpressure) as caught:
        batch_writer(influx, Sleeps()).write(entries(2))
    assert caught.value.retry_after == 9.0
    assert len(influx.requests) == 3


def test_a_rejected_batch_is_split_to_isolate_the_bad_records(influx: FakeInflux) -> None:
    influx.answer = reject_poison
    writer = batch_writer(influx, Sleeps())
    rejected = writer.write(entries(16, poison=frozenset({5, 11})))
    assert [(entry.source, message[-9:]) for entry, message in rejected] == [
        (5, "dropped=1"),
        (11, "dropped=1"),
    ]
    written = {
        line
        for r in influx.requests
        if r.lines and "poison" not in str(r.lines)
        for line in r.lines
    }
    assert len(written) == 2 * 14  # every point of the other records was written
    assert writer.metrics.batches_split > 0


def test_when_every_point_is_dropped_no_split_is_needed(influx: FakeInflux) -> None:
    influx.answer = lambda request: (400, {}, CONFLICT % len(request.lines))
    rejected = batch_writer(influx, Sleeps()).write(entries(8))
    assert [entry.source for entry, _ in rejected] == list(range(8))
    assert len(influx.requests) == 1
