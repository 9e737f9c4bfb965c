"""``envmon replay list`` and ``envmon replay drop``: replay namespaces, their checkpoints, their
topics (the namespace's and the stream worker's internal ones) and their points in InfluxDB."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlencode

import urllib3
from influxdb_client import InfluxDBClient

from pipeline.kafka.admin import admin_client
from pipeline.replay.checkpoint import Checkpoint, checkpoint_path
from pipeline.replay.naming import REPLAY_PREFIX, run_of
from pipeline.settings import Settings
from pipeline.sinks.influx import raw_bucket
from pipeline.sinks.runs import replay_influx, run_tag
from pipeline.topics import Topics


@dataclass(frozen=True)
class ReplayInfo:
    namespace: str
    topics: int
    checkpoint: Checkpoint | None


def _topics_of(names: list[str], namespace: str) -> list[str]:
    """The namespace's topics and the stream worker's (Faust names them ``envmon-{ns}-…``)."""
    ours = set(Topics(namespace).names())
    return sorted(n for n in names if n in ours or n.startswith(f"envmon-{namespace}-"))


def list_replays(settings: Settings) -> list[ReplayInfo]:
    with admin_client(settings) as admin:
        names = list(admin.list_topics())
    namespaces = {n.split(".", 1)[0] for n in names if n.startswith(REPLAY_PREFIX) and "." in n}
    folder = settings.state_dir / "replay"
    if folder.is_dir():
        namespaces |= {p.stem for p in folder.glob(f"{REPLAY_PREFIX}*.json")}
    infos = []
    for namespace in sorted(n for n in namespaces if run_of(n)):
        path = checkpoint_path(settings.state_dir, namespace)
        checkpoint = Checkpoint.load(path) if path.exists() else None
        infos.append(ReplayInfo(namespace, len(_topics_of(names, namespace)), checkpoint))
    return infos


def drop_replay(settings: Settings, run: str) -> list[str]:
    """Delete everything of replay ``run``; one report line per step."""
    namespace = REPLAY_PREFIX + run
    report = []
    with admin_client(settings) as admin:
        topics = _topics_of(list(admin.list_topics()), namespace)
        if topics:
            admin.delete_topics(topics)
    report.append(f"topics deleted: {len(topics)}")
    report.append(_drop_points(settings, run))
    path = checkpoint_path(settings.state_dir, namespace)
    if path.exists():
        path.unlink()
        report.append(f"checkpoint deleted: {path}")
    return report


def _drop_points(settings: Settings, run: str) -> str:
    """Delete the points tagged ``run=<id>`` from the replay database/bucket."""
    target = replay_influx(settings)
    token = settings.influx_token.get_secret_value() if settings.influx_token else None
    try:
        if settings.influx_api == "v1":
            return _drop_points_v1(target, token, run)
        with InfluxDBClient(target.influx_url, token=token or "", org=target.influx_org) as client:
            for bucket in (target.influx_bucket, raw_bucket(target.influx_bucket)):
                client.delete_api().delete(
                    "1970-01-01T00:00:00Z", "2262-01-01T00:00:00Z", f'run="{run}"', bucket
                )
        return f"points with run={run} deleted from bucket {target.influx_bucket} (and -raw)"
    except Exception as exc:  # InfluxDB away or refusing: the topics are gone anyway
        return f"points with run={run} NOT deleted from InfluxDB at {target.influx_url}: {exc}"


def _drop_points_v1(target: Settings, token: str | None, run: str) -> str:
    tag = run_tag(run)[len(",run=") :].replace("'", "\\'")
    query = f"DROP SERIES WHERE \"run\" = '{tag}'"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if token:
        headers["Authorization"] = f"Token {token}"
    response = urllib3.PoolManager(retries=False, timeout=10.0).request(
        "POST",
        f"{target.influx_url.rstrip('/')}/query",
        body=urlencode({"q": query, "db": target.influx_database}),
        headers=headers,
    )
    doc = json.loads(response.data or b"{}")
    error = doc.get("error") or (doc.get("results") or [{}])[0].get("error")
    if response.status >= 300 or error:
        if error and "database not found" in str(error):
            return f"no database {target.influx_database}: no points to delete"
        raise RuntimeError(f"HTTP {response.status} {error}")
    return f"points with run={run} deleted from database {target.influx_database}"
