"""Outage test: InfluxDB stops for 20 s while results keep coming. The sink pauses consumption
(its memory and the records it holds stay bounded), logs the outage once, resumes by itself
when InfluxDB is back, and no point is lost."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pipeline.settings import Settings
from pipeline.topics import Topics
from tests.fixtures import sink_messages as m
from tests.fixtures.servers import InfluxDB
from tests.fixtures.sink_process import SinkProcess, count, produce, v1_settings, wait_for

pytestmark = pytest.mark.integration
BEFORE, DURING = 2000, 20_000
BATCH = 500
OUTAGE_S = 20


def test_influxdb_away_for_20_s_loses_nothing(
    settings: Settings, topics: Topics, influxdb: InfluxDB, tmp_path: Path
) -> None:
    aimed = v1_settings(settings, influxdb)
    db = aimed.namespace
    records = m.aqi_records(topics.air_aqi, 0, BEFORE)
    options = ("--batch-points", str(BATCH), "--linger", "0.1", "--attempts", "2")
    with SinkProcess(aimed, tmp_path, *options, "--backoff-max", "1") as sink:
        produce(aimed, records)
        wait_for(lambda: count(influxdb, db, "aqi", "air_aqi"), lambda n: n == BEFORE, 30, "before")
        rss_before = sink.rss_kib()

        influxdb.stop()
        stopped = time.monotonic()
        try:
            produce(aimed, m.aqi_records(topics.air_aqi, BEFORE, BEFORE + DURING))
            health = wait_for(sink.health, lambda h: h["status"] == "paused", 15, "paused")
            read_at_pause = health["records_read"]
            rss_peak = rss_before
            while time.monotonic() - stopped < OUTAGE_S:
                rss_peak = max(rss_peak, sink.rss_kib())
                time.sleep(0.5)
            health = sink.health()
        finally:
            influxdb.start()
        assert health is not None and health["status"] == "paused"
        assert health["records_read"] - read_at_pause <= 2 * BATCH  # consumption paused
        assert health["records_read"] < BEFORE + DURING / 2
        assert rss_peak - rss_before < 30 * 1024, "memory bounded"

        wait_for(
            lambda: count(influxdb, db, "aqi", "air_aqi"),
            lambda n: n == BEFORE + DURING,
            60,
            "every point after the outage",
        )
        health = wait_for(sink.health, lambda h: h["status"] == "ok", 10, "resumed")
        assert sink.alive and health["outages"] == 1
    log = sink.log()
    assert log.count("influx_unavailable") == 1 and log.count("influx_recovered") == 1
