"""A station that is silent across a worker restart is still closed and reported offline.

One partition holds air stations S1, S2 and water sections W1, W2 (2026-11-20 +08:00). A worker
takes S1 and S2's hourly readings 00:00 and 01:00 and W1 and W2's four-hourly ones 00:00 and
04:00, and stops (SIGTERM). A new worker with the same state (memory store: the tables come back
from their changelogs on the broker) takes S2's readings 02:00-09:00 and W1's 08:00-20:00; S1 and
W2 never send again. The new worker learns S1 and W2 from the tables on its first batch of the
partition: S1's open 01:00 hour closes and S1 and W2 go offline, as without the restart.

Tansu under-reports a changelog partition's end offset when its last record batch holds several
records (tests/integration/test_worker_restart.py), and Faust's recovery then stops before it:
the last readings before the stop come one per table, so that each table's last write is a
single record.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.kafka.producer import open_producer
from pipeline.messages import AirReading, AirValues, WaterReading, WaterValues, encode_reading
from pipeline.settings import Settings
from tests.fixtures.worker import START_MS, TopicTail, WorkerProcess, small_city
from tests.integration.conftest import TopicFactory

pytestmark = pytest.mark.integration

T0 = START_MS
H = 3_600_000
AIR = AirValues(pm25=40.0, pm10=60.0, no2=30.0)
WATER = WaterValues(ph=7.2, do=7.0, codmn=3.0, nh3n=0.3, tp=0.1)


def air(station: str, hour: int) -> tuple[bytes, bytes]:
    return station.encode(), encode_reading(AirReading(station, T0 + hour * H, 3600, AIR))


def water(station: str, step: int) -> tuple[bytes, bytes]:
    return station.encode(), encode_reading(WaterReading(station, T0 + step * 4 * H, 14_400, WATER))


def test_a_station_silent_across_a_restart_closes_its_hour_and_goes_offline(
    settings: Settings, topic_factory: TopicFactory, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"partitions": 1})
    topics = topic_factory(settings)
    registry = small_city(tmp_path)

    def send(topic: str, messages: list[tuple[bytes, bytes]]) -> None:
        with open_producer(settings) as producer:
            for key, value in messages:
                producer.send(topic, key, value)

    def worker(name: str) -> WorkerProcess:
        return WorkerProcess(settings, tmp_path, registry_file=registry, name=name)

    with worker("first") as first:
        first.wait_ready()
        send(topics.air_readings, [air("S1", 0), air("S2", 0), air("S1", 1)])
        send(topics.water_readings, [water("W1", 0), water("W2", 0), water("W2", 1)])
        first.wait_for(lambda h: h["readings"] == 6, 30, "the first readings")
        send(topics.air_readings, [air("S2", 1)])  # alone in its batch: see the docstring
        send(topics.water_readings, [water("W1", 1)])
        first.wait_for(lambda h: h["readings"] == 8, 30, "the last readings before the stop")
    assert not first.alive

    with worker("second") as second:
        second.wait_ready()
        send(topics.air_readings, [air("S2", hour) for hour in range(2, 10)])
        send(topics.water_readings, [water("W1", step) for step in range(2, 6)])
        with TopicTail(settings.kafka_bootstrap, topics.alerts) as alerts:
            fired = alerts.until(
                lambda got: {"S1", "W2"} <= offline_subjects(got), 30, "S1 and W2 offline"
            )
        with TopicTail(settings.kafka_bootstrap, topics.air_aqi) as aqi:
            s1 = aqi.until(lambda got: T0 + H in s1_hours(got), 15, "S1's 01:00 hour")

    assert offline_subjects(fired) == {"S1", "W2"}
    assert s1_hours(s1) == [T0, T0 + H]  # 00:00 closed by the first worker, 01:00 by the second


def offline_subjects(alerts: list[dict]) -> set[str]:
    return {
        a["subject"]["id"]
        for a in alerts
        if a["rule"] == "station_offline" and a["state"] == "firing"
    }


def s1_hours(aqi: list[dict]) -> list[int]:
    return sorted(
        m["period_start_ms"] for m in aqi if m["subject"] == "S1" and m["report"] == "hour"
    )
