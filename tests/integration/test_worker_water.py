"""Water sections on the real broker: the offline alert by partition event time, QC-flagged
values on ``{ns}.qc``, and the worker's lag and table sizes on /health and /metrics.

Two sections of one river report every 4 h from 00:00 (2026-11-20 +08:00), on one partition.
W2 sends 00:00 and 04:00 (its NH3-N at 04:00 carries the HJ 212 flag ``D``, a device fault) and
falls silent; W1 goes on. At W1's 16:00 reading the partition's event time is three intervals
past W2's last reading: ``station_offline`` fires for W2 (rule ``>= 3``, judged on the tick, not
on W2's data, which does not come). W2's reading at 20:00 resolves it.

When W2 has a partition of its own, that partition has no event time once W2 is silent: after
``ENVMON_WORKER_IDLE_PARTITION_S`` without a message it follows W1's partition, and the same
alert fires.
"""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

import pytest

from pipeline.kafka.producer import open_producer
from pipeline.messages import WaterReading, WaterValues, encode_reading
from pipeline.settings import Settings
from tests.fixtures.worker import START_MS, TopicTail, WorkerProcess, small_city
from tests.integration.conftest import TopicFactory

pytestmark = pytest.mark.integration

T0 = START_MS
H4 = 4 * 3_600_000
VALUES = WaterValues(ph=7.2, do=7.0, codmn=3.0, nh3n=0.3, tp=0.1)


def reading(station: str, step: int, flags: dict[str, str] | None = None) -> bytes:
    return encode_reading(WaterReading(station, T0 + step * H4, 14_400, VALUES, flags or {}))


def test_a_silent_section_goes_offline_by_timer_and_comes_back(
    settings: Settings, topic_factory: TopicFactory, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"partitions": 1})  # one partition clock for both
    topics = topic_factory(settings)
    registry = small_city(tmp_path)
    with WorkerProcess(settings, tmp_path, registry_file=registry) as worker:
        worker.wait_ready()
        with open_producer(settings) as producer:
            for step in range(5):  # 00:00 .. 16:00
                producer.send(topics.water_readings, b"W1", reading("W1", step))
            producer.send(topics.water_readings, b"W2", reading("W2", 0))
            producer.send(topics.water_readings, b"W2", reading("W2", 1, {"nh3n": "D"}))
        with TopicTail(settings.kafka_bootstrap, topics.alerts) as alerts:
            fired = alerts.until(lambda got: len(got) >= 1, 30, "W2 offline", quiet_s=1.5)
            with open_producer(settings) as producer:
                producer.send(topics.water_readings, b"W1", reading("W1", 5))
                producer.send(topics.water_readings, b"W2", reading("W2", 5))
            events = alerts.until(lambda got: len(got) >= 2, 30, "W2 back", quiet_s=1.5)
        health = worker.wait_for(
            lambda h: h["lag"].get(f"{topics.water_readings}:0", {}).get("lag") == 0,
            15,
            "the readings committed (lag 0)",
        )
        with urllib.request.urlopen(f"http://127.0.0.1:{worker.port}/metrics", timeout=5) as r:
            metrics = r.read().decode()
        with TopicTail(settings.kafka_bootstrap, topics.qc) as qc:
            flagged = qc.until(lambda got: len(got) >= 1, 15, "the flagged value")

    assert [(a["rule"], a["subject"]["id"], a["state"]) for a in fired] == [
        ("station_offline", "W2", "firing")
    ]
    assert fired[0]["event_ms"] == T0 + 4 * H4 and fired[0]["value"] == 3.0
    assert [(a["subject"]["id"], a["state"], a["event_ms"]) for a in events[1:]] == [
        ("W2", "resolved", T0 + 5 * H4)
    ]
    assert [
        (m["station"], m["kind"], m["parameter"], m["value"], m["flags"], m["ts_ms"])
        for m in flagged
    ] == [("W2", "water", "nh3n", 0.3, ["device"], T0 + H4)]

    lag = health["lag"][f"{topics.water_readings}:0"]
    assert lag["end"] == 9 and lag["committed"] == 9  # nine readings, all committed
    assert health["table_sizes"]["water-station-alerts"] == 1  # W2's offline alert state
    assert f'envmon_worker_lag{{topic="{topics.water_readings}",partition="0"}} 0' in metrics
    assert 'envmon_worker_table_size{table="water-station-alerts"} 1' in metrics
    assert health["readings"] == 9


def test_a_section_alone_on_a_silent_partition_goes_offline_once_the_partition_is_idle(
    settings: Settings, topic_factory: TopicFactory, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"partitions": 2})  # W1 on 0, W2 on 1
    topics = topic_factory(settings)
    registry = small_city(tmp_path)
    idle_s = 2.0
    with WorkerProcess(settings, tmp_path, registry_file=registry, idle_partition_s=idle_s) as w:
        w.wait_ready()
        with TopicTail(settings.kafka_bootstrap, topics.alerts) as alerts:
            with open_producer(settings) as producer:
                producer.send(topics.water_readings, b"W2", reading("W2", 0), partition=1)
                producer.send(topics.water_readings, b"W2", reading("W2", 1), partition=1)
            w.wait_for(lambda h: h["readings"] == 2, 30, "W2's readings")
            time.sleep(idle_s)  # W2's partition is idle from now on
            with open_producer(settings) as producer:
                for step in range(5):  # 00:00 .. 16:00, on the other partition
                    producer.send(topics.water_readings, b"W1", reading("W1", step), partition=0)
            fired = alerts.until(lambda got: len(got) >= 1, 30, "W2 offline", quiet_s=1.5)
            with open_producer(settings) as producer:
                producer.send(topics.water_readings, b"W2", reading("W2", 5), partition=1)
            events = alerts.until(lambda got: len(got) >= 2, 30, "W2 back", quiet_s=1.5)

    assert [(a["rule"], a["subject"]["id"], a["state"], a["event_ms"]) for a in fired] == [
        ("station_offline", "W2", "firing", T0 + 4 * H4)  # at W1's partition's event time
    ]
    assert [(a["subject"]["id"], a["state"], a["event_ms"]) for a in events[1:]] == [
        ("W2", "resolved", T0 + 5 * H4)
    ]
