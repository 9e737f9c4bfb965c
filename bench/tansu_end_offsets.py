"""Minimal reproduction: Tansu 0.6 reports a partition's end offset too low.

``python bench/tansu_end_offsets.py`` starts Tansu (memory storage) on a free port, produces
ten records in one produce request (one record batch), then a single record, and compares the
end offset from ListOffsets(latest) with the high watermark of a fetch response and with the
records actually read. Kafka answers 10 and then 11 everywhere. Tansu answers ListOffsets with
the base offset of the last batch plus one (1, then 11), while its fetch high watermark is right:
a lag computed from ListOffsets is short by the size of the last batch minus one. Exit status 1
when the answers disagree.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from pipeline.stack.servers import TansuBroker, tansu_binary

TOPIC = "end-offsets"
TP = TopicPartition(TOPIC, 0)


def answers(bootstrap: str) -> tuple[int, int, int]:
    """(ListOffsets latest, fetch high watermark, records read) of partition 0."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        listed = consumer.end_offsets([TP])[TP]
        consumer.assign([TP])
        consumer.seek_to_beginning(TP)
        read = sum(len(batch) for _ in range(5) for batch in consumer.poll(300).values())
        return listed, consumer.highwater(TP) or 0, read
    finally:
        consumer.close()


def main() -> int:
    workdir = tempfile.mkdtemp(prefix="tansu-")  # keeps the broker log for a look afterwards
    tansu = TansuBroker(tansu_binary(), Path(workdir))
    tansu.start()
    bootstrap = tansu.bootstrap
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        admin.create_topics([NewTopic(TOPIC, 1, 1)])
        admin.close()
        producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=1000)
        results = []
        for label, count in (("10 records in one batch", 10), ("then 1 more record", 1)):
            for i in range(count):
                producer.send(TOPIC, f"record {i}".encode())
            producer.flush()
            results.append((label, *answers(bootstrap)))
        producer.close()
    finally:
        tansu.stop()
    print(f"{'after':26} {'ListOffsets(latest)':>20} {'fetch high watermark':>21} {'records':>8}")
    for label, listed, high, read in results:
        print(f"{label:26} {listed:>20} {high:>21} {read:>8}")
    wrong = [r for r in results if not r[1] == r[2] == r[3]]
    print("Tansu end offsets: " + ("TOO LOW (bug reproduced)" if wrong else "correct"))
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
