"""HJ 212 gateway throughput: ``python -m bench.bench_hj212`` (by hand).

1. Codec, frames per CPU second (one core; the machine is shared), median of REPEATS passes over
   the same stream of real-time frames (air, ~310 bytes each): the raw limit — ``bytes.split`` of
   the stream into lines, the least any parser must do — next to the deframer alone, deframer +
   validation (the codec; target ≥ 20,000 frames/s per core) and the whole per-frame decision
   (``Receiver``: device checks, duplicates, answer encoding).
2. Gateway, readings/s: ``envmon gateway hj212`` as a process, a Tansu broker started for the run,
   STATIONS simulated loggers on as many connections, each with up to WINDOW frames awaiting their
   answer; the clock stops at the last answer, which the gateway writes only after the broker
   acknowledged the reading. Next to it, the raw limits measured in the same run: a bare
   kafka-python producer sending the same reading messages, and a bare asyncio server reading the
   same bytes from as many connections.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from bench.common import print_table
from pipeline.hj212.convert import to_reading
from pipeline.hj212.device import SimConfig, SimulatedDevice, ValueSource
from pipeline.hj212.devices import DeviceMap
from pipeline.hj212.frame import Deframer, Frame
from pipeline.hj212.packet import Packet, parse_frame
from pipeline.hj212.receiver import Receiver
from pipeline.kafka.admin import ensure_topics
from pipeline.messages import encode_reading
from pipeline.registry import Registry
from pipeline.settings import load_settings
from pipeline.sources.simulator.stations import synthetic_registry, to_yaml
from pipeline.stack.servers import TansuBroker, free_port, http_status, tansu_binary
from pipeline.topics import Topics

REPEATS = 5
STATIONS = 100
FRAMES_PER_STATION = 60
WINDOW = 8
T0 = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)


def fleet(tmp: Path) -> tuple[Path, Path, list[SimulatedDevice]]:
    """STATIONS synthetic micro-stations, a device map for them, and their simulated loggers."""
    registry = synthetic_registry(Registry.load(), STATIONS, 0, seed=1)
    stations = [s for s in registry.stations.values() if s.id.startswith("sim")][:STATIONS]
    registry_path, devices_path = tmp / "registry.yaml", tmp / "devices.yaml"
    registry_path.write_text(to_yaml(registry), "utf-8")
    bundled = yaml.safe_load(
        (Path(__file__).parents[1] / "pipeline/data/hj212_devices.yaml").read_text("utf-8")
    )
    doc = {
        "schema_version": 1,
        "units": bundled["units"],
        "devices": [
            {"mn": f"BENCH{i:019d}", "station": s.id, "password": "123456"}
            for i, s in enumerate(stations)
        ],
    }
    devices_path.write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    devices = DeviceMap.load(registry, devices_path)
    values = ValueSource(registry, (s.id for s in stations), seed=1)
    config = SimConfig(flag_rate=0.05, seed=1)
    sims = [SimulatedDevice(d, values, config, i) for i, d in enumerate(devices.devices.values())]
    return registry_path, devices_path, sims


def frames_of(sims: list[SimulatedDevice]) -> list[list[bytes]]:
    return [
        [sim.realtime_frame(T0 + timedelta(minutes=k))[0] for k in range(FRAMES_PER_STATION)]
        for sim in sims
    ]


# --- 1. codec ------------------------------------------------------------------------------------
def cpu_rate(fn: Callable[[], object], n: int) -> float:
    """Frames per CPU second of this process (per core: the machine is shared), median of
    REPEATS passes."""
    times = []
    for _ in range(REPEATS):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return n / statistics.median(times)


def codec_rows(frames: list[bytes], devices: DeviceMap) -> list[list[str]]:
    stream = b"".join(frames)
    reads = [stream[i : i + 1460] for i in range(0, len(stream), 1460)]  # TCP-segment-sized
    n = len(frames)

    def deframe() -> None:
        d = Deframer()
        for chunk in reads:
            d.feed(chunk)

    def codec() -> None:
        d = Deframer()
        for chunk in reads:
            for piece in d.feed(chunk):
                parse_frame(piece.raw)  # type: ignore[union-attr]

    def receiver() -> None:
        d, r = Deframer(), Receiver(devices)
        for chunk in reads:
            for piece in d.feed(chunk):
                r.receive(piece)

    rates = {
        "raw limit: bytes.split into lines": cpu_rate(lambda: stream.split(b"\r\n"), n),
        "deframer (1460-byte reads)": cpu_rate(deframe, n),
        "deframer + validation (the codec)": cpu_rate(codec, n),
        "codec + device checks, duplicates, answer": cpu_rate(receiver, n),
    }
    raw = rates["raw limit: bytes.split into lines"]
    return [[name, f"{rate:,.0f}", f"{rate / raw:.3f}"] for name, rate in rates.items()]


# --- 2. gateway ----------------------------------------------------------------------------------
async def _station(port: int, frames: list[bytes]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    room = asyncio.Semaphore(WINDOW)
    answered = 0

    async def read_answers() -> None:
        nonlocal answered
        deframer = Deframer()
        while answered < len(frames) and (data := await reader.read(65536)):
            for piece in deframer.feed(data):
                if isinstance(piece, Frame):
                    answered += 1
                    room.release()

    answers = asyncio.create_task(read_answers())
    for frame in frames:
        await room.acquire()
        writer.write(frame)
        await writer.drain()
    await asyncio.wait_for(answers, 120)
    writer.close()
    assert answered == len(frames), answered


async def _all_stations(port: int, per_station: list[list[bytes]]) -> float:
    start = time.perf_counter()
    await asyncio.gather(*(_station(port, frames) for frames in per_station))
    return time.perf_counter() - start


async def _bare_reads(per_station: list[list[bytes]]) -> float:
    """Raw limit: an asyncio server only reading the same bytes from as many connections."""
    total = sum(len(f) for frames in per_station for f in frames)
    done = asyncio.Event()
    received = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal received
        while data := await reader.read(65536):
            received += len(data)
            if received >= total:
                done.set()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]

    async def send(frames: list[bytes]) -> None:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"".join(frames))
        await writer.drain()
        await done.wait()
        writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(send(frames) for frames in per_station))
    elapsed = time.perf_counter() - start
    server.close()
    return elapsed


def bare_producer(bootstrap: str, topic: str, messages: list[tuple[bytes, bytes]]) -> float:
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=5, batch_size=65536, compression_type="gzip"
    )
    start = time.perf_counter()
    for key, value in messages:
        producer.send(topic, key=key, value=value)
    producer.flush()
    elapsed = time.perf_counter() - start
    producer.close()
    return elapsed


def count_records(bootstrap: str, topic: str, expected: int, timeout: float = 30) -> int:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        count, deadline = 0, time.monotonic() + timeout
        while count < expected and time.monotonic() < deadline:
            count += sum(len(b) for b in consumer.poll(timeout_ms=200).values())
        return count
    finally:
        consumer.close()


def gateway_rows(tmp: Path, sims: list[SimulatedDevice], per_station: list[list[bytes]]):
    broker = TansuBroker(tansu_binary(), tmp)
    broker.start()
    gateway = None
    try:
        messages = []
        for sim, frames in zip(sims, per_station, strict=True):
            for frame in frames:
                packet = parse_frame(frame)
                assert isinstance(packet, Packet)
                reading = to_reading(packet, sim.device).reading  # type: ignore[union-attr]
                messages.append((reading.station.encode(), encode_reading(reading)))
        n = len(messages)
        rows, seconds = [], {}
        for run in range(REPEATS):
            ns = f"bench{run}"
            settings = load_settings(env={}, kafka_bootstrap=broker.bootstrap, namespace=ns)
            ensure_topics(settings, ns)
            topics = Topics(ns)
            seconds.setdefault("producer", []).append(
                bare_producer(broker.bootstrap, topics.water_readings, messages)
            )
            seconds.setdefault("socket", []).append(asyncio.run(_bare_reads(per_station)))
            gateway = start_gateway(tmp, broker.bootstrap, ns)
            seconds.setdefault("gateway", []).append(
                asyncio.run(_all_stations(gateway[1], per_station))
            )
            stop_gateway(gateway[0])
            got = count_records(broker.bootstrap, topics.air_readings, n)
            assert got == n, f"{got} readings on the broker, {n} expected"
        rate = {k: n / statistics.median(v) for k, v in seconds.items()}
        limit = rate["producer"]
        rows = [
            ["raw limit: bare kafka-python producer, same messages", f"{limit:,.0f}", "1.000"],
            [
                f"raw limit: bare asyncio reads, {STATIONS} connections",
                f"{rate['socket']:,.0f}",
                f"{rate['socket'] / limit:.3f}",
            ],
            [
                f"gateway: {STATIONS} stations, answer after broker ack",
                f"{rate['gateway']:,.0f}",
                f"{rate['gateway'] / limit:.3f}",
            ],
        ]
        return rows
    finally:
        broker.stop()


def start_gateway(tmp: Path, bootstrap: str, ns: str) -> tuple[subprocess.Popen[bytes], int]:
    port, health = free_port(), free_port()
    env = os.environ | {
        "ENVMON_KAFKA_BOOTSTRAP": bootstrap,
        "ENVMON_NAMESPACE": ns,
        "ENVMON_REGISTRY_FILE": str(tmp / "registry.yaml"),
        "ENVMON_HJ212_DEVICES_FILE": str(tmp / "devices.yaml"),
        "ENVMON_HJ212_MAX_CONNECTIONS_PER_IP": str(STATIONS + 10),
        "ENVMON_PRODUCER_IDEMPOTENT": "false",
    }
    argv = [sys.executable, "-m", "pipeline", "gateway", "hj212", "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--health-port", str(health), "--log-level", "WARNING"]
    log = open(tmp / f"gateway-{ns}.log", "wb")  # noqa: SIM115 — closed with the process
    process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while http_status(f"http://127.0.0.1:{health}/health") != 200:
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError(f"gateway did not start; see {log.name}")
        time.sleep(0.1)
    return process, port


def stop_gateway(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(30)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        registry_path, devices_path, sims = fleet(tmp)
        per_station = frames_of(sims)
        devices = DeviceMap.load(Registry.load(registry_path), devices_path)
        frames = [f for frames in per_station for f in frames]
        size = statistics.mean(len(f) for f in frames)
        print_table(
            f"HJ 212 codec: {len(frames):,} real-time frames (mean {size:.0f} bytes), one core, "
            f"median of {REPEATS}",
            ["path", "frames/s", "÷ raw limit"],
            codec_rows(frames, devices),
            "target: codec ≥ 20,000 frames/s per core",
        )
        print_table(
            f"HJ 212 gateway → Tansu: {len(frames):,} readings from {STATIONS} stations "
            f"(window {WINDOW}), median of {REPEATS}",
            ["path", "readings/s", "÷ bare producer"],
            gateway_rows(tmp, sims, per_station),
            "every reading counted on the broker after each gateway run",
        )


if __name__ == "__main__":
    main()
