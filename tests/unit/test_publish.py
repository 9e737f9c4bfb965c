"""Publishing simulator records: envelopes hold strictly increasing times; nothing is lost."""

from __future__ import annotations

from pipeline.messages import Decoder, Reject
from pipeline.registry import Registry, StationKind
from pipeline.sources.publish import Publisher
from pipeline.sources.simulator import FaultConfig, SimPlan, Simulator
from pipeline.sources.simulator.stations import synthetic_registry
from pipeline.timeutil import parse_timestamp
from pipeline.topics import Topics

BASE = Registry.load()
T0 = parse_timestamp("2026-11-20T00:00:00+08:00")
HOUR = 3_600_000


def publish(envelopes: bool, faults: FaultConfig) -> tuple[Publisher, list, int]:
    registry = synthetic_registry(BASE, 30, 4, seed=1)
    sim = Simulator(SimPlan(seed=1, registry=registry, faults=faults))
    records = sim.chunk(T0, T0 + 6 * HOUR)
    sent: list[tuple[str, bytes, bytes]] = []
    publisher = Publisher(Topics("p"), lambda t, k, v: sent.append((t, k, v)), envelopes)
    publisher.publish(records)
    decoders = {
        "p.air.readings": Decoder(StationKind.AIR, registry, clock=lambda: T0 / 1000 + 86400),
        "p.water.readings": Decoder(StationKind.WATER, registry, clock=lambda: T0 / 1000 + 86400),
    }
    decoded = [(k, decoders[t].decode(v)) for t, k, v in sent]
    return publisher, decoded, len(records)


def test_envelopes_carry_every_reading_and_faults_go_alone() -> None:
    faults = FaultConfig(duplicate=0.01, out_of_order=0.01, malformed=0.005)
    publisher, decoded, n_records = publish(True, faults)
    rejects = [r for _, r in decoded if isinstance(r, Reject)]
    readings = [x for _, r in decoded if not isinstance(r, Reject) for x in r]
    assert publisher.counts.malformed == len(rejects) > 0  # only the malformed-on-purpose fail
    assert len(readings) == publisher.counts.readings == n_records - publisher.counts.malformed
    assert publisher.counts.messages < n_records / 10  # bulk: envelopes, not one message each
    assert all(key.decode() == r[0].station for key, r in decoded if not isinstance(r, Reject))


def test_paced_mode_sends_single_readings() -> None:
    publisher, decoded, n_records = publish(False, FaultConfig.disabled())
    assert publisher.counts.messages == publisher.counts.readings == n_records
    assert all(len(r) == 1 for _, r in decoded)
