"""The stream agents on the real broker: a scripted scenario with hand-computed AQI values.

Three stations (two in Futian, one in Luohu) report hourly averages 08:00–11:00 and 13:00 on
2026-11-20 (+08:00, so HJ 633-2026 applies: the real-time PM2.5 IAQI is the 1-h value against the
daily breakpoints 35/60/115). The 13:00 readings close the hours up to 11:00 (grace 15 min).
A fourth station, S5 (Luohu, on S1's partition), reports 08:00 and 09:00 and falls silent: its
09:00 hour is closed by its partition's event time, and it is reported offline.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from pipeline.kafka.producer import open_producer
from pipeline.messages import AirReading, AirValues, encode_reading
from pipeline.settings import Settings
from pipeline.timeutil import parse_timestamp
from pipeline.topics import Topics
from tests.fixtures.worker import WorkerProcess
from tests.integration.conftest import TopicReader

pytestmark = pytest.mark.integration

REGISTRY = """
schema_version: 1
city: {key: testcity, name_zh: 测试市, name_en: Test City}
districts:
  - {id: futian, name_zh: 福田区, name_en: Futian, lat: 22.54, lon: 114.05}
  - {id: luohu, name_zh: 罗湖区, name_en: Luohu, lat: 22.57, lon: 114.15}
air_stations:
  - {id: S1, name_zh: 一号站, name_en: "Station 1", district: futian, lat: 22.55, lon: 114.10}
  - {id: S2, name_zh: 二号站, name_en: "Station 2", district: futian, lat: 22.56, lon: 114.07}
  - {id: S3, name_zh: 三号站, name_en: "Station 3", district: luohu, lat: 22.56, lon: 114.12}
  - {id: S5, name_zh: 五号站, name_en: "Station 5", district: luohu, lat: 22.58, lon: 114.13}
"""
PM25 = {"S1": 80.0, "S2": 40.0, "S3": 20.0}
HOURS = ("08", "09", "10", "11", "13")


def at(hour: str, minute: str = "00") -> int:
    return parse_timestamp(f"2026-11-20T{hour}:{minute}:00+08:00")


@pytest.fixture
def worker(settings: Settings, topics: Topics, tmp_path: Path) -> Iterator[WorkerProcess]:
    """An ``envmon worker`` process for the test's namespace (in-memory tables)."""
    registry = tmp_path / "registry.yaml"
    registry.write_text(REGISTRY, "utf-8")
    with WorkerProcess(settings, tmp_path, registry_file=registry) as process:
        yield process


def test_scenario_aqi_rankings_alerts_and_dead_letters(
    settings: Settings, topics: Topics, worker: WorkerProcess, read_topic: TopicReader
) -> None:
    worker.wait_ready()
    with open_producer(settings) as producer:
        for station, pm25 in PM25.items():
            for hour in HOURS:
                reading = AirReading(station, at(hour), 3600, AirValues(pm25=pm25, pm10=pm25 * 1.2))
                producer.send(topics.air_readings, station.encode(), encode_reading(reading))
        for hour in ("08", "09"):
            reading = AirReading("S5", at(hour), 3600, AirValues(pm25=20.0, pm10=24.0))
            producer.send(topics.air_readings, b"S5", encode_reading(reading))
        late = AirReading("S1", at("08", "30"), 3600, AirValues(pm25=10.0))
        duplicate = AirReading("S2", at("13"), 3600, AirValues(pm25=41.0))
        unknown = AirReading("S9", at("13"), 3600, AirValues(pm25=41.0))
        producer.send(topics.air_readings, b"S1", encode_reading(late))
        producer.send(topics.air_readings, b"S2", encode_reading(duplicate))
        producer.send(topics.air_readings, b"S9", encode_reading(unknown))
        producer.send(topics.air_readings, b"S3", b'{"v": 1, "station": "S3", "ts": ')
    produced = 15 + 2 + 4

    state = worker.wait_for(lambda h: h["messages"] >= produced)
    rejects = state["rejects"]
    assert state["readings"] == 17
    assert rejects == {"late": 1, "duplicate": 1, "unknown_station": 1, "malformed_json": 1}
    assert state["readings"] + sum(rejects.values()) == produced  # counts reconcile

    letters = [
        msgspec.json.decode(r.value)
        for r in read_topic(settings.kafka_bootstrap, topics.deadletter, 4)
    ]
    assert sorted(d["reason"] for d in letters) == [
        "duplicate",
        "late",
        "malformed_json",
        "unknown_station",
    ]
    assert all({"source_topic", "partition", "offset", "raw"} <= d.keys() for d in letters)

    # stations: 4 hours x 3 + 2 hours of S5; districts and city: 08:00 and 09:00 (10:00 and
    # 11:00 wait for S5 until the lag rule); per subject in production order
    aqi = [
        msgspec.json.decode(r.value)
        for r in read_topic(settings.kafka_bootstrap, topics.air_aqi, 20)
    ]
    nine = {m["subject"]: m for m in aqi if m["period_label"] == "2026-11-20T09:00+08:00"}
    assert {k: v["aqi"] for k, v in nine.items()} == {
        "S1": 119,  # 100 + (80 - 60) * 50 / 55 = 118.2 -> 119 (ceiling)
        "S2": 60,  # 50 + (40 - 35) * 50 / 25 = 60
        "S3": 29,  # 20 * 50 / 35 = 28.6 -> 29
        "S5": 29,  # closed by its partition's event time, though S5 sent nothing after 09:00
        "futian": 100,  # IAQI of the mean 60, not the mean of AQIs (89.5)
        "luohu": 29,
        "testcity": 60,  # mean 40 -> 50 + (40 - 35) * 2 = 60
    }
    assert nine["futian"]["valid_stations"] == 2 and nine["testcity"]["valid_stations"] == 4
    assert nine["S1"]["primary"] == ["pm25"] and nine["S1"]["standard"] == "hj633-2026"
    station_hours = {(m["subject"], m["period_start_ms"]) for m in aqi if m["scope"] == "station"}
    assert len(station_hours) == 14

    rankings = [
        msgspec.json.decode(r.value)
        for r in read_topic(settings.kafka_bootstrap, topics.rankings, 4)
    ]
    board = next(
        r
        for r in rankings
        if r["period"] == "2026-11-20T09:00+08:00" and r["board"] == "district_aqi_hour"
    )
    assert [(e["subject"], e["rank"]) for e in board["entries"]] == [("luohu", 1), ("futian", 2)]

    alerts = [
        msgspec.json.decode(r.value) for r in read_topic(settings.kafka_bootstrap, topics.alerts, 1)
    ]
    fired = [a for a in alerts if a["rule"] == "pm25_hourly"]
    assert [(a["subject"]["id"], a["state"], a["severity"]) for a in fired] == [
        ("S1", "firing", "warning")
    ]
    assert fired[0]["started_ms"] == at("08") and fired[0]["event_ms"] == at("09")
