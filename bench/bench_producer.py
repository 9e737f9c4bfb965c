"""Producer throughput of a simulator backfill: ``python -m bench.bench_producer`` (by hand).

For each backend (kafka-python, confluent-kafka) it measures, against a real Tansu broker started
for the run: the raw limit — a bare producer loop of that library sending the same pre-encoded
envelopes — and envmon's backfill path (generate, encode envelopes, send through the producer
layer, flush). Rates are readings/s, median of REPEATS. Targets: ≥ 60 % of the raw limit on each
backend and ≥ 50,000 readings/s on confluent-kafka.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from confluent_kafka import Producer as ConfluentProducer
from kafka import KafkaProducer

from bench.common import print_table
from pipeline.commands.simulate import _run
from pipeline.kafka.admin import ensure_topics
from pipeline.kafka.producer import open_producer
from pipeline.registry import Registry
from pipeline.settings import load_settings
from pipeline.sources.publish import Publisher
from pipeline.sources.simulator import FaultConfig, SimPlan, Simulator
from pipeline.sources.simulator.stations import synthetic_registry
from pipeline.stack.servers import TansuBroker, tansu_binary
from pipeline.timeutil import HOUR_MS, parse_timestamp
from pipeline.topics import Topics

REPEATS = 3
STATIONS = 1000
HOURS = 3
T0 = parse_timestamp("2026-11-20T00:00:00+08:00")


def envelopes(registry: Registry) -> tuple[list[tuple[str, bytes, bytes]], int]:
    """The messages one backfill sends, pre-encoded, and their readings."""
    sent: list[tuple[str, bytes, bytes]] = []
    publisher = Publisher(Topics("raw"), lambda t, k, v: sent.append((t, k, v)), envelopes=True)
    simulator = Simulator(SimPlan(seed=1, registry=registry, faults=FaultConfig.disabled()))
    for hour in range(HOURS):
        publisher.publish(simulator.chunk(T0 + hour * HOUR_MS, T0 + (hour + 1) * HOUR_MS))
    return sent, publisher.counts.readings


def raw_kafka_python(bootstrap: str, messages: list[tuple[str, bytes, bytes]]) -> float:
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=20, batch_size=65536, compression_type="gzip"
    )
    start = time.perf_counter()
    for topic, key, value in messages:
        producer.send(topic, key=key, value=value)
    producer.flush()
    elapsed = time.perf_counter() - start
    producer.close()
    return elapsed


def raw_confluent(bootstrap: str, messages: list[tuple[str, bytes, bytes]]) -> float:
    producer = ConfluentProducer(
        {
            "bootstrap.servers": bootstrap,
            "linger.ms": 20,
            "batch.size": 65536,
            "compression.type": "gzip",
        }
    )
    start = time.perf_counter()
    for topic, key, value in messages:
        while True:
            try:
                producer.produce(topic, value, key)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    producer.flush()
    return time.perf_counter() - start


def envmon_backfill(
    settings, registry: Registry, backend: str, namespace: str
) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    plan = SimPlan(
        seed=1,
        registry=registry,
        start_ms=T0,
        end_ms=T0 + HOURS * HOUR_MS,
        faults=FaultConfig.disabled(),
    )
    start = time.perf_counter()
    with open_producer(settings, backend) as producer:
        publisher = Publisher(Topics(namespace), producer.send, envelopes=True)
        _run(Simulator(plan), publisher, T0, T0 + HOURS * HOUR_MS, None)
    return time.perf_counter() - start, publisher.counts.readings


def main() -> None:
    registry = synthetic_registry(Registry.load(), STATIONS, 0, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        broker = TansuBroker(tansu_binary(), Path(tmp))
        broker.start()
        try:
            rows = []
            cases = (
                ("kafka-python", True, raw_kafka_python),
                ("kafka-python", False, raw_kafka_python),
                ("confluent", True, raw_confluent),
                ("confluent", False, raw_confluent),
            )
            for backend, idempotent, raw in cases:
                raw_rates, our_rates = [], []
                for i in range(REPEATS):
                    ns_raw, ns_ours = f"raw{i}{backend[0]}", f"sim{i}{backend[0]}"
                    settings = load_settings(
                        env={}, kafka_bootstrap=broker.bootstrap, namespace=ns_ours, partitions=6
                    )
                    ensure_topics(settings, ns_ours)
                    ensure_topics(settings.model_copy(update={"namespace": ns_raw}), ns_raw)
                    messages, readings = envelopes(registry)
                    messages = [(t.replace("raw.", f"{ns_raw}."), k, v) for t, k, v in messages]
                    raw_rates.append(readings / raw(broker.bootstrap, messages))
                    elapsed, sent = envmon_backfill(settings, registry, backend, ns_ours)
                    our_rates.append(sent / elapsed)
                r, o = statistics.median(raw_rates), statistics.median(our_rates)
                label = f"{backend}, {'idempotent' if idempotent else 'one request in flight'}"
                rows.append((label, f"{r:,.0f}", f"{o:,.0f}", f"{o / r:.0%}"))
        finally:
            broker.stop()
    print_table(
        f"Backfill producer throughput, readings/s (median of {REPEATS}; {STATIONS} micro-stations "
        f"+ registry, {HOURS} h)",
        ("backend", "raw loop, pre-encoded", "envmon simulate --speed max", "of raw"),
        rows,
        "raw: the library alone sending the same envelopes; "
        "envmon: generate + encode + send + flush",
    )


if __name__ == "__main__":
    main()
