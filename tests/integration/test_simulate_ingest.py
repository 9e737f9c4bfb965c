"""Simulator and file feed against the real broker: what was sent is what arrives, in order."""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from pathlib import Path

import msgspec
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.messages import Decoder, Reject
from pipeline.registry import Registry, StationKind
from pipeline.settings import Settings
from pipeline.topics import Topics
from tests.integration.conftest import TopicReader

pytestmark = pytest.mark.integration
runner = CliRunner()


def _env(settings: Settings) -> dict[str, str]:
    return {
        "ENVMON_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "ENVMON_NAMESPACE": settings.namespace,
    }


@pytest.mark.parametrize("backend", ["kafka-python", "confluent"])
def test_backfill_arrives_complete_and_in_station_order(
    backend: str, settings: Settings, topics: Topics, read_topic: TopicReader, tmp_path: Path
) -> None:
    registry_file = tmp_path / "registry.yaml"
    args = ["simulate", "all", "--from", "2026-11-20", "--to", "2026-11-21", "--speed", "max"]
    args += [
        "--stations",
        "10",
        "--seed",
        "7",
        "--backend",
        backend,
        "--registry-out",
        str(registry_file),
    ]
    result = runner.invoke(app, args, env=_env(settings))
    assert result.exit_code == 0, result.output
    sent = int(result.output.split("sent ")[1].split(" readings")[0].replace(",", ""))
    malformed = int(result.output.split("(")[-1].split(" malformed")[0])
    registry = Registry.load(registry_file)
    # 15 national air stations hourly, 10 micro-stations per minute, 7 sections every 4 h
    assert sent == pytest.approx(15 * 24 + 10 * 1440 + 7 * 6, rel=0.02)

    by_station: dict[str, list[int]] = defaultdict(list)
    rejects = 0
    for kind, topic in (
        (StationKind.AIR, topics.air_readings),
        (StationKind.WATER, topics.water_readings),
    ):
        decoder = Decoder(kind, registry, clock=lambda: 1795795200.0)  # 2026-11-21 00:00 +08:00
        expected = 30 if kind is StationKind.WATER else 300
        for record in read_topic(settings.kafka_bootstrap, topic, count=expected, timeout=20):
            decoded = decoder.decode(record.value)
            if isinstance(decoded, Reject):
                rejects += 1
                continue
            assert all(r.station == record.key.decode() for r in decoded)
            by_station[record.key.decode()].extend(r.ts_ms for r in decoded)
    assert sum(len(v) for v in by_station.values()) == sent
    assert rejects == malformed  # exactly the malformed-on-purpose messages fail
    out_of_order = sum(sum(b < a for a, b in itertools.pairwise(ts)) for ts in by_station.values())
    assert out_of_order <= sent * 0.01  # only the out-of-order faults, at their small default rate


def test_ingest_sends_rows_and_dead_letters(
    settings: Settings, topics: Topics, read_topic: TopicReader, tmp_path: Path
) -> None:
    path = tmp_path / "history.csv"
    path.write_text(
        "站点编码,监测时间,PM2.5,PM10,CO(mg/m3)\n"
        "1356A,2026-11-20 08:00:00,35,60,0.8\n"
        "1356A,2026-11-20 09:00:00,abc,60,0.8\n"
        "NOPE,2026-11-20 09:00:00,35,60,0.8\n"
        "1357A,2026-11-20 09:00:00,30,50,0.7\n",
        "utf-8",
    )
    result = runner.invoke(app, ["ingest", str(path)], env=_env(settings))
    assert result.exit_code == 1  # some rows were rejected
    assert "rejected: wrong_type" in result.output and "rejected: unknown_station" in result.output
    readings = read_topic(settings.kafka_bootstrap, topics.air_readings, count=2)
    assert sorted(r.key for r in readings) == [b"1356A", b"1357A"]
    letters = [
        msgspec.json.decode(r.value)
        for r in read_topic(settings.kafka_bootstrap, topics.deadletter, count=2)
    ]
    assert sorted((d["offset"], d["reason"]) for d in letters) == [
        (3, "wrong_type"),
        (4, "unknown_station"),
    ]
    assert json.dumps(letters[0]["raw"])  # the raw row is kept
