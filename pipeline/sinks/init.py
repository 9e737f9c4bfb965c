"""``envmon influx init``: create where the sink writes, with its retention; idempotent.

- InfluxDB 1.x (``influx_api=v1``): database ``influx_database``; its default retention policy
  keeps results (``results`` retention), policy ``raw`` keeps raw readings (``raw`` retention).
- InfluxDB 2.x (``v2``): bucket ``influx_bucket`` (results) and ``{influx_bucket}-raw``, plus the
  DBRP mappings ``{influx_database}/autogen`` (default) and ``{influx_database}/raw`` that let
  InfluxQL (Grafana's queries) read them as on 1.x.

Existing databases, policies and buckets are kept; a retention that differs is changed. Each
step is reported as ``created``, ``updated`` or ``unchanged``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from urllib.parse import urlencode

import urllib3
from influxdb_client import BucketRetentionRules, InfluxDBClient
from influxdb_client.domain.dbrp_create import DBRPCreate
from influxdb_client.service.dbr_ps_service import DBRPsService

from pipeline.settings import Settings
from pipeline.sinks.influx import RAW_RETENTION_POLICY, raw_bucket
from pipeline.timeutil import parse_duration

RESULTS_RETENTION_POLICY = "autogen"  # 1.x default policy name; the v2 DBRP mapping uses it too
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_GO_DURATION = re.compile(r"(\d+)([hms])")


class InitError(RuntimeError):
    """InfluxDB refused a step; the message names it."""


@dataclass(frozen=True)
class Retention:
    """Seconds to keep raw readings and results; 0 keeps forever."""

    raw_s: int = 30 * 86_400
    results_s: int = 0


def parse_retention(text: str) -> int:
    """``30d``, ``12h``, ``2w``, ``90m`` -> seconds; ``inf`` (or ``0``) -> 0, forever."""
    text = text.strip().lower()
    if text in ("inf", "infinite", "0"):
        return 0
    try:
        seconds = parse_duration(text, _UNIT_S, fractions=False)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < math.inf:
        raise ValueError(f"{text!r}: expected a duration like 30d, 12h, 2w, or inf")
    if seconds < 3600:
        raise ValueError(f"{text!r}: InfluxDB keeps data at least 1h")
    return int(seconds)


def init_influx(settings: Settings, retention: Retention) -> list[str]:
    """Create or update the layout for ``settings.influx_api``; one report line per step."""
    token = settings.influx_token.get_secret_value() if settings.influx_token else None
    if settings.influx_api == "v1":
        return _V1(settings.influx_url, token).init(settings.influx_database, retention)
    return _init_v2(settings, token, retention)


class _V1:
    def __init__(self, url: str, token: str | None) -> None:
        self._url = f"{url.rstrip('/')}/query"
        self._headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if token:
            self._headers["Authorization"] = f"Token {token}"
        self._pool = urllib3.PoolManager(retries=False, timeout=10.0)

    def query(self, q: str, db: str | None = None) -> list[list[object]]:
        """Run one statement; the values of its first series (empty if none)."""
        form = {"q": q} | ({"db": db} if db else {})
        try:
            response = self._pool.request(
                "POST", self._url, body=urlencode(form), headers=self._headers
            )
        except urllib3.exceptions.HTTPError as exc:
            raise InitError(f"InfluxDB at {self._url} did not answer: {exc}") from None
        doc = json.loads(response.data or b"{}")
        result = (doc.get("results") or [{}])[0]
        error = doc.get("error") or result.get("error")
        if response.status >= 300 or error:
            raise InitError(f"{q}: HTTP {response.status} {error or response.data!r}")
        series = result.get("series") or [{}]
        return series[0].get("values") or []

    def init(self, db: str, retention: Retention) -> list[str]:
        report = []
        if [db] in self.query("SHOW DATABASES"):
            report.append(f"database {db}: unchanged")
        else:
            self.query(f'CREATE DATABASE "{db}"')
            report.append(f"database {db}: created")
        # SHOW RETENTION POLICIES: name, duration ("720h0m0s"), shard duration, replicas, default
        policies = {row[0]: row for row in self.query(f'SHOW RETENTION POLICIES ON "{db}"')}
        default = next(name for name, row in policies.items() if row[4])
        wanted = {default: retention.results_s, RAW_RETENTION_POLICY: retention.raw_s}
        for name, seconds in wanted.items():
            duration = _literal(seconds)
            if name not in policies:
                self.query(
                    f'CREATE RETENTION POLICY "{name}" ON "{db}" DURATION {duration} REPLICATION 1'
                )
                state = "created"
            elif _go_seconds(str(policies[name][1])) != seconds:
                self.query(f'ALTER RETENTION POLICY "{name}" ON "{db}" DURATION {duration}')
                state = "updated"
            else:
                state = "unchanged"
            report.append(f"retention policy {db}.{name} ({duration}): {state}")
        return report


def _literal(seconds: int) -> str:
    """Seconds as an InfluxQL duration literal (``30d``, ``36h``; ``INF`` for 0)."""
    if not seconds:
        return "INF"
    unit = next(u for u in "wdhms" if seconds % _UNIT_S[u] == 0)
    return f"{seconds // _UNIT_S[unit]}{unit}"


def _go_seconds(duration: str) -> int:
    """InfluxDB 1.x durations as it shows them (``720h0m0s``; ``0s`` is forever) -> seconds."""
    return sum(int(n) * _UNIT_S[unit] for n, unit in _GO_DURATION.findall(duration))


def _init_v2(settings: Settings, token: str | None, retention: Retention) -> list[str]:
    report = []
    with InfluxDBClient(settings.influx_url, token=token or "", org=settings.influx_org) as client:
        orgs = client.organizations_api().find_organizations(org=settings.influx_org)
        if not orgs:
            raise InitError(f"organisation {settings.influx_org!r} not found")
        org_id = orgs[0].id
        buckets = client.buckets_api()
        dbrps = DBRPsService(client.api_client)
        layout = (
            (settings.influx_bucket, retention.results_s, RESULTS_RETENTION_POLICY),
            (raw_bucket(settings.influx_bucket), retention.raw_s, RAW_RETENTION_POLICY),
        )
        for name, seconds, policy in layout:
            rules = [BucketRetentionRules(type="expire", every_seconds=seconds)] if seconds else []
            bucket = buckets.find_bucket_by_name(name)
            if bucket is None:
                bucket = buckets.create_bucket(bucket_name=name, retention_rules=rules, org=org_id)
                state = "created"
            elif [r.every_seconds for r in bucket.retention_rules or []] != [seconds] * bool(
                seconds
            ):
                bucket.retention_rules = rules
                buckets.update_bucket(bucket)
                state = "updated"
            else:
                state = "unchanged"
            report.append(f"bucket {name} ({_literal(seconds)}): {state}")
            mapped = dbrps.get_dbr_ps(org_id=org_id, db=settings.influx_database, rp=policy)
            if mapped.content:
                report.append(f"dbrp {settings.influx_database}/{policy}: unchanged")
                continue
            dbrps.post_dbrp(
                DBRPCreate(
                    org_id=org_id,
                    bucket_id=bucket.id,
                    database=settings.influx_database,
                    retention_policy=policy,
                    default=policy == RESULTS_RETENTION_POLICY,
                )
            )
            report.append(f"dbrp {settings.influx_database}/{policy} -> {name}: created")
    return report
