"""``envmon sink`` on the v1 path against real Debian InfluxDB 1.x and a real Tansu broker."""

from __future__ import annotations

import subprocess
from pathlib import Path

import msgspec
import pytest

from pipeline.messages import DeadLetter
from pipeline.settings import Settings
from pipeline.topics import Topics
from tests.fixtures import sink_messages as m
from tests.fixtures.servers import InfluxDB
from tests.fixtures.sink_process import (
    ENVMON,
    SinkProcess,
    count,
    produce,
    rows,
    settings_env,
    v1_settings,
    wait_for,
    write_line,
)

pytestmark = pytest.mark.integration
N_AQI, N_WQ, N_RANKINGS, N_ALERTS, N_AIR, N_WATER = 300, 40, 25, 30, 120, 60


def test_influx_init_is_idempotent(settings: Settings, influxdb: InfluxDB) -> None:
    db = settings.namespace
    aimed = settings.model_copy(
        update={"influx_url": influxdb.url, "influx_api": "v1", "influx_database": db}
    )

    def init(*options: str) -> str:
        run = subprocess.run(
            [ENVMON, "influx", "init", *options],
            env=settings_env(aimed),
            capture_output=True,
            text=True,
            check=True,
        )
        return run.stdout

    first = init()
    assert f"database {db}: created" in first
    assert f"retention policy {db}.raw (30d): created" in first
    assert f"retention policy {db}.raw (2w): updated" in init("--raw-retention", "2w")
    assert f"retention policy {db}.raw (30d): updated" in init()
    ours = [line for line in init().splitlines() if f" {db}" in line]  # not the replay database
    assert len(ours) == 3 and all(line.endswith(": unchanged") for line in ours)
    policies = {row["name"]: row for row in rows(influxdb, db, "SHOW RETENTION POLICIES")}
    assert policies["raw"]["duration"] == "720h0m0s"
    assert policies["autogen"]["duration"] == "0s" and policies["autogen"]["default"]


def test_n_results_become_exactly_n_points(
    settings: Settings, topics: Topics, influxdb: InfluxDB, tmp_path: Path, read_topic
) -> None:
    aimed = v1_settings(settings, influxdb)
    db = aimed.namespace
    odd = m.encode(m.aqi(0, m.ODD_ID, m.ODD_NAME))
    records = [(topics.air_aqi, b"odd", odd)]
    records += [(topics.air_aqi, b"3305A", m.encode(m.aqi(i))) for i in range(1, N_AQI)]
    records += [(topics.water_quality, b"w", m.encode(m.water_quality(i))) for i in range(N_WQ)]
    records += [(topics.rankings, b"r", m.encode(m.ranking(i))) for i in range(N_RANKINGS)]
    records += [(topics.alerts, b"a", m.encode(m.alert(i))) for i in range(N_ALERTS)]
    records += [(topics.air_readings, b"3305A", m.air_reading(i)) for i in range(N_AIR)]
    records += [(topics.water_readings, b"w", m.water_reading(i)) for i in range(N_WATER)]
    records += [(topics.air_aqi, b"bad", b'{"v": 1, "scope": "nowhere"}')]
    produce(aimed, records)

    with SinkProcess(aimed, tmp_path) as sink:
        wait_for(lambda: count(influxdb, db, "aqi", "air_aqi"), lambda n: n >= N_AQI, 30, "air_aqi")
        expected = {
            ("aqi", "air_aqi"): N_AQI,
            ("cwqi", "water_quality"): N_WQ,
            ("rank", "ranking"): 2 * N_RANKINGS,
            ("active", "alert"): N_ALERTS,
            ("pm25", '"raw"."air_reading"'): N_AIR,
            ("nh3n", '"raw"."water_reading"'): N_WATER,
            ("count", "deadletter"): 1,
        }
        got = wait_for(
            lambda: {key: count(influxdb, db, *key) for key in expected},
            lambda got: got == expected,
            30,
            "point counts",
        )
        assert got == expected
        (point,) = rows(influxdb, db, f"SELECT * FROM air_aqi WHERE subject = '{m.ODD_ID}'")
        assert (point["name_zh"], point["aqi"], point["district"]) == (m.ODD_NAME, 57, "futian")
        assert point["time"] == m.BASE_MS

        health = wait_for(sink.health, lambda h: h["lag"] == 0 and h["batches_written"], 10, "lag")
        assert health["status"] == "ok"
        assert health["records_dead_lettered"] == 1
        assert 'envmon_sink_records_dead_lettered_total{namespace="' in sink.metrics()
        kinds = wait_for(
            lambda: {r["kind"] for r in rows(influxdb, db, "SELECT * FROM pipeline")},
            lambda kinds: kinds >= {"sink", "lag", "deadletter"},
            10,
            "pipeline measurement",
        )
        assert kinds >= {"sink", "lag", "deadletter"}
        assert sink.stop() == 0

    (record,) = read_topic(aimed.kafka_bootstrap, topics.deadletter, 1)
    letter = msgspec.json.decode(record.value, type=DeadLetter)
    assert (letter.reason, letter.source_topic) == ("wrong_type", topics.air_aqi)


def test_a_point_influxdb_rejects_is_dead_lettered_and_the_rest_written(
    settings: Settings, topics: Topics, influxdb: InfluxDB, tmp_path: Path, read_topic
) -> None:
    aimed = v1_settings(settings, influxdb)
    db = aimed.namespace
    # In the shard of 2020-01-01, `aqi` is a string: an integer `aqi` there is a type conflict.
    poison_ms = 1_577_836_800_000
    write_line(influxdb, db, f'air_aqi,subject=x aqi="text" {poison_ms}')
    poison = msgspec.structs.replace(m.aqi(0, "3306A"), period_start_ms=poison_ms)
    good = [m.aqi(i) for i in range(1, 41)]
    records = [(topics.air_aqi, b"k", m.encode(msg)) for msg in good[:20]]
    records += [(topics.air_aqi, b"k", m.encode(poison))]
    records += [(topics.air_aqi, b"k", m.encode(msg)) for msg in good[20:]]
    produce(aimed, records)

    with SinkProcess(aimed, tmp_path):
        (record,) = read_topic(aimed.kafka_bootstrap, topics.deadletter, 1, timeout=30)
        wait_for(lambda: count(influxdb, db, "level", "air_aqi"), lambda n: n == 40, 10, "good")
    letter = msgspec.json.decode(record.value, type=DeadLetter)
    assert letter.reason == "influx_rejected"
    assert "field type conflict" in letter.detail
    assert msgspec.json.decode(letter.raw.encode(), type=dict)["subject"] == "3306A"
    assert count(influxdb, db, "level", "air_aqi") == 40  # the poison point's fields: none
