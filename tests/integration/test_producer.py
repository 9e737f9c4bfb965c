"""The producer layer against real Tansu brokers, for both backends."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from pipeline.kafka.admin import ensure_topics
from pipeline.kafka.producer import ProducerUnavailable, open_producer
from pipeline.settings import Settings, load_settings
from pipeline.topics import Topics
from tests.fixtures.servers import TansuBroker, free_port

pytestmark = pytest.mark.integration

BACKENDS = pytest.mark.parametrize("backend", ["kafka-python", "confluent"])
STATIONS = [f"4403000{i:02d}".encode() for i in range(7)]


def produce(settings: Settings, backend: str, topic: str, count: int, **options: float) -> None:
    """Send ``count`` records round-robin over ``STATIONS``, values numbered per station."""
    with open_producer(settings, backend, **options) as producer:
        for i in range(count):
            producer.send(topic, STATIONS[i % len(STATIONS)], str(i // len(STATIONS)).encode())
    assert (producer.sent, producer.delivered, producer.failed) == (count, count, 0)


def assert_all_in_order(records: list, count: int) -> None:
    """Every record arrived once, and each station's values are 0, 1, 2, ... in offset order."""
    assert len(records) == count
    per_station: dict[bytes, list[int]] = {}
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        per_station.setdefault(record.key, []).append(int(record.value))
    assert set(per_station) == set(STATIONS)
    for values in per_station.values():
        assert values == list(range(len(values)))


@BACKENDS
def test_every_record_arrives_once_in_station_order(
    backend: str, settings: Settings, topics: Topics, read_topic: Callable[..., list]
) -> None:
    produce(settings, backend, topics.air_readings, 3000)

    assert_all_in_order(read_topic(settings.kafka_bootstrap, topics.air_readings, 3000), 3000)


@BACKENDS
def test_broker_that_comes_up_within_the_retry_window_loses_nothing(
    backend: str,
    fresh_broker: Callable[..., TansuBroker],
    namespace: str,
    read_topic: Callable[..., list],
) -> None:
    broker = fresh_broker(start=False)
    settings = load_settings(env={}, kafka_bootstrap=broker.bootstrap, partitions=3)

    def start_later() -> None:
        time.sleep(3)
        broker.start()
        # Memory storage starts empty: create the topics now (the producer may have
        # auto-created one first; ensure_topics then reports it as existing).
        ensure_topics(settings, namespace)

    with ThreadPoolExecutor(1) as pool:
        started = pool.submit(start_later)
        produce(settings, backend, Topics(namespace).air_readings, 500, delivery_timeout=20)
        started.result()

    records = read_topic(broker.bootstrap, Topics(namespace).air_readings, 500)
    assert_all_in_order(records, 500)


@BACKENDS
def test_broker_that_stays_down_raises_unavailable_naming_it(backend: str) -> None:
    bootstrap = f"127.0.0.1:{free_port()}"
    settings = load_settings(env={}, kafka_bootstrap=bootstrap)
    began = time.monotonic()

    with pytest.raises(ProducerUnavailable, match=bootstrap):  # noqa: SIM117
        with open_producer(settings, backend, delivery_timeout=2) as producer:
            producer.send("env.air.readings", STATIONS[0], b"0")

    assert time.monotonic() - began < 5


@BACKENDS
def test_full_buffer_blocks_and_nothing_is_lost_silently_when_broker_goes_away(
    backend: str, fresh_broker: Callable[..., TansuBroker], namespace: str
) -> None:
    broker = fresh_broker()
    settings = load_settings(env={}, kafka_bootstrap=broker.bootstrap, partitions=1)
    topic = Topics(namespace).air_readings
    ensure_topics(settings, namespace)

    with pytest.raises(ProducerUnavailable, match=broker.bootstrap):  # noqa: SIM117
        with open_producer(settings, backend, delivery_timeout=2, max_pending=5) as producer:
            producer.send(topic, STATIONS[0], b"0")
            producer.flush()
            broker.stop()
            for i in range(1, 6):
                producer.send(topic, STATIONS[0], str(i).encode())
            began = time.monotonic()
            try:  # the buffer is full: blocks until records expire, or raises
                producer.send(topic, STATIONS[0], b"6")
            finally:
                blocked = time.monotonic() - began

    assert blocked > 1
    assert producer.delivered == 1
    assert producer.failed >= 5
    assert producer.sent == producer.delivered + producer.failed
