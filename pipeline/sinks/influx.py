"""Writing line protocol to InfluxDB: two write paths behind one protocol, and the batch writer.

- :class:`V1Writer`: the v1 HTTP API (``POST /write?db=…&rp=…``, InfluxDB 1.x), plain urllib3.
- :class:`V2Writer`: the v2 write API through influxdb-client's synchronous ``WriteApi``
  (InfluxDB 1.8+, 2.x, 3.x; org, bucket, token), sending line-protocol bytes, not ``Point``s.

Both gzip the body (V1Writer at level 1: most of the gain for a fraction of the CPU;
influxdb-client at its fixed level 9, as ``write`` passes no Content-Encoding of ours) and turn
every answer into one of two errors: :class:`PointsRejected` (a 4xx about the points) or
:class:`InfluxUnavailable` (5xx, 429, timeouts, refused connections, and 401/403/404, which
no point can fix either). :class:`BatchWriter` writes a batch of entries (one Kafka record's
points each) synchronously, retries the unavailable with backoff and jitter, honouring
``Retry-After``; splits a rejected batch in halves until the rejected entries are isolated;
and raises :class:`Backpressure` when InfluxDB stays away, so the caller pauses consumption.
"""

from __future__ import annotations

import gzip
import json
import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Generic, Protocol, TypeVar
from urllib.parse import urlencode

import urllib3
from influxdb_client import InfluxDBClient, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.rest import ApiException

from pipeline.settings import Settings
from pipeline.sinks.config import RetryPolicy
from pipeline.sinks.metrics import SinkMetrics
from pipeline.sinks.points import Target

RAW_RETENTION_POLICY = "raw"  # v1: raw readings' retention policy; results use the default one
REJECTED_STATUSES = frozenset({400, 413, 422})  # the points are at fault: split the batch
_DROPPED = re.compile(r"dropped=(\d+)")

S = TypeVar("S")


def raw_bucket(bucket: str) -> str:
    """v2: the bucket of raw readings next to the results bucket ``bucket``."""
    return f"{bucket}-raw"


class InfluxUnavailable(Exception):
    """InfluxDB did not take the write for reasons the points cannot fix; worth retrying."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PointsRejected(Exception):
    """InfluxDB refused points of the request (4xx); ``message`` is the server's."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message

    def all_dropped(self, lines: int) -> bool:
        """True when the server says it dropped every one of the request's ``lines``."""
        dropped = _DROPPED.search(self.message)
        return dropped is not None and int(dropped[1]) >= lines


class Backpressure(Exception):
    """InfluxDB stayed unavailable through the retries: pause consumption and retry the batch
    later (after ``retry_after`` s when the server said so)."""

    def __init__(self, reason: str, retry_after: float | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class InfluxWriter(Protocol):
    """One write path: sends a body of line protocol (ns timestamps) to where ``target`` lives."""

    def write(self, target: Target, body: str) -> None:
        """Raises :class:`PointsRejected` or :class:`InfluxUnavailable` unless InfluxDB took it."""

    def close(self) -> None: ...


def _payload(body: str, compress: bool) -> bytes:
    data = body.encode()
    return gzip.compress(data, compresslevel=1) if compress else data


def _server_message(body: bytes | str | None) -> str:
    """The error text of an answer: v1 ``{"error": …}``, v2 ``{"code", "message"}`` or plain."""
    text = body.decode(errors="replace") if isinstance(body, bytes) else (body or "")
    try:
        doc = json.loads(text)
    except ValueError:
        return text.strip()
    if isinstance(doc, dict):
        return str(doc.get("error") or doc.get("message") or text).strip()
    return text.strip()


def _retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (delay seconds or an HTTP date), None when absent or bad."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _failure(status: int, body: bytes | str | None, retry_after: str | None) -> Exception:
    message = _server_message(body)
    if status in REJECTED_STATUSES:
        return PointsRejected(status, message)
    wait = _retry_after(retry_after) if status in (429, 503) else None
    return InfluxUnavailable(f"HTTP {status}: {message}", wait)


class V1Writer:
    """``POST {url}/write`` of InfluxDB 1.x; ``retention`` names the policy per target (None:
    the database's default); ``token`` is sent as ``Authorization: Token …`` (``user:password``
    on 1.8+)."""

    def __init__(
        self,
        url: str,
        database: str,
        retention: Mapping[Target, str | None],
        token: str | None = None,
        timeout: float = 10.0,
        compress: bool = True,
    ) -> None:
        self._urls = {
            target: f"{url.rstrip('/')}/write?"
            + urlencode({"db": database, "precision": "ns"} | ({"rp": rp} if rp else {}))
            for target, rp in retention.items()
        }
        self._headers = {"Content-Type": "text/plain; charset=utf-8"}
        if compress:
            self._headers["Content-Encoding"] = "gzip"
        if token:
            self._headers["Authorization"] = f"Token {token}"
        self._compress = compress
        self._pool = urllib3.PoolManager(
            maxsize=2, retries=False, timeout=urllib3.Timeout(connect=timeout, read=timeout)
        )

    def write(self, target: Target, body: str) -> None:
        try:
            response = self._pool.request(
                "POST",
                self._urls[target],
                body=_payload(body, self._compress),
                headers=self._headers,
            )
        except urllib3.exceptions.HTTPError as exc:
            raise InfluxUnavailable(f"{type(exc).__name__}: {exc}") from None
        if response.status >= 300:
            raise _failure(response.status, response.data, response.headers.get("Retry-After"))

    def close(self) -> None:
        self._pool.clear()


class V2Writer:
    """The v2 write API through influxdb-client (``WriteApi``, SYNCHRONOUS, no client retries)."""

    def __init__(
        self,
        url: str,
        org: str,
        buckets: Mapping[Target, str],
        token: str | None = None,
        timeout: float = 10.0,
        compress: bool = True,
    ) -> None:
        self._client = InfluxDBClient(
            url, token=token or "", org=org, timeout=timeout * 1000, enable_gzip=compress
        )
        self._api = self._client.write_api(write_options=SYNCHRONOUS)
        self._org = org
        self._buckets = dict(buckets)

    def write(self, target: Target, body: str) -> None:
        try:
            self._api.write(
                self._buckets[target],
                self._org,
                record=body.encode(),
                write_precision=WritePrecision.NS,
            )
        except ApiException as exc:
            headers = exc.headers or {}
            raise _failure(exc.status or 0, exc.body, headers.get("Retry-After")) from None
        except urllib3.exceptions.HTTPError as exc:
            raise InfluxUnavailable(f"{type(exc).__name__}: {exc}") from None

    def close(self) -> None:
        self._client.close()


def open_writer(settings: Settings, timeout: float = 10.0, compress: bool = True) -> InfluxWriter:
    """The write path ``settings.influx_api`` selects, aimed at the layout ``influx init`` made."""
    token = settings.influx_token.get_secret_value() if settings.influx_token else None
    if settings.influx_api == "v1":
        retention = {Target.RAW: RAW_RETENTION_POLICY, Target.RESULTS: None}
        return V1Writer(
            settings.influx_url, settings.influx_database, retention, token, timeout, compress
        )
    buckets = {
        Target.RAW: raw_bucket(settings.influx_bucket),
        Target.RESULTS: settings.influx_bucket,
    }
    return V2Writer(settings.influx_url, settings.influx_org, buckets, token, timeout, compress)


_DEFAULT_RETRY = RetryPolicy()


@dataclass(slots=True)
class Entry(Generic[S]):
    """The points of one source record (``source``: whatever the caller needs back)."""

    target: Target
    lines: list[str]
    source: S


class BatchWriter(Generic[S]):
    """Writes batches of entries through an :class:`InfluxWriter`, see the module docstring."""

    def __init__(
        self,
        writer: InfluxWriter,
        metrics: SinkMetrics,
        policy: RetryPolicy = _DEFAULT_RETRY,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.writer = writer
        self.metrics = metrics
        self.policy = policy
        self._sleep = sleep
        self._rng = rng

    def write(self, entries: Sequence[Entry[S]]) -> list[tuple[Entry[S], str]]:
        """Write every entry; returns those InfluxDB rejected, each with the server's message.

        Raises :class:`Backpressure` when InfluxDB is unavailable after ``policy.attempts``
        tries; writing the same batch again later is safe (points are idempotent).
        """
        rejected: list[tuple[Entry[S], str]] = []
        for target in Target:
            group = [entry for entry in entries if entry.target is target]
            if group:
                self._write(target, group, rejected)
        return rejected

    def _write(
        self, target: Target, entries: list[Entry[S]], rejected: list[tuple[Entry[S], str]]
    ) -> None:
        lines = [line for entry in entries for line in entry.lines]
        try:
            self._post(target, lines)
        except PointsRejected as exc:
            if len(entries) == 1 or exc.all_dropped(len(lines)):
                rejected.extend((entry, exc.message) for entry in entries)
                return
            self.metrics.batches_split += 1
            middle = len(entries) // 2
            self._write(target, entries[:middle], rejected)
            self._write(target, entries[middle:], rejected)

    def _post(self, target: Target, lines: list[str]) -> None:
        body = "\n".join(lines)
        for attempt in range(1, self.policy.attempts + 1):
            started = time.perf_counter()
            try:
                self.writer.write(target, body)
            except InfluxUnavailable as exc:
                if attempt == self.policy.attempts:
                    raise Backpressure(str(exc), exc.retry_after) from None
                self.metrics.batches_retried += 1
                self._sleep(self.policy.delay(attempt, exc.retry_after, self._rng))
            else:
                self.metrics.written(len(lines), time.perf_counter() - started)
                return
