"""Reproduction: Tansu 0.6 answers ListOffsets by timestamp (``offsets_for_times``) with the
partition's first offset, whatever the time asked: ``python -m bench.tansu_offsets_for_times``.

Twenty records with timestamps one second apart; asking for the first record at or after the
sixth one's timestamp should answer offset 5 (Kafka does); Tansu answers 0, and also 0 for a time
after the last record (Kafka: no offset). ``envmon replay`` therefore uses the answer only as a
lower bound and filters by event time (pipeline/replay/kafka_range.py).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from pipeline.stack.servers import TansuBroker, tansu_binary

BASE_MS = 1_700_000_000_000


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        broker = TansuBroker(tansu_binary(), Path(tmp))
        broker.start()
        try:
            KafkaAdminClient(bootstrap_servers=broker.bootstrap).create_topics(
                [NewTopic("t", 1, 1)]
            )
            producer = KafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=5)
            for i in range(20):
                producer.send("t", value=b"%d" % i, partition=0, timestamp_ms=BASE_MS + i * 1000)
            producer.flush()
            consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap)
            tp = TopicPartition("t", 0)
            middle = consumer.offsets_for_times({tp: BASE_MS + 5_000})[tp]
            after = consumer.offsets_for_times({tp: BASE_MS + 60_000})[tp]
            print(f"first offset at/after the 6th record's time: {middle} (Kafka: offset 5)")
            print(f"first offset after the last record's time: {after} (Kafka: None)")
            consumer.close()
        finally:
            broker.stop()


if __name__ == "__main__":
    main()
