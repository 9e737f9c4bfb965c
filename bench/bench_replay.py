"""Replay and archive throughput: ``python -m bench.bench_replay`` (by hand; ~10-15 min).

1. Archive format (in memory, no broker): SAMPLE simulated readings as archive records written
   and read back as zstd JSON lines (the archive's format), gzip JSON lines and Parquet
   (pyarrow, zstd): bytes per reading, write and read rates (median of REPEATS).
2. Against a real Tansu broker started for the run: one day of a STATIONS-station city at minute
   cadence (``envmon simulate --speed max``: one envelope per station-hour; faults off) in a live
   namespace; then, in the same run:
   - the raw limit: a bare kafka-python consumer reading the live readings topic to its end;
   - ``envmon archive`` archiving it (readings/s);
   - ``envmon replay --speed max`` from Kafka and from the archive into fresh namespaces: wall
     time of the command (start-up included) and readings/s;
   - end to end: ``envmon worker`` and ``envmon sink`` (InfluxDB 1.x) started on the Kafka
     replay's namespace after it was republished: time until the worker has taken every reading
     and the sink has written every reading's point.
Targets: republished in < 60 s, processed end to end in < 300 s.
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import msgspec
import pyarrow as pa
import pyarrow.parquet as pq
import zstandard
from kafka import KafkaConsumer, TopicPartition

from bench.bench_worker import Worker, health, make_registry, wait_ready
from bench.common import print_table
from pipeline.archive.files import ArchivedRecord, encode_line, frame
from pipeline.kafka.admin import ensure_topics
from pipeline.messages import encode_reading
from pipeline.settings import load_settings
from pipeline.sinks.init import Retention, init_influx
from pipeline.sinks.runs import replay_influx
from pipeline.sources.simulator import FaultConfig, SimPlan, Simulator
from pipeline.stack.servers import (
    InfluxDB,
    ServerProcess,
    TansuBroker,
    free_port,
    require_binary,
    tansu_binary,
)
from pipeline.timeutil import parse_timestamp

T0 = parse_timestamp("2026-11-20T00:00:00+08:00")
SAMPLE = 200_000
REPEATS = 3
PARTITIONS = 6
ENVMON = str(Path(sys.executable).with_name("envmon"))
TARGET_REPUBLISH_S = 60
TARGET_END_TO_END_S = 300


# --- 1. archive formats ----------------------------------------------------------------------


def sample_records(n: int) -> list[ArchivedRecord]:
    registry = make_registry(n // 60, Path(tempfile.mkdtemp())).registry
    plan = SimPlan(
        seed=1,
        registry=registry,
        kinds=frozenset({"air"}),
        start_ms=T0,
        end_ms=T0 + 3_600_000,
        faults=FaultConfig.disabled(),
    )
    records = []
    for i, r in enumerate(Simulator(plan).chunk(T0, T0 + 3_600_000)):
        records.append(ArchivedRecord.of(i % 6, i, r.ts_ms, r.station.encode(), encode_reading(r)))  # type: ignore[union-attr]
        if len(records) == n:
            break
    return records


def zstd_jsonl(records: list[ArchivedRecord]) -> bytes:
    return b"".join(
        frame([encode_line(r) for r in records[i : i + 50_000]])
        for i in range(0, len(records), 50_000)
    )


def decode_lines(content: bytes) -> list[ArchivedRecord]:
    decode = msgspec.json.Decoder(ArchivedRecord).decode
    return [decode(line) for line in content.splitlines()]


def read_zstd(data: bytes) -> int:
    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True)
    return len(decode_lines(reader.read()))


def gzip_jsonl(records: list[ArchivedRecord]) -> bytes:
    return gzip.compress(b"".join(encode_line(r) + b"\n" for r in records), compresslevel=6)


def read_gzip(data: bytes) -> int:
    return len(decode_lines(gzip.decompress(data)))


def parquet(records: list[ArchivedRecord]) -> bytes:
    table = pa.table(
        {
            "p": [r.p for r in records],
            "o": [r.o for r in records],
            "t": [r.t for r in records],
            "k": [r.k for r in records],
            "v": [r.value for r in records],
        }
    )
    out = io.BytesIO()
    pq.write_table(table, out, compression="zstd")
    return out.getvalue()


def read_parquet(data: bytes) -> int:
    table = pq.read_table(io.BytesIO(data))
    rows = table.to_pydict()
    return len(
        [
            ArchivedRecord(p, o, t, k, v.decode())
            for p, o, t, k, v in zip(*rows.values(), strict=True)
        ]
    )


def formats() -> None:
    records = sample_records(SAMPLE)
    raw = sum(len(r.value) for r in records)
    rows = []
    for name, write, read in (
        ("zstd JSON lines (archive)", zstd_jsonl, read_zstd),
        ("gzip JSON lines", gzip_jsonl, read_gzip),
        ("Parquet (zstd)", parquet, read_parquet),
    ):
        write_s, read_s = [], []
        for _ in range(REPEATS):
            start = time.perf_counter()
            data = write(records)
            write_s.append(time.perf_counter() - start)
            start = time.perf_counter()
            assert read(data) == len(records)
            read_s.append(time.perf_counter() - start)
        rows.append(
            (
                name,
                f"{len(data) / len(records):.1f}",
                f"{raw / len(data):.1f}x",
                f"{len(records) / statistics.median(write_s):,.0f}",
                f"{len(records) / statistics.median(read_s):,.0f}",
            )
        )
    print_table(
        f"archive formats: {len(records):,} single-reading records",
        ("format", "bytes/reading", "ratio", "write readings/s", "read readings/s"),
        rows,
        "read = decompress and decode every record (Parquet: into the same records)",
    )


# --- 2. replay through the broker ------------------------------------------------------------


def run(env: dict[str, str], *args: str) -> float:
    start = time.monotonic()
    done = subprocess.run([ENVMON, *args], env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"envmon {' '.join(args)}: {done.stderr[-2000:]}")
    return time.monotonic() - start


def raw_consume(bootstrap: str, topic: str, messages: int) -> float:
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        fetch_max_bytes=16 << 20,
        max_partition_fetch_bytes=4 << 20,
    )
    tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    start, seen = time.monotonic(), 0
    while seen < messages:
        seen += sum(len(b) for b in consumer.poll(timeout_ms=500).values())
    elapsed = time.monotonic() - start
    consumer.close()
    return elapsed


def count_messages(bootstrap: str, topic: str) -> int:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    seen, quiet = 0, time.monotonic()
    while time.monotonic() - quiet < 2:
        got = sum(len(b) for b in consumer.poll(timeout_ms=300).values())
        seen += got
        quiet = time.monotonic() if got else quiet
    consumer.close()
    return seen


def broker_run(stations: int, hours: int, tmp: Path) -> None:
    registry = make_registry(stations, tmp)
    broker = TansuBroker(tansu_binary(), tmp)
    (tmp / "influx").mkdir()
    influx = InfluxDB(require_binary("influxd", "apt install influxdb"), tmp / "influx")
    with ExitStack() as servers:
        for server in (broker, influx):
            server.start()
            servers.callback(server.stop)
        settings = load_settings(
            env={},
            kafka_bootstrap=broker.bootstrap,
            partitions=PARTITIONS,
            namespace="live",
            registry_file=registry.path,
            influx_url=influx.url,
            influx_api="v1",
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("ENVMON_")} | {
            "ENVMON_KAFKA_BOOTSTRAP": broker.bootstrap,
            "ENVMON_PARTITIONS": str(PARTITIONS),
            "ENVMON_REGISTRY_FILE": str(registry.path),
            "ENVMON_STATE_DIR": str(tmp / "state"),
            "ENVMON_ARCHIVE_DIR": str(tmp / "archive"),
            "ENVMON_NAMESPACE": "live",
            "ENVMON_PRODUCER_BACKEND": "confluent",
            "ENVMON_INFLUX_URL": influx.url,
            "ENVMON_INFLUX_API": "v1",
        }
        ensure_topics(settings, "live")
        init_influx(replay_influx(settings), Retention())
        end = T0 + hours * 3_600_000
        window = ("--from", str(T0), "--to", str(end))
        run(env, "simulate", "air", "--seed", "1", "--no-faults", "--speed", "max", *window)
        readings = stations * hours * 60
        messages = count_messages(broker.bootstrap, "live.air.readings")
        raw_s = statistics.median(
            raw_consume(broker.bootstrap, "live.air.readings", messages) for _ in range(REPEATS)
        )

        archive = ServerProcess(
            "archive",
            [
                ENVMON,
                "archive",
                "--health-port",
                str(port := free_port()),
                "--session-timeout-ms",
                "6000",
            ],
            lambda: health(port) is not None,
            tmp / "archive.log",
            env=env,
        )
        start = time.monotonic()
        archive.start()
        while (health(port) or {}).get("records_archived", 0) < messages:
            time.sleep(0.2)
        archive_s = time.monotonic() - start
        archive.stop()

        kafka_s = run(
            env,
            "replay",
            "--source",
            "kafka",
            *window,
            "--namespace",
            "replay-k",
            "--backend",
            "confluent",
        )
        archive_replay_s = run(
            env,
            "replay",
            "--source",
            "archive",
            *window,
            "--namespace",
            "replay-a",
            "--backend",
            "confluent",
        )

        worker = Worker("e2e", broker.bootstrap, "replay-k", registry.path, tmp)
        sink_port = free_port()
        sink_env = env | {"ENVMON_NAMESPACE": "replay-k"}
        sink = ServerProcess(
            "sink",
            [ENVMON, "sink", "--health-port", str(sink_port), "--session-timeout-ms", "6000"],
            lambda: health(sink_port) is not None,
            tmp / "sink.log",
            env=sink_env,
        )
        start = time.monotonic()
        worker.process.start()
        sink.start()
        wait_ready([worker])
        worker_s = sink_s = None
        while worker_s is None or sink_s is None:
            worker.check_running()
            if worker_s is None and (worker.health().get("readings") or 0) >= readings:
                worker_s = time.monotonic() - start
            sink_health = health(sink_port) or {}
            if sink_s is None and worker_s is not None and sink_health.get("lag") == 0:
                sink_s = time.monotonic() - start
            if time.monotonic() - start > 1800:
                raise RuntimeError(
                    f"end to end not done in 30 min: {worker.health()} {sink_health}"
                )
            time.sleep(0.5)
        worker.process.stop()
        sink.stop()

    rows = [
        (
            "raw broker consume (kafka-python, bare)",
            f"{raw_s:.1f}",
            f"{readings / raw_s:,.0f}",
            "1.00",
        ),
        (
            "envmon archive",
            f"{archive_s:.1f}",
            f"{readings / archive_s:,.0f}",
            f"{raw_s / archive_s:.2f}",
        ),
        (
            "replay --source kafka --speed max",
            f"{kafka_s:.1f}",
            f"{readings / kafka_s:,.0f}",
            f"{raw_s / kafka_s:.2f}",
        ),
        (
            "replay --source archive --speed max",
            f"{archive_replay_s:.1f}",
            f"{readings / archive_replay_s:,.0f}",
            f"{raw_s / archive_replay_s:.2f}",
        ),
        ("worker: every reading taken", f"{worker_s:.1f}", f"{readings / worker_s:,.0f}", ""),
        ("worker + sink: lag 0 (end to end)", f"{sink_s:.1f}", f"{readings / sink_s:,.0f}", ""),
    ]
    met = {True: "met", False: "MISSED"}
    print_table(
        f"{hours} h of {stations:,} stations, minute cadence: "
        f"{readings:,} readings in {messages:,} messages",
        ("step", "s", "readings/s", "vs raw"),
        rows,
        f"targets: republished < {TARGET_REPUBLISH_S} s ({met[kafka_s < TARGET_REPUBLISH_S]}), "
        f"end to end < {TARGET_END_TO_END_S} s ({met[sink_s < TARGET_END_TO_END_S]})",
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--formats-only", action="store_true")
    options = parser.parse_args()
    formats()
    if not options.formats_only:
        with tempfile.TemporaryDirectory() as tmp:
            broker_run(options.stations, options.hours, Path(tmp))


if __name__ == "__main__":
    main()
