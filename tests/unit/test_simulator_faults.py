"""Faults on purpose (rates, where they land, what the pipeline makes of them), the records the
simulator emits, determinism and chunking."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace
from datetime import datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

import msgspec
import numpy as np
import pytest

from pipeline.messages import Decoder, RejectReason, encode_reading
from pipeline.registry import Registry, StationKind
from pipeline.sources.simulator import (
    MALFORMED_KINDS,
    Fault,
    FaultConfig,
    MalformedMessage,
    Record,
    SimPlan,
    SimReading,
    Simulator,
    simulate,
    synthetic_registry,
)
from pipeline.timeutil import DAY_MS, HOUR_MS, ManualClock

T0 = int(datetime(2026, 3, 2, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp() * 1000)
AIR = frozenset({StationKind.AIR})
NONE = FaultConfig.disabled()
PER_READING = replace(NONE, spike=0.01, out_of_order=0.01, duplicate=0.01, malformed=0.01)
EPISODIC = replace(NONE, flatline=2e-4, drift=2e-5, offline=2e-4)
REJECTED_AS = {
    Fault.TRUNCATED_JSON: RejectReason.MALFORMED_JSON,
    Fault.NAN_VALUE: RejectReason.NON_FINITE,
    Fault.NEGATIVE_VALUE: RejectReason.NEGATIVE_VALUE,
    Fault.UNKNOWN_STATION: RejectReason.UNKNOWN_STATION,
    Fault.MISSING_FIELD: RejectReason.MISSING_FIELD,
}


@pytest.fixture(scope="module")
def registry() -> Registry:
    return synthetic_registry(Registry.load(), n_air=200, n_water=4)


def micro_only(registry: Registry, faults: FaultConfig, seed: int = 11) -> Simulator:
    ids = frozenset(s for s in registry.stations if s.startswith("sim-air-"))
    return Simulator(SimPlan(seed, registry, AIR, faults=faults, stations=ids))


def within_binomial(count: int, n: int, p: float) -> bool:
    return abs(count - n * p) <= 4 * math.sqrt(n * p * (1 - p))


@pytest.fixture(scope="module")
def day_of_faults(registry: Registry) -> list[Record]:
    return micro_only(registry, PER_READING).chunk(T0, T0 + DAY_MS)


def test_per_reading_fault_rates_match_the_settings(day_of_faults: list[Record]) -> None:
    n = 200 * 1440
    counts = Counter(r.fault for r in day_of_faults)
    for fault in (Fault.SPIKE, Fault.OUT_OF_ORDER, Fault.DUPLICATE):
        assert within_binomial(counts[fault], n, 0.01), (fault, counts[fault])
    assert within_binomial(sum(counts[k] for k in MALFORMED_KINDS), n, 0.01)
    for kind in MALFORMED_KINDS:
        assert within_binomial(counts[kind], n, 0.01 / len(MALFORMED_KINDS)), (kind, counts[kind])
    # every reading once, plus the duplicates; out-of-order ones of the day's last minute come later
    readings = Counter((r.station, r.ts_ms) for r in day_of_faults if isinstance(r, SimReading))
    assert len(readings) + sum(counts[k] for k in MALFORMED_KINDS) >= n - 200


def test_out_of_order_readings_come_after_their_successor(day_of_faults: list[Record]) -> None:
    position = {
        (r.station, r.ts_ms): i
        for i, r in enumerate(day_of_faults)
        if isinstance(r, SimReading) and r.fault is not Fault.DUPLICATE
    }
    checked = 0
    for r in day_of_faults:
        if r.fault is Fault.OUT_OF_ORDER:
            assert isinstance(r, SimReading)
            successor = position.get((r.station, r.ts_ms + 60_000))
            if successor is not None and day_of_faults[successor].fault is not Fault.OUT_OF_ORDER:
                assert successor < position[(r.station, r.ts_ms)]
                checked += 1
    assert checked > 2000


def test_duplicates_repeat_the_original(day_of_faults: list[Record]) -> None:
    originals = {
        (r.station, r.ts_ms): r
        for r in day_of_faults
        if isinstance(r, SimReading) and r.fault is None
    }
    for r in (r for r in day_of_faults if r.fault is Fault.DUPLICATE):
        assert isinstance(r, SimReading) and originals[(r.station, r.ts_ms)].values == r.values


def test_the_decoder_rejects_each_malformed_kind_for_its_reason(
    registry: Registry, day_of_faults: list[Record]
) -> None:
    plan = SimPlan(
        11, registry, frozenset({StationKind.WATER}), faults=replace(NONE, malformed=0.5)
    )
    water = Simulator(plan).chunk(T0, T0 + 2 * DAY_MS)
    for kind, records in ((StationKind.AIR, day_of_faults), (StationKind.WATER, water)):
        decoder = Decoder(kind, registry, clock=lambda: T0 / 1000 + 3 * 86_400)
        malformed = [r for r in records if isinstance(r, MalformedMessage)]
        assert {r.fault for r in malformed} == set(MALFORMED_KINDS)
        for r in malformed:
            reject = decoder.decode(r.raw)
            assert not isinstance(reject, list) and reject.reason is REJECTED_AS[r.fault], r


def test_readings_decode_and_are_physically_sound(
    registry: Registry, day_of_faults: list[Record]
) -> None:
    decoder = Decoder(StationKind.AIR, registry, clock=lambda: T0 / 1000 + 2 * 86_400)
    readings = [r for r in day_of_faults if isinstance(r, SimReading)]
    for r in readings:
        assert all(math.isfinite(v) and v >= 0 for v in msgspec.structs.astuple(r.values))
        if r.fault is None:
            assert r.values.pm25 <= r.values.pm10
    for r in readings[::97]:
        decoded = decoder.decode(encode_reading(r))
        assert isinstance(decoded, list) and decoded[0].values == r.values


def test_spikes_multiply_one_value_by_5_to_10(registry: Registry) -> None:
    clean = micro_only(registry, NONE).series(T0, T0 + 6 * HOUR_MS)[0]
    faulty = micro_only(registry, PER_READING).series(T0, T0 + 6 * HOUR_MS)[0]
    spiked = faulty.has(Fault.SPIKE)
    assert np.array_equal(faulty.values[:, ~spiked], clean.values[:, ~spiked])  # nothing else moved
    ratio = faulty.values[:, spiked] / clean.values[:, spiked]
    changed = ~np.isclose(ratio, 1, rtol=0.02)
    assert np.all(changed.sum(axis=0) == 1)
    assert np.all((ratio[changed] > 4.5) & (ratio[changed] < 11))


def test_episodic_faults_start_at_their_rates_and_do_what_they_say(registry: Registry) -> None:
    t1 = T0 + 2 * DAY_MS
    clean = micro_only(registry, NONE).series(T0, t1)[0]
    sim = micro_only(registry, EPISODIC)
    faulty = sim.series(T0, t1)[0]
    episodes = sim.faults.episodes(faulty.group, len(faulty.keys), T0, t1)
    n = 200 * 2 * 1440
    for fault, rate in ((Fault.FLATLINE, 2e-4), (Fault.DRIFT, 2e-5), (Fault.OFFLINE, 2e-4)):
        started = [e for e in episodes if e.fault is fault and T0 <= e.start_ms < t1]
        assert within_binomial(len(started), n, rate), (fault, len(started))
    touched = ~faulty.has(None)
    assert np.array_equal(faulty.values[:, ~touched], clean.values[:, ~touched])
    alone = [e for e in episodes if [x.station for x in episodes].count(e.station) == 1]
    for e in alone:
        cells = (faulty.ts_ms >= e.start_ms) & (faulty.ts_ms < e.end_ms)
        if e.fault is Fault.FLATLINE:
            assert len(np.unique(faulty.values[e.key, e.station, cells])) == 1
        if e.fault is Fault.DRIFT:
            ratio = faulty.values[e.key, e.station, cells] / clean.values[e.key, e.station, cells]
            expected = 1 + e.drift * (faulty.ts_ms[cells] - e.start_ms) / (e.end_ms - e.start_ms)
            assert np.allclose(ratio, expected, rtol=0.02, atol=0.02)
    offline = faulty.has(Fault.OFFLINE)
    assert offline.any() and {e.fault for e in alone} == {
        Fault.FLATLINE,
        Fault.DRIFT,
        Fault.OFFLINE,
    }
    records = sim.chunk(T0, T0 + 3 * HOUR_MS)
    sent = {(r.station, r.ts_ms) for r in records if isinstance(r, SimReading)}
    ids = faulty.group.ids
    for s, t in zip(*np.nonzero(offline[:, :180]), strict=True):
        assert (ids[s], int(faulty.ts_ms[t])) not in sent


def test_same_seed_same_records_other_seed_other_records(registry: Registry) -> None:
    def run(seed: int) -> list[Record]:
        plan = SimPlan(seed, registry, start_ms=T0, end_ms=T0 + 2 * HOUR_MS, faults=PER_READING)
        return [r for batch in simulate(plan) for r in batch]

    first = run(5)
    assert first == run(5)
    other = run(6)
    assert len(first) > 24_000 and other != first


def test_any_chunking_gives_the_same_stream(registry: Registry) -> None:
    sim = Simulator(SimPlan(5, registry, faults=PER_READING))
    whole = sim.chunk(T0, T0 + 5 * HOUR_MS)
    cuts = [T0, T0 + 30 * 60_000, T0 + HOUR_MS, T0 + 4 * HOUR_MS + 7 * 60_000, T0 + 5 * HOUR_MS]
    pieces = [r for a, b in pairwise(cuts) for r in sim.chunk(a, b)]
    assert pieces == whole
    kinds = {(r.kind, r.interval_s) for r in whole if isinstance(r, SimReading)}
    assert kinds == {
        (StationKind.AIR, 60),
        (StationKind.AIR, 3600),
        (StationKind.WATER, 3600),
        (StationKind.WATER, 14_400),
    }


def test_batches_come_in_emission_order_and_from_now_by_default(registry: Registry) -> None:
    now = T0 + 10 * HOUR_MS + 30 * 60_000 + 12_345
    clock, end = ManualClock(now / 1000), T0 + 12 * HOUR_MS
    plan = SimPlan(1, registry, AIR, end_ms=end, clock=clock, faults=PER_READING)
    batches = list(simulate(plan))
    assert len(batches) == 2  # to the next full hour, then the rest
    records = [
        r
        for b in batches
        for r in b
        if isinstance(r, SimReading) and r.fault is not Fault.OUT_OF_ORDER
    ]
    assert records[0].ts_ms == now // 60_000 * 60_000
    assert all(a.ts_ms <= b.ts_ms for a, b in pairwise(records))
