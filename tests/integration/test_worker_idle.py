"""An air station alone on a partition that falls silent, on the real broker.

S1 (partition 1) reports hourly values 00:00 and 01:00 (2026-11-20 +08:00) and falls silent;
S2 (partition 0) reports 00:00–09:00 after partition 1 has had no message for
``ENVMON_WORKER_IDLE_PARTITION_S``. Partition 1 then follows partition 0's event time: S1's
01:00 hour closes (its station AQI comes out) and S1 is reported offline — neither happens
while partition 1 keeps its own event time (01:00).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pipeline.kafka.producer import open_producer
from pipeline.messages import AirReading, AirValues, encode_reading
from pipeline.settings import Settings
from tests.fixtures.worker import START_MS, TopicTail, WorkerProcess, small_city
from tests.integration.conftest import TopicFactory

pytestmark = pytest.mark.integration

T0 = START_MS
H = 3_600_000
VALUES = AirValues(pm25=40.0, pm10=60.0, no2=30.0)


def reading(station: str, hour: int) -> bytes:
    return encode_reading(AirReading(station, T0 + hour * H, 3600, VALUES))


def test_a_station_alone_on_an_idle_partition_closes_its_hour_and_goes_offline(
    settings: Settings, topic_factory: TopicFactory, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"partitions": 2})  # S2 on 0, S1 on 1
    topics = topic_factory(settings)
    registry = small_city(tmp_path)
    idle_s = 2.0
    with WorkerProcess(settings, tmp_path, registry_file=registry, idle_partition_s=idle_s) as w:
        w.wait_ready()
        with open_producer(settings) as producer:
            for hour in (0, 1):
                producer.send(topics.air_readings, b"S1", reading("S1", hour), partition=1)
        w.wait_for(lambda h: h["readings"] == 2, 30, "S1's readings")
        time.sleep(idle_s)  # partition 1 is idle from now on
        with open_producer(settings) as producer:
            for hour in range(10):
                producer.send(topics.air_readings, b"S2", reading("S2", hour), partition=0)
        with TopicTail(settings.kafka_bootstrap, topics.alerts) as alerts:
            fired = alerts.until(
                lambda got: any(a["rule"] == "station_offline" for a in got), 30, "S1 offline"
            )
        with TopicTail(settings.kafka_bootstrap, topics.air_aqi) as aqi:
            s1 = aqi.until(
                lambda got: any(m["subject"] == "S1" and m["report"] == "hour" for m in got),
                15,
                "S1's hours",
            )

    offline = [a for a in fired if a["rule"] == "station_offline"]
    assert [(a["subject"]["id"], a["state"]) for a in offline] == [("S1", "firing")]
    s1_hours = sorted(
        m["period_start_ms"] for m in s1 if m["subject"] == "S1" and m["report"] == "hour"
    )
    assert s1_hours == [T0, T0 + H]  # 01:00 closed by the partition it followed
