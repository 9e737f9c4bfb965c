"""The air simulator's statistics: diurnal cycles, levels, episodes that spread, rain washout."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from pipeline.registry import Registry, StationKind
from pipeline.sources.simulator import (
    AirConfig,
    Episode,
    FaultConfig,
    Rain,
    Series,
    SimPlan,
    Simulator,
    synthetic_registry,
)
from pipeline.sources.simulator.stations import distance_km
from pipeline.timeutil import DAY_MS, HOUR_MS

T0 = int(datetime(2026, 1, 5, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp() * 1000)
QUIET = AirConfig(episodes_per_week=0, rain_per_week=0)


@pytest.fixture(scope="module")
def registry() -> Registry:
    return synthetic_registry(Registry.load(), n_air=60, n_water=0)


def micro(registry: Registry, t0: int, t1: int, air: AirConfig = AirConfig()) -> Series:  # noqa: B008
    plan = SimPlan(
        7, registry, frozenset({StationKind.AIR}), faults=FaultConfig.disabled(), air=air
    )
    return next(s for s in Simulator(plan).series(t0, t1) if s.group.interval_s == 60)


def hours(series: Series) -> np.ndarray:
    return (series.ts_ms + 8 * HOUR_MS) % DAY_MS // HOUR_MS


def mean_at(series: Series, key: str, first: int, last: int) -> float:
    """Mean of ``key`` over local clock hours first..last-1, all stations and days."""
    h = hours(series)
    return float(series[key][:, (h >= first) & (h < last)].mean())


@pytest.fixture(scope="module")
def week(registry: Registry) -> Series:
    return micro(registry, T0, T0 + 7 * DAY_MS)


def test_synthetic_micro_stations_near_district_centroids(registry: Registry) -> None:
    s = registry.stations["sim-air-0001"]
    assert (s.name_zh, s.name_en, s.kind) == ("模拟站0001", "Sim station 0001", StationKind.AIR)
    sim = [s for s in registry.of_kind(StationKind.AIR) if s.id.startswith("sim-air-")]
    assert len(sim) == 60 and {s.district for s in sim} == set(registry.districts)
    for s in sim:
        d = registry.districts[s.district]
        assert distance_km(s.lat, s.lon, d.lat, d.lon) < 10


def test_cadence_national_hourly_micro_per_minute(registry: Registry) -> None:
    plan = SimPlan(1, registry, frozenset({StationKind.AIR}))
    groups = {g.interval_s: g for g in Simulator(plan).groups}
    assert set(groups) == {60, 3600}
    assert all(i.startswith("sim-air-") for i in groups[60].ids)
    assert "1356A" in groups[3600].ids


def test_no2_and_co_peak_with_morning_traffic(week: Series) -> None:
    assert mean_at(week, "no2", 7, 9) > 1.4 * mean_at(week, "no2", 1, 4)
    assert mean_at(week, "no2", 18, 20) > 1.3 * mean_at(week, "no2", 1, 4)
    assert mean_at(week, "co", 7, 9) > mean_at(week, "co", 1, 4)


def test_o3_peaks_in_the_afternoon(week: Series) -> None:
    assert mean_at(week, "o3", 13, 17) > 2 * mean_at(week, "o3", 6, 10)
    h = hours(week)
    by_hour = [week["o3"][:, h == i].mean() for i in range(24)]
    assert 13 <= int(np.argmax(by_hour)) <= 16


def test_pm_builds_up_at_night(week: Series) -> None:
    for key in ("pm25", "pm10"):
        assert mean_at(week, key, 1, 5) > 1.3 * mean_at(week, key, 13, 17)


def test_levels_are_plausible_for_shenzhen(week: Series) -> None:
    def median(key: str) -> float:
        return float(np.median(week[key]))

    assert 10 <= median("pm25") <= 40
    assert 20 <= median("no2") <= 60
    assert 5 <= median("so2") <= 10
    assert 0.5 <= median("co") <= 1.0
    afternoon = (hours(week) >= 13) & (hours(week) < 17)
    assert 100 <= np.median(week["o3"][:, afternoon]) <= 200
    assert np.all(week["pm25"] <= week["pm10"])
    assert np.all(np.isfinite(week.values)) and np.all(week.values >= 0)


def district_ratio(with_event: Series, without: Series, key: str, district: str) -> np.ndarray:
    """Per step: the event's effect on a district's mean (same seed, so the same noise)."""
    rows = [i for i, s in enumerate(with_event.group.stations) if s.district == district]
    return with_event[key][rows].mean(axis=0) / without[key][rows].mean(axis=0)


def onset(series: Series, ratio: np.ndarray, threshold: float = 1.05) -> int:
    return int(series.ts_ms[np.argmax(ratio > threshold)])


def test_episode_starts_in_one_district_and_spreads_to_a_neighbour(registry: Registry) -> None:
    start = T0 + 2 * DAY_MS + 12 * HOUR_MS
    episode = Episode("futian", start, 2 * 86_400, peak=4.0)
    t0, t1 = start - DAY_MS, start + 2 * DAY_MS
    base = micro(registry, t0, t1, QUIET)
    hit = micro(registry, t0, t1, replace(QUIET, episodes=(episode,)))
    model = Simulator(SimPlan(7, registry)).air
    others = [d for d in registry.districts if d != "futian"]
    origin = list(registry.districts).index("futian")
    neighbour = min(
        others, key=lambda d: model.distances_km[origin, list(registry.districts).index(d)]
    )
    delay = model.spread_delay_ms("futian", neighbour)
    assert 1 * HOUR_MS < delay < 6 * HOUR_MS

    at_origin = district_ratio(hit, base, "pm25", "futian")
    nearby = district_ratio(hit, base, "pm25", neighbour)
    assert np.allclose(at_origin[hit.ts_ms < start], 1, atol=0.01)
    assert abs(onset(hit, at_origin) - start) < HOUR_MS
    assert abs(onset(hit, nearby) - onset(hit, at_origin) - delay) < 20 * 60_000
    plateau = (hit.ts_ms >= start + 12 * HOUR_MS) & (hit.ts_ms < start + 24 * HOUR_MS)
    assert at_origin[plateau].mean() > 3  # PM2.5 ~4x at the origin, into episode levels
    assert 1.8 < nearby[plateau].mean() < at_origin[plateau].mean()  # weaker further away
    rows = [i for i, s in enumerate(hit.group.stations) if s.district == "futian"]
    assert 75 <= np.median(hit["pm25"][rows][:, plateau]) <= 150


def test_rain_washes_out_pm(registry: Registry) -> None:
    start = T0 + 3 * DAY_MS + 10 * HOUR_MS
    t0, t1 = start - DAY_MS, start + 2 * DAY_MS
    base = micro(registry, t0, t1, QUIET)
    wet = micro(registry, t0, t1, replace(QUIET, rains=(Rain(start, 4 * 3600, 0.7),)))
    ts = wet.ts_ms
    ratio = wet["pm10"].mean(axis=0) / base["pm10"].mean(axis=0)
    assert np.allclose(ratio[ts < start], 1, atol=0.01)
    last_hour = (ts >= start + 3 * HOUR_MS) & (ts < start + 4 * HOUR_MS)
    hour_before = (ts >= start - HOUR_MS) & (ts < start)
    assert ratio[last_hour].max() < 0.45
    assert wet["pm10"][:, last_hour].mean() < 0.6 * wet["pm10"][:, hour_before].mean()
    assert ratio[ts >= start + 28 * HOUR_MS].min() > 0.9  # recovered a day later
