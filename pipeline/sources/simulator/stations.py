"""Stations, time grids and keyed randomness: the plumbing the air and water models and the fault
injection share.

- Which stations: the registry's, or synthetic ones added by :func:`synthetic_registry` (and
  written out by :func:`to_yaml` for services that validate against a registry file).
- How: a :class:`StationGroup` is the stations of one kind and one reporting interval, simulated
  together as one stations × time-steps array.
- With which randomness: every draw comes from a generator keyed by the seed and what it is for
  (:func:`keyed_rng`). Per-reading draws are keyed by fixed blocks of time and events by day, so a
  reading is a pure function of (plan, station, time): a chunk [t0, t1) comes out the same whether
  generated alone or as part of a longer range.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

import msgspec
import numpy as np
import yaml

from pipeline.registry import Registry, River, Station, StationKind
from pipeline.timeutil import DAY_MS

SYNTHETIC_PREFIX = "sim-"
SECTIONS_PER_RIVER = 4
_SECTION_TARGETS = ("II", "III", "III", "IV")  # synthetic rivers get dirtier downstream
_SECTION_SPACING_DEG = 0.036  # ~4 km
_MICRO_SCATTER_DEG = 0.02  # ~2 km around the district centroid
_KM_PER_DEG = 111.2
_SLOW_PERIODS_H = np.array([31.0, 57.0, 97.0, 163.0])  # incommensurate: weather-like, not periodic


def is_synthetic(station_id: str) -> bool:
    return station_id.startswith(SYNTHETIC_PREFIX)


def keyed_rng(seed: int, *key: int | str) -> np.random.Generator:
    """A PCG64 generator for one purpose: same seed and key, same stream."""
    words = [seed, *(zlib.crc32(k.encode()) if isinstance(k, str) else k for k in key)]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(words)))


def distance_km(lat_a: np.ndarray, lon_a: np.ndarray, lat_b: np.ndarray, lon_b: np.ndarray):
    """Equirectangular distance (arrays broadcast); exact enough within a city."""
    cos_lat = np.cos(np.radians((lat_a + lat_b) / 2))
    return _KM_PER_DEG * np.hypot((lon_b - lon_a) * cos_lat, lat_b - lat_a)


# --- synthetic stations and the registry file ------------------------------------------------


def synthetic_registry(base: Registry, n_air: int, n_water: int, *, seed: int = 0) -> Registry:
    """``base`` plus ``n_air`` micro-stations (``sim-air-0001``…) scattered ~2 km around the
    district centroids in turn, and ``n_water`` sections (``sim-w-0001``…) along synthetic rivers
    (``sim-r-01``…) of up to four sections 4 km apart, upstream first."""
    if any(is_synthetic(s) for s in base.stations):
        raise ValueError("the base registry already holds synthetic stations")
    rng = keyed_rng(seed, "synthetic-registry")
    districts = list(base.districts.values())
    lats = np.array([d.lat for d in districts])
    lons = np.array([d.lon for d in districts])
    stations = dict(base.stations)
    for i in range(1, n_air + 1):
        d = districts[(i - 1) % len(districts)]
        dlat, dlon = rng.normal(0.0, _MICRO_SCATTER_DEG, 2).tolist()
        sid = f"sim-air-{i:04d}"
        stations[sid] = Station(
            id=sid,
            kind=StationKind.AIR,
            name_zh=f"模拟站{i:04d}",
            name_en=f"Sim station {i:04d}",
            district=d.id,
            lat=round(d.lat + dlat, 5),
            lon=round(d.lon + dlon, 5),
        )
    rivers = dict(base.rivers)
    for r, first in enumerate(range(0, n_water, SECTIONS_PER_RIVER), start=1):
        rid, spring = f"sim-r-{r:02d}", districts[(r - 1) % len(districts)]
        heading = rng.uniform(0, 2 * math.pi)
        numbers = range(first + 1, min(first + SECTIONS_PER_RIVER, n_water) + 1)
        for order, n in enumerate(numbers):
            lat = round(spring.lat + order * _SECTION_SPACING_DEG * math.sin(heading), 5)
            lon = round(spring.lon + order * _SECTION_SPACING_DEG * math.cos(heading), 5)
            sid = f"sim-w-{n:04d}"
            stations[sid] = Station(
                id=sid,
                kind=StationKind.WATER,
                name_zh=f"模拟断面{n:04d}",
                name_en=f"Sim section {n:04d}",
                district=districts[int(np.argmin(distance_km(lats, lons, lat, lon)))].id,
                lat=lat,
                lon=lon,
                river=rid,
                section_order=order,
                target=_SECTION_TARGETS[min(order, len(_SECTION_TARGETS) - 1)],
            )
        sections = tuple(f"sim-w-{n:04d}" for n in numbers)
        rivers[rid] = River(rid, f"模拟河{r:02d}", f"Sim river {r:02d}", sections)
    source = f"{base.source}+synthetic(air={n_air},water={n_water},seed={seed})"
    return Registry(base.city, base.districts, stations, rivers, source)


def to_yaml(registry: Registry) -> str:
    """The registry in the file format of ``pipeline/data/shenzhen.yaml``; ``Registry.load``
    reads it back to an equal registry."""
    doc = {
        "schema_version": 1,
        "city": msgspec.structs.asdict(registry.city),
        "districts": [msgspec.structs.asdict(d) for d in registry.districts.values()],
        "air_stations": [
            {k: getattr(s, k) for k in ("id", "name_zh", "name_en", "district", "lat", "lon")}
            for s in registry.of_kind(StationKind.AIR)
        ],
        "rivers": [
            {
                "id": r.id,
                "name_zh": r.name_zh,
                "name_en": r.name_en,
                "sections": [_section_doc(registry.stations[sid]) for sid in r.section_ids],
            }
            for r in registry.rivers.values()
        ],
    }
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=120)


def _section_doc(s: Station) -> dict[str, object]:
    keys = ("id", "name_zh", "name_en", "district", "target", "lat", "lon")
    return {k: getattr(s, k) for k in keys} | ({"lake": True} if s.lake else {})


# --- groups, time grids and per-reading draws -------------------------------------------------


@dataclass(frozen=True)
class StationGroup:
    """Stations of one kind reporting at one interval, simulated as one stations × steps array."""

    kind: StationKind
    interval_s: int
    stations: tuple[Station, ...]

    @property
    def key(self) -> str:
        return f"{self.kind}-{self.interval_s}"

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.stations)

    @property
    def block_s(self) -> int:
        """Per-reading draws come in blocks of this length: a multiple of the interval, >= 1 h."""
        return self.interval_s * -(-3600 // self.interval_s)


def station_groups(
    stations: Iterable[Station], interval_of: Callable[[Station], int]
) -> list[StationGroup]:
    by_cadence: dict[tuple[StationKind, int], list[Station]] = {}
    for s in stations:
        by_cadence.setdefault((s.kind, interval_of(s)), []).append(s)
    return [StationGroup(k, i, tuple(ss)) for (k, i), ss in sorted(by_cadence.items())]


class Model(Protocol):
    """What the air and water models provide: values of ``keys`` for stations × steps."""

    keys: tuple[str, ...]
    decimals: tuple[int, ...]

    def evaluate(self, group: StationGroup, ts_ms: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Values (keys, stations, steps) of the readings starting at ``ts_ms``; ``z`` (same
        shape) is standard normal measurement noise, zeros for the noise-free values."""
        ...


def time_grid(t0_ms: int, t1_ms: int, interval_s: int) -> np.ndarray:
    """Reading timestamps in [t0, t1): multiples of the interval since the epoch, each the start of
    its averaging period (HJ 212 DataTime convention)."""
    step = interval_s * 1000
    return np.arange(-(-t0_ms // step) * step, t1_ms, step, dtype=np.int64)


def local_hour(ts_ms: np.ndarray, tz: ZoneInfo) -> np.ndarray:
    """Local clock hour (0–24, fractional); the offset at the first timestamp applies to all
    (Asia/Shanghai keeps no daylight saving time)."""
    if len(ts_ms) == 0:
        return np.zeros(0)
    offset = datetime.fromtimestamp(int(ts_ms[0]) / 1000, tz).utcoffset()
    offset_ms = int(offset.total_seconds() * 1000) if offset else 0
    return ((ts_ms + offset_ms) % DAY_MS) / 3_600_000


def noise_scale(interval_s: int) -> float:
    """Relative noise of an average over ``interval_s``, against a one-minute reading."""
    return (60 / interval_s) ** 0.25


def event_days(t0_ms: int, t1_ms: int, lookback_ms: int) -> range:
    """Days (since the epoch) whose events may touch [t0, t1): events are drawn per day."""
    return range((t0_ms - lookback_ms) // DAY_MS, (t1_ms - 1) // DAY_MS + 1)


@dataclass(frozen=True, slots=True)
class CellDraws:
    """The random draws of each reading (cell = station × step)."""

    z: np.ndarray  # (keys, stations, steps) standard normal: measurement noise
    u: np.ndarray  # (stations, steps) uniform: whether a per-reading fault hits
    aux: np.ndarray  # (stations, steps) uniform: the fault's details


def cell_draws(seed: int, group: StationGroup, n_keys: int, ts_ms: np.ndarray) -> CellDraws:
    """Draws for the readings at ``ts_ms`` (a grid of the group's interval), block by block."""
    block_ms, step_ms = group.block_s * 1000, group.interval_s * 1000
    per_block, n = group.block_s // group.interval_s, len(group.stations)
    blocks = ts_ms // block_ms
    zs, us = [np.zeros((n_keys, n, 0))], [np.zeros((2, n, 0))]
    for block in np.unique(blocks).tolist():
        rng = keyed_rng(seed, "cells", group.key, block)
        z = rng.standard_normal((n_keys, n, per_block))
        u = rng.random((2, n, per_block))
        cols = (ts_ms[blocks == block] - block * block_ms) // step_ms
        zs.append(z[:, :, cols])
        us.append(u[:, :, cols])
    u = np.concatenate(us, axis=2)
    return CellDraws(np.concatenate(zs, axis=2), u[0], u[1])


def station_normals(seed: int, tag: str, ids: Iterable[str], k: int) -> np.ndarray:
    """(stations, k) standard normals fixed per station id: the same with or without others."""
    return np.array([keyed_rng(seed, tag, sid).standard_normal(k) for sid in ids]).reshape(-1, k)


def slow_wave(phases: np.ndarray, t_h: np.ndarray) -> np.ndarray:
    """Smooth weather-like variation, mean 0 and s.d. 1, for each row of ``phases`` (n, 4)
    over times ``t_h`` (hours since the epoch): (n, steps)."""
    angles = 2 * np.pi * t_h[None, None, :] / _SLOW_PERIODS_H[None, :, None] + phases[:, :, None]
    return np.sin(angles).sum(axis=1) / math.sqrt(len(_SLOW_PERIODS_H) / 2)


def pulse(t_ms: np.ndarray, start_ms, rise_ms, plateau_ms, fall_ms) -> np.ndarray:
    """0 before ``start``, a smooth rise to 1, a plateau, a smooth fall to 0 (arrays broadcast)."""
    up = np.clip((t_ms - start_ms) / rise_ms, 0.0, 1.0)
    down = np.clip((t_ms - start_ms - rise_ms - plateau_ms) / fall_ms, 0.0, 1.0)
    return _smoothstep(up) * (1.0 - _smoothstep(down))


def _smoothstep(x: np.ndarray) -> np.ndarray:
    return x * x * (3.0 - 2.0 * x)
