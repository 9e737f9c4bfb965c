"""The water simulator: DO cycle, target classes, discharges travelling downstream; and the
synthetic rivers and registry file."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from pipeline.registry import Registry, StationKind
from pipeline.sources.simulator import (
    Cadence,
    Discharge,
    FaultConfig,
    Series,
    SimPlan,
    Simulator,
    WaterConfig,
    synthetic_registry,
    to_yaml,
)
from pipeline.standards.water import WATER_KEYS, WaterClass, classify_water
from pipeline.timeutil import DAY_MS, HOUR_MS

T0 = int(datetime(2026, 7, 6, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp() * 1000)
WATER = frozenset({StationKind.WATER})


@pytest.fixture(scope="module")
def registry() -> Registry:
    return synthetic_registry(Registry.load(), n_air=3, n_water=6)


def water(registry: Registry, t0: int, t1: int, config: WaterConfig, cadence: Cadence) -> Series:
    plan = SimPlan(3, registry, WATER, faults=FaultConfig.disabled(), water=config, cadence=cadence)
    groups = Simulator(plan).series(t0, t1)
    return next(s for s in groups if s.group.interval_s == cadence.water_city_s)


@pytest.fixture(scope="module")
def fortnight(registry: Registry) -> list[Series]:
    plan = SimPlan(3, registry, WATER, faults=FaultConfig.disabled())
    return Simulator(plan).series(T0, T0 + 14 * DAY_MS)


def test_synthetic_rivers_and_the_registry_file_round_trip(
    registry: Registry, tmp_path: Path
) -> None:
    assert registry.rivers["sim-r-01"].section_ids == tuple(f"sim-w-000{i}" for i in range(1, 5))
    assert registry.rivers["sim-r-02"].section_ids == ("sim-w-0005", "sim-w-0006")
    s = registry.stations["sim-w-0002"]
    assert (s.name_zh, s.name_en, s.river, s.section_order) == (
        "模拟断面0002",
        "Sim section 0002",
        "sim-r-01",
        1,
    )
    assert s.target in {"I", "II", "III", "IV", "V"} and s.district in registry.districts
    path = tmp_path / "city.yaml"
    path.write_text(to_yaml(registry), "utf-8")
    loaded = Registry.load(path)
    assert loaded.stations == registry.stations
    assert loaded.rivers == registry.rivers
    assert loaded.districts == registry.districts and loaded.city == registry.city
    with pytest.raises(ValueError, match="synthetic"):
        synthetic_registry(registry, 1, 0)


def test_cadence_national_sections_every_4_hours(fortnight: list[Series]) -> None:
    by_interval = {s.group.interval_s: s for s in fortnight}
    assert set(by_interval) == {3600, 14_400}
    assert "mzh-gonghe" in by_interval[14_400].group.ids
    assert all(i.startswith("sim-w-") for i in by_interval[3600].group.ids)
    assert np.all(np.diff(by_interval[14_400].ts_ms) == 14_400_000)


def test_do_peaks_mid_afternoon_and_bottoms_before_dawn(fortnight: list[Series]) -> None:
    for s in fortnight:
        h = (s.ts_ms + 8 * HOUR_MS) % DAY_MS // HOUR_MS
        afternoon = s["do"][:, (h >= 12) & (h < 17)].mean(axis=1)
        pre_dawn = s["do"][:, (h >= 3) & (h < 7)].mean(axis=1)
        assert np.all(afternoon > pre_dawn + 0.8)


def test_values_plausible_and_sections_mostly_meet_their_target(fortnight: list[Series]) -> None:
    for s in fortnight:
        v = s.values
        assert np.all(np.isfinite(v)) and np.all(np.delete(v, s.keys.index("temp"), 0) >= 0)
        assert np.all(s["tn"] >= s["nh3n"]) and np.all(s["codmn"] <= s["cod"])
        assert np.all((s["ph"] > 6.5) & (s["ph"] < 8.5)) and np.all(
            (s["temp"] > 20) & (s["temp"] < 36)
        )
        for i, station in enumerate(s.group.stations):
            target = WaterClass.parse(station.target or "III")
            met = [
                classify_water({k: s[k][i, j] for k in WATER_KEYS}, station.lake).water_class
                <= target
                for j in range(0, len(s.ts_ms), 4)
            ]
            assert np.mean(met) >= 0.85, station.id


def test_discharge_travels_downstream_with_delay_and_attenuation(registry: Registry) -> None:
    start = T0 + DAY_MS + 10 * HOUR_MS
    quiet = WaterConfig(discharges_per_week=0, travel_h=4.0, attenuation=0.6)
    spill = replace(quiet, discharges=(Discharge("sim-w-0001", start, 3 * 3600, 5.0),))
    cadence = Cadence(water_city_s=600)
    t0, t1 = start - 6 * HOUR_MS, start + DAY_MS
    base, hit = (water(registry, t0, t1, c, cadence) for c in (quiet, spill))
    ratio = hit["nh3n"] / base["nh3n"]
    sections = hit.group.ids
    onsets, peaks = [], []
    for k in range(4):
        r = ratio[sections.index(f"sim-w-000{k + 1}")]
        onsets.append(int(hit.ts_ms[np.argmax(r > 1.2)]))
        peaks.append(r.max())
        assert np.allclose(r[hit.ts_ms < start + k * 4 * HOUR_MS], 1, atol=0.02)
    for k in range(1, 4):
        assert abs(onsets[k] - onsets[0] - k * 4 * HOUR_MS) <= 30 * 60_000
    assert peaks[0] > 5 and peaks[0] > peaks[1] > peaks[2] > peaks[3] > 1.2
    other_river = ratio[sections.index("sim-w-0005")]
    assert np.allclose(other_river, 1, atol=0.02)
    tp = hit["tp"] / base["tp"]
    assert tp[sections.index("sim-w-0002")].max() > 1.5
