"""The HJ 212 gateway end to end: simulated data loggers talk to ``envmon gateway hj212`` (a real
process) over loopback TCP, readings and dead letters land on the session's Tansu broker."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest

from pipeline.hj212.convert import to_reading
from pipeline.hj212.device import SimConfig, SimulatedDevice, ValueSource, corrupt_crc
from pipeline.hj212.devices import DeviceMap
from pipeline.hj212.packet import Packet, parse_frame
from pipeline.messages import DeadLetter, Decoder
from pipeline.registry import Registry, StationKind
from pipeline.settings import Settings
from pipeline.topics import Topics
from tests.fixtures.servers import ServerProcess, failing_test_on_error, free_port, http_status

pytestmark = pytest.mark.integration

REPO = Path(__file__).parents[2]


@dataclass
class Gateway:
    port: int
    health: str
    process: ServerProcess

    def metrics(self) -> dict[str, object]:
        import urllib.request

        with urllib.request.urlopen(self.health, timeout=2) as response:
            return json.load(response)


def envmon_env(settings: Settings) -> dict[str, str]:
    return os.environ | {
        "ENVMON_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "ENVMON_NAMESPACE": settings.namespace,
        "ENVMON_PRODUCER_IDEMPOTENT": "false",
    }


@pytest.fixture
def gateway(settings: Settings, topics: Topics, tmp_path: Path) -> Iterator[Gateway]:
    yield from _gateway(settings, tmp_path, {})


def _gateway(settings: Settings, tmp_path: Path, extra_env: dict[str, str]) -> Iterator[Gateway]:
    port, health_port = free_port(), free_port()
    health = f"http://127.0.0.1:{health_port}/health"
    argv = [sys.executable, "-m", "pipeline", "gateway", "hj212", "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--health-port", str(health_port)]
    process = ServerProcess(
        "hj212-gateway",
        argv,
        lambda: http_status(health) == 200,
        tmp_path / "gateway.log",
        env=envmon_env(settings) | extra_env,
    )
    with failing_test_on_error():
        process.start()
    try:
        yield Gateway(port, health, process)
    finally:
        process.stop()


@pytest.fixture(scope="module")
def devices() -> DeviceMap:
    return DeviceMap.load(Registry.load())


def device_sim(devices: DeviceMap, mn: str, **config: object) -> SimulatedDevice:
    device = devices.devices[mn]
    values = ValueSource(Registry.load(), [device.station], seed=1)
    options = {"timeout_s": 2.0, "seed": 1} | config
    return SimulatedDevice(device, values, SimConfig(**options))  # type: ignore[arg-type]


def decode_readings(records: list, kind: StationKind) -> list:
    decoder = Decoder(kind, Registry.load())
    out = []
    for record in records:
        result = decoder.decode(record.value)
        assert isinstance(result, list), result
        out += result
    return out


AIR_MNS = ["440300A0990001A000000009", "440300A0990001A000000101"]
WATER_MN = "440300B0990001B000000009"


async def _send_all(
    gateway: Gateway, sims: list[SimulatedDevice], jobs: list[list[tuple[bytes, str]]]
) -> list[list[bool]]:
    await asyncio.gather(*(s.connect("127.0.0.1", gateway.port) for s in sims))
    try:
        return await asyncio.gather(
            *(_send_each(s, frames) for s, frames in zip(sims, jobs, strict=True))
        )
    finally:
        await asyncio.gather(*(s.close() for s in sims))


async def _send_each(sim: SimulatedDevice, frames: list[tuple[bytes, str]]) -> list[bool]:
    return [await sim.send(frame, qn) for frame, qn in frames]


def test_readings_flags_and_answers(
    gateway: Gateway, settings: Settings, topics: Topics, devices: DeviceMap, read_topic
) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    air = [device_sim(devices, mn, flag_rate=0.5) for mn in AIR_MNS]
    water = device_sim(devices, WATER_MN, flag_rate=0.5, split_codes=4)
    jobs = [[s.realtime_frame(now - timedelta(minutes=m)) for m in range(3, 0, -1)] for s in air]
    hour = (now - timedelta(hours=1)).replace(minute=0)
    split = water.hourly_frames(hour)
    assert len(split) == 3  # 11 factor codes in parts of 4
    jobs.append(split)

    answered = asyncio.run(_send_all(gateway, [*air, water], jobs))
    assert all(all(a) for a in answered), answered  # every frame answered with its QN

    expected: dict[StationKind, list] = {StationKind.AIR: [], StationKind.WATER: []}
    for sim, frames in zip([*air, water], jobs, strict=True):
        packets = [parse_frame(f) for f, _ in frames]
        assert all(isinstance(p, Packet) for p in packets)
        if sim is water:
            from pipeline.hj212.split import merge

            packets = [merge({p.header.pno: p for p in packets})]  # type: ignore[union-attr]
        for p in packets:
            conv = to_reading(p, sim.device)  # type: ignore[arg-type]
            assert conv is not None and conv.reading is not None
            expected[sim.device.kind].append(conv.reading)

    air_got = decode_readings(
        read_topic(settings.kafka_bootstrap, topics.air_readings, 6), StationKind.AIR
    )
    water_got = decode_readings(
        read_topic(settings.kafka_bootstrap, topics.water_readings, 1), StationKind.WATER
    )
    key = lambda r: (r.station, r.ts_ms)  # noqa: E731
    assert sorted(air_got, key=key) == sorted(expected[StationKind.AIR], key=key)
    assert water_got == expected[StationKind.WATER]
    flags = {f for r in air_got + water_got for f in r.flags.values()}
    assert flags - {"N"}, "flag_rate 0.5 must have put other flags on some values"
    assert water_got[0].interval_s == 3600 and air_got[0].interval_s == 60
    m = gateway.metrics()
    assert (m["frames_accepted"], m["readings_produced"], m["responses_sent"]) == (9, 7, 9)


def test_bad_crc_is_dead_lettered_and_not_answered(
    gateway: Gateway, settings: Settings, topics: Topics, devices: DeviceMap, read_topic
) -> None:
    sim = device_sim(devices, AIR_MNS[0], retries=0, timeout_s=1.5)
    frame, qn = sim.realtime_frame(datetime.now(UTC).replace(microsecond=0))
    bad = corrupt_crc(frame)

    async def run() -> bool:
        await sim.connect("127.0.0.1", gateway.port)
        try:
            return await sim.send(bad, qn)
        finally:
            await sim.close()

    assert asyncio.run(run()) is False  # no answer
    (record,) = read_topic(settings.kafka_bootstrap, topics.deadletter, 1)
    letter = msgspec.json.decode(record.value, type=DeadLetter)
    assert (letter.reason.value, letter.source_topic, letter.key) == (
        "bad_crc",
        "hj212",
        AIR_MNS[0],
    )
    assert letter.raw.encode() == bad and letter.offset == 0
    assert read_topic(settings.kafka_bootstrap, topics.air_readings, 0, timeout=1) == []
    assert gateway.metrics()["responses_sent"] == 0


def test_resend_after_a_lost_answer_yields_one_reading(
    gateway: Gateway, settings: Settings, topics: Topics, devices: DeviceMap, read_topic
) -> None:
    # every answer is "lost": the logger resends once, then gives up
    sim = device_sim(devices, AIR_MNS[1], drop_ack_rate=1.0, retries=1, timeout_s=0.5)
    when = datetime.now(UTC).replace(microsecond=0)
    frame, qn = sim.realtime_frame(when)
    resent_new_qn, qn2 = sim.realtime_frame(when)  # same DataTime, a new QN

    async def run() -> tuple[bool, bool]:
        await sim.connect("127.0.0.1", gateway.port)
        try:
            return await sim.send(frame, qn), await sim.send(resent_new_qn, qn2)
        finally:
            await sim.close()

    assert asyncio.run(run()) == (False, False)
    assert (sim.stats.sends, sim.stats.dropped_acks) == (4, 4)  # each send was answered
    records = read_topic(settings.kafka_bootstrap, topics.air_readings, 1)
    assert len(records) == 1
    m = gateway.metrics()
    assert (m["duplicates"], m["responses_sent"], m["readings_produced"]) == (3, 4, 1)


def test_simulate_hj212_command(
    gateway: Gateway, settings: Settings, topics: Topics, read_topic
) -> None:
    argv = [sys.executable, "-m", "pipeline", "simulate", "hj212"]
    argv += ["--connect", f"127.0.0.1:{gateway.port}", "--stations", "4", "--count", "2"]
    argv += ["--interval", "1.1", "--timeout", "3", "--no-hourly"]
    run = subprocess.run(
        argv, env=envmon_env(settings), capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert run.returncode == 0, run.stderr
    assert "sent 8 frames (8 sends): 8 answered, 0 unanswered" in run.stderr
    assert len(read_topic(settings.kafka_bootstrap, topics.air_readings, 8)) == 8


@pytest.fixture
def strict_gateway(settings: Settings, topics: Topics, tmp_path: Path) -> Iterator[Gateway]:
    limits = {"ENVMON_HJ212_MAX_CONNECTIONS_PER_IP": "2", "ENVMON_HJ212_IDLE_TIMEOUT_S": "1.5"}
    yield from _gateway(settings, tmp_path, limits)


def test_limits_connections_per_address_partial_frames_idle(
    strict_gateway: Gateway, settings: Settings, topics: Topics, read_topic
) -> None:
    from tests.unit.hj212.vectors import AIR_RTD_2011

    async def run() -> tuple[bytes, bytes, float]:
        port = strict_gateway.port
        first = await asyncio.open_connection("127.0.0.1", port)
        second = await asyncio.open_connection("127.0.0.1", port)
        third_reader, _ = await asyncio.open_connection("127.0.0.1", port)
        refused = await asyncio.wait_for(third_reader.read(100), 5)  # closed at once
        first[1].write(AIR_RTD_2011[:120])  # a frame that never completes
        await first[1].drain()
        loop = asyncio.get_running_loop()
        start = loop.time()
        closed = await asyncio.wait_for(first[0].read(100), 10)  # truncated, then idle close
        second[1].close()
        return refused, closed, loop.time() - start

    refused, closed, waited = asyncio.run(run())
    assert refused == b"" and closed == b""
    assert 2.5 <= waited < 6  # 1.5 s until `truncated`, 1.5 s more of silence
    (record,) = read_topic(settings.kafka_bootstrap, topics.deadletter, 1)
    letter = msgspec.json.decode(record.value, type=DeadLetter)
    assert letter.reason.value == "truncated" and letter.raw.encode() == AIR_RTD_2011[:120]
    m = strict_gateway.metrics()
    # the second connection stayed silent too
    assert (m["connections_refused"], m["connections_idle_closed"]) == (1, 2)
