"""Crash test: ``kill -9`` the sink while results stream in, start it again, and InfluxDB still
holds exactly one point per result: the uncommitted batches are written again, onto the same
points."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from pipeline.settings import Settings
from pipeline.topics import Topics
from tests.fixtures import sink_messages as m
from tests.fixtures.servers import InfluxDB
from tests.fixtures.sink_process import SinkProcess, count, produce, v1_settings, wait_for

pytestmark = pytest.mark.integration
N = 6000


def test_kill_9_and_restart_leaves_exactly_n_points(
    settings: Settings, topics: Topics, influxdb: InfluxDB, tmp_path: Path
) -> None:
    aimed = v1_settings(settings, influxdb)
    db = aimed.namespace
    records = m.aqi_records(topics.air_aqi, 0, N)
    options = ("--batch-points", "200", "--linger", "0.05", "--session-timeout-ms", "3000")

    with SinkProcess(aimed, tmp_path, *options) as sink:
        producer = threading.Thread(target=produce, args=(aimed, records))
        producer.start()
        written = wait_for(
            lambda: (sink.health() or {}).get("points_written", 0),
            lambda n: n >= 600,
            30,
            "points written before the kill",
        )
        sink.kill()
        in_influx = count(influxdb, db, "aqi", "air_aqi")
        assert written <= in_influx < N, "killed mid-run"
        producer.join()

        sink.start()
        final = wait_for(
            lambda: count(influxdb, db, "aqi", "air_aqi"), lambda n: n >= N, 60, "all points"
        )
        wait_for(sink.health, lambda h: h["lag"] == 0, 15, "sink caught up")
        assert count(influxdb, db, "aqi", "air_aqi") == final == N
