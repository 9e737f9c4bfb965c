"""The ranking boards on the real broker: a whole natural day of two districts, hand-computed.

Futian (stations S1, S2) and Luohu (S3) report every hour of 2026-11-20 (+08:00) with all six
pollutants, alternating ±1 around a level (so no value is flagged as a flatline; every daily mean
and 8-h mean is the level itself): Futian at the worked example of rankings.yaml (SO2 9, NO2 15,
PM10 39, PM2.5 21, CO 0.7, O3 192 -> composite index 3.06), Luohu at half of it (1.53). A reading
at 01:00 the next day closes the 23:00 hour (grace 15 min) and so the day; the district days go
through ``rankings-forward`` and ``{ns}.rankings.inputs`` to the ``rankings`` agent, which ranks
the month and the year to date.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from pipeline.kafka.producer import open_producer
from pipeline.messages import AirReading, AirValues, encode_reading
from pipeline.settings import Settings
from pipeline.stack.servers import free_port
from pipeline.timeutil import HOUR_MS, parse_timestamp
from pipeline.topics import Topics
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
"""
EXAMPLE = {"so2": 9.0, "no2": 15.0, "pm10": 39.0, "pm25": 21.0, "co": 0.7, "o3": 192.0}
LEVELS = {
    "S1": EXAMPLE,
    "S2": EXAMPLE,
    "S3": {k: v / 2 for k, v in EXAMPLE.items()},
}
DAY = parse_timestamp("2026-11-20T00:00:00+08:00")


def values(level: dict[str, float], hour: int) -> AirValues:
    """The level ± 1 (CO ± 0.1), alternating by hour."""
    sign = 1 if hour % 2 else -1
    return AirValues(**{k: v + sign * (0.1 if k == "co" else 1.0) for k, v in level.items()})


@pytest.fixture
def worker(settings: Settings, topics: Topics, tmp_path: Path) -> Iterator[str]:
    """An ``envmon worker`` process for the test's namespace; yields its health URL."""
    registry = tmp_path / "registry.yaml"
    registry.write_text(REGISTRY, "utf-8")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENVMON_")} | {
        "ENVMON_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "ENVMON_NAMESPACE": settings.namespace,
        "ENVMON_PARTITIONS": str(settings.partitions),
        "ENVMON_REGISTRY_FILE": str(registry),
        "ENVMON_TABLE_STORE": "memory",
        "ENVMON_STATE_DIR": str(tmp_path / "state"),
        "ENVMON_WORKER_WEB_PORT": str(port),
        "ENVMON_CONSUMER_SESSION_TIMEOUT_S": "6",
    }
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 — closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "worker"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        yield f"http://127.0.0.1:{port}/health"
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def wait_for(url: str, predicate, timeout: float = 60) -> dict:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    last: dict = {}
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                last = json.load(response)
            if predicate(last):
                return last
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"worker health never matched; last: {last}")


def test_district_composite_month_and_year_to_date(
    settings: Settings, topics: Topics, worker: str, read_topic: TopicReader
) -> None:
    wait_for(worker, lambda h: True)
    with open_producer(settings) as producer:
        for hour in range(25):  # 00:00 .. 23:00, and 01:00 the next day closes the day
            ts = DAY + (hour if hour < 24 else 25) * HOUR_MS
            for station, level in LEVELS.items():
                reading = AirReading(station, ts, 3600, values(level, hour))
                producer.send(topics.air_readings, station.encode(), encode_reading(reading))
    state = wait_for(worker, lambda h: h["messages"] >= 75)
    assert state["readings"] == 75 and not state["rejects"]

    # 24 hourly district boards, 24 hourly station boards, then the two day boards
    boards: dict[str, list[dict]] = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "district_composite_ytd" not in boards:
        boards = {}
        for record in read_topic(settings.kafka_bootstrap, topics.rankings, 50, timeout=5):
            message = msgspec.json.decode(record.value)
            boards.setdefault(message["board"], []).append(message)
    (mtd,) = boards["district_composite_mtd"]
    (ytd,) = boards["district_composite_ytd"]
    assert (mtd["period"], ytd["period"]) == ("2026-11", "2026")
    assert mtd["ts_ms"] == ytd["ts_ms"] == DAY
    for board in (mtd, ytd):
        assert [
            (e["subject"], e["rank"], e["score"], e["rank_change"], e["valid_stations"])
            for e in board["entries"]
        ] == [("luohu", 1, 1.53, None, 1), ("futian", 2, 3.06, None, 2)]

    # the stations' hourly board closes its hours as the district board does (in this burst the
    # worker may read one station's partition hours ahead: early hours can close without a
    # station, for both boards alike); S1 and S2 report alike and share a rank
    station_boards = {b["ts_ms"]: b for b in boards["station_aqi_hour"]}  # the last of each hour
    assert sorted(station_boards) == [DAY + h * HOUR_MS for h in range(24)]
    last = station_boards[DAY + 23 * HOUR_MS]
    assert last["period"] == "2026-11-20T23:00+08:00"
    assert [(e["subject"], e["rank"]) for e in last["entries"]] == [("S3", 1), ("S1", 2), ("S2", 2)]
