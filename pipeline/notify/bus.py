"""The notifier's side topics from the command line: publish an ack or a silence, read the
silences (the compacted ``{ns}.silences`` from its beginning: the latest record per id wins)."""

from __future__ import annotations

import time

import msgspec
from kafka import KafkaConsumer, TopicPartition

from pipeline.kafka.config import kafka_python_config
from pipeline.kafka.producer import open_producer
from pipeline.messages.notify import AlertAck, Silence
from pipeline.notify.silences import SilenceBook, decode_silence
from pipeline.settings import Settings
from pipeline.topics import Topics


def publish_ack(settings: Settings, ack: AlertAck) -> None:
    with open_producer(settings, "kafka-python", delivery_timeout=15) as producer:
        producer.send(Topics(settings.namespace).alert_acks, ack.alert_id.encode(), _json(ack))


def publish_silence(settings: Settings, silence: Silence) -> None:
    with open_producer(settings, "kafka-python", delivery_timeout=15) as producer:
        producer.send(Topics(settings.namespace).silences, silence.id.encode(), _json(silence))


def _json(message: msgspec.Struct) -> bytes:
    return msgspec.json.encode(message)


def read_silences(settings: Settings, timeout: float = 10.0) -> list[Silence]:
    """Every silence on record (active or not), the latest per id, oldest first."""
    book = SilenceBook()
    topic = Topics(settings.namespace).silences
    consumer = KafkaConsumer(**kafka_python_config(settings), enable_auto_commit=False)
    try:
        ids = consumer.partitions_for_topic(topic) or set()
        partitions = [TopicPartition(topic, p) for p in sorted(ids)]
        if not partitions:
            return []
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end = consumer.end_offsets(partitions)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(
            consumer.position(tp) < end[tp] for tp in partitions
        ):
            for records in consumer.poll(timeout_ms=200).values():
                for record in records:
                    value = decode_silence(record.value) if record.value else None
                    book.apply(record.key.decode() if record.key else "", value)
        return sorted(book.all(), key=lambda s: s.created_ms)
    finally:
        consumer.close()
