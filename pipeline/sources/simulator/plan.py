"""What to simulate (:class:`SimPlan`: stations, cadences, period, events, faults) and the
:class:`Simulator` that generates it.

A reading is a pure function of the plan, the station and the time, so the simulator generates
any range [t0, t1) on its own and the same range always gives the same records. The modes are
pacing on top of that: backfill generates chunk after chunk as fast as it can; real time
(``--speed 1``) or accelerated (``--speed 60``) sends each chunk when the (scaled) clock reaches
its end.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np

from pipeline.registry import Registry, Station, StationKind
from pipeline.sources.simulator.air import AirConfig, AirModel
from pipeline.sources.simulator.faults import FaultConfig, FaultInjector, Record, Series, emit
from pipeline.sources.simulator.stations import (
    Model,
    StationGroup,
    cell_draws,
    is_synthetic,
    station_groups,
    time_grid,
)
from pipeline.sources.simulator.water import WaterConfig, WaterModel
from pipeline.timeutil import Clock, system_clock

_MAX_INTERVAL_S = 86_400


@dataclass(frozen=True)
class Cadence:
    """Reporting interval (s) by kind of station; registry air stations are national-control
    (hourly means), synthetic ones micro-stations; ``overrides`` by station id."""

    air_national_s: int = 3600
    air_micro_s: int = 60
    water_national_s: int = 14_400
    water_city_s: int = 3600
    overrides: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        intervals = [
            self.air_national_s,
            self.air_micro_s,
            self.water_national_s,
            self.water_city_s,
        ]
        if not all(0 < i <= _MAX_INTERVAL_S for i in [*intervals, *self.overrides.values()]):
            raise ValueError(f"reporting intervals must be within 1..{_MAX_INTERVAL_S} s")

    def interval_s(self, station: Station) -> int:
        if station.id in self.overrides:
            return self.overrides[station.id]
        synthetic = is_synthetic(station.id)
        if station.kind is StationKind.AIR:
            return self.air_micro_s if synthetic else self.air_national_s
        return self.water_city_s if synthetic else self.water_national_s


def kinds_of(text: str) -> frozenset[StationKind]:
    """``air``, ``water`` or ``all``."""
    if text == "all":
        return frozenset(StationKind)
    return frozenset({StationKind(text)})


@dataclass(frozen=True)
class SimPlan:
    """What to simulate: the same plan always gives the same records."""

    seed: int
    registry: Registry
    kinds: frozenset[StationKind] = frozenset(StationKind)
    start_ms: int | None = None  # None: now, to the minute
    end_ms: int | None = None  # None: open-ended
    chunk_s: int = 3600  # batches are aligned to multiples of this
    cadence: Cadence = field(default_factory=Cadence)
    faults: FaultConfig = field(default_factory=FaultConfig)
    air: AirConfig = field(default_factory=AirConfig)
    water: WaterConfig = field(default_factory=WaterConfig)
    stations: frozenset[str] | None = None  # a subset of the registry; None: all of ``kinds``
    clock: Clock = system_clock

    def __post_init__(self) -> None:
        if self.seed < 0:
            raise ValueError("the seed must be a non-negative integer")
        if self.chunk_s <= 0:
            raise ValueError("chunk_s must be positive")
        if self.stations is not None and (unknown := self.stations - self.registry.stations.keys()):
            raise ValueError(f"stations not in the registry: {sorted(unknown)}")

    def period(self) -> tuple[int, int | None]:
        """[start, end) in epoch ms; a missing start is now, to the minute."""
        start = self.start_ms if self.start_ms is not None else int(self.clock()) // 60 * 60_000
        return start, self.end_ms


class Simulator:
    """Generates any time range of a plan's readings, group of stations by group."""

    def __init__(self, plan: SimPlan) -> None:
        self.plan = plan
        chosen = [
            s
            for s in plan.registry.stations.values()
            if s.kind in plan.kinds and (plan.stations is None or s.id in plan.stations)
        ]
        self.groups = station_groups(chosen, plan.cadence.interval_s)
        self.air = AirModel(plan.registry, plan.air, plan.seed)
        self.water = WaterModel(plan.registry, plan.water, plan.seed)
        self.faults = FaultInjector(plan.faults, plan.seed)

    def model(self, group: StationGroup) -> Model:
        return self.air if group.kind is StationKind.AIR else self.water

    def series(self, t0_ms: int, t1_ms: int) -> list[Series]:
        """Each group's readings with timestamps in [t0, t1), faults injected."""
        return [self._series(g, t0_ms, t1_ms) for g in self.groups]

    def chunk(self, t0_ms: int, t1_ms: int) -> list[Record]:
        """The records emitted in [t0, t1), in emission order."""
        records: list[Record] = []
        orders = [np.zeros(0, dtype=np.int64)]
        for g in self.groups:  # from one step earlier: its out-of-order readings come out now
            part, order = emit(self._series(g, t0_ms - g.interval_s * 1000, t1_ms), t0_ms, t1_ms)
            records += part
            orders.append(order)
        return [records[i] for i in np.argsort(np.concatenate(orders), kind="stable").tolist()]

    def _series(self, group: StationGroup, t0_ms: int, t1_ms: int) -> Series:
        model = self.model(group)
        ts = time_grid(t0_ms, t1_ms, group.interval_s)
        shape = (len(model.keys), len(group.stations), len(ts))
        if len(ts) == 0:
            return Series(group, model.keys, ts, np.zeros(shape), np.zeros(shape[1:], np.int8))
        draws = cell_draws(self.plan.seed, group, len(model.keys), ts)
        values = model.evaluate(group, ts, draws.z)
        fault = self.faults.apply(group, model, ts, values, draws)
        for i, decimals in enumerate(model.decimals):
            np.round(values[i], decimals, out=values[i])
        return Series(group, model.keys, ts, values, fault)


def simulate(plan: SimPlan) -> Iterator[list[Record]]:
    """Batches of records in emission order, one per chunk of the period (for ever when
    open-ended); chunks end at multiples of ``plan.chunk_s``."""
    simulator = Simulator(plan)
    t0, end = plan.period()
    chunk_ms = plan.chunk_s * 1000
    while end is None or t0 < end:
        t1 = (t0 // chunk_ms + 1) * chunk_ms
        t1 = t1 if end is None else min(t1, end)
        yield simulator.chunk(t0, t1)
        t0 = t1
