"""Ambient air at Shenzhen levels (μg/m³, CO mg/m³), vectorised over stations × steps.

Each value is a product of factors:

- diurnal cycles on the local clock: traffic NO2/CO peaks at ~8:00 and ~19:00, photochemical O3
  peaking ~15:00, PM higher at night under the shallow boundary layer (max ~3:00, min ~15:00);
- slow weather variation, city-wide plus per district, over days;
- PM episodes: a district's PM rises several-fold for days, and the episode spreads to the other
  districts after (centroid distance / spread speed), weakened with distance;
- rain: PM washed out within about an hour of a rain's start, recovering over hours afterwards;
  clouds cut O3;
- a per-station site factor and per-reading measurement noise.

PM2.5 is PM10 times a fine fraction (0.55 normally, ~0.7 in episodes, <= 0.95), so PM2.5 <= PM10.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from pipeline.registry import Registry
from pipeline.sources.simulator.stations import (
    StationGroup,
    distance_km,
    event_days,
    keyed_rng,
    local_hour,
    noise_scale,
    pulse,
    slow_wave,
    station_normals,
)
from pipeline.timeutil import DAY_MS, HOUR_MS

AIR_KEYS = ("so2", "no2", "co", "o3", "pm10", "pm25")
_DECIMALS = (1, 1, 2, 1, 1, 1)
# relative noise of a one-minute reading; for pm25, of its fine fraction
_SIGMA = np.array([0.15, 0.15, 0.10, 0.10, 0.12, 0.05])
_SITE_SIGMA = np.array([0.20, 0.20, 0.15, 0.08, 0.15])  # so2 no2 co o3 pm10
_RAIN_IN_H, _RAIN_OUT_H = 1.0, 6.0  # washout time constants: during and after the rain


@dataclass(frozen=True, slots=True)
class Episode:
    """A PM episode starting in ``district``: rise, plateau, fall over ``duration_s`` in all; PM10
    at the origin multiplied by up to ``peak`` (PM2.5 a little more: its fine fraction rises)."""

    district: str
    start_ms: int
    duration_s: int
    peak: float


@dataclass(frozen=True, slots=True)
class Rain:
    """City-wide rain; ``strength`` is the fraction of PM washed out by a long rain."""

    start_ms: int
    duration_s: int
    strength: float


@dataclass(frozen=True)
class AirConfig:
    """Random events (rates per week; 0 disables) and scheduled ones."""

    episodes_per_week: float = 0.3
    episode_days: tuple[float, float] = (1.0, 3.0)
    episode_peak: tuple[float, float] = (3.0, 5.0)
    episode_rise_h: float = 6.0
    spread_kmh: float = 4.0
    spread_decay_km: float = 40.0
    rain_per_week: float = 2.0
    rain_hours: tuple[float, float] = (1.0, 6.0)
    rain_strength: tuple[float, float] = (0.4, 0.8)
    episodes: tuple[Episode, ...] = ()
    rains: tuple[Rain, ...] = ()


class AirModel:
    """Air values of a registry's stations; events drawn per day from the seed."""

    keys = AIR_KEYS
    decimals = _DECIMALS

    def __init__(self, registry: Registry, config: AirConfig, seed: int) -> None:
        self.config = config
        self._seed = seed
        self._tz = ZoneInfo(registry.city.timezone)
        self._district_index = {d: i for i, d in enumerate(registry.districts)}
        if unknown := {e.district for e in config.episodes} - self._district_index.keys():
            raise ValueError(f"scheduled episodes name unknown districts {sorted(unknown)}")
        lat = np.array([d.lat for d in registry.districts.values()])
        lon = np.array([d.lon for d in registry.districts.values()])
        self.distances_km = distance_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
        n = len(lat)
        self._phases = keyed_rng(seed, "air-weather").uniform(0, 2 * np.pi, (n + 1, 4))
        self._sites: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        longest = max(
            [config.episode_days[1] * DAY_MS] + [e.duration_s * 1000 for e in config.episodes]
        )
        delay = self.distances_km.max() / config.spread_kmh * HOUR_MS
        self._episode_lookback = int(longest + delay)
        rain_longest = max([config.rain_hours[1]] + [r.duration_s / 3600 for r in config.rains])
        self._rain_lookback = int((rain_longest + 6 * _RAIN_OUT_H) * HOUR_MS)

    # --- events ---

    def episodes(self, t0_ms: int, t1_ms: int) -> list[Episode]:
        """Scheduled and random episodes that may touch [t0, t1), in start order."""
        c = self.config
        found = [e for e in c.episodes if _touches(e, t0_ms, t1_ms, self._episode_lookback)]
        districts = list(self._district_index)
        for day in event_days(t0_ms, t1_ms, self._episode_lookback):
            rng = keyed_rng(self._seed, "air-episodes", day)
            for _ in range(rng.poisson(c.episodes_per_week / 7)):
                found.append(
                    Episode(
                        districts[rng.integers(len(districts))],
                        day * DAY_MS + int(rng.integers(DAY_MS)),
                        int(rng.uniform(*c.episode_days) * 86_400),
                        float(rng.uniform(*c.episode_peak)),
                    )
                )
        return sorted(found, key=lambda e: e.start_ms)

    def rains(self, t0_ms: int, t1_ms: int) -> list[Rain]:
        """Scheduled and random rains that may touch [t0, t1), in start order."""
        c = self.config
        found = [r for r in c.rains if _touches(r, t0_ms, t1_ms, self._rain_lookback)]
        for day in event_days(t0_ms, t1_ms, self._rain_lookback):
            rng = keyed_rng(self._seed, "air-rain", day)
            for _ in range(rng.poisson(c.rain_per_week / 7)):
                found.append(
                    Rain(
                        day * DAY_MS + int(rng.integers(DAY_MS)),
                        int(rng.uniform(*c.rain_hours) * 3600),
                        float(rng.uniform(*c.rain_strength)),
                    )
                )
        return sorted(found, key=lambda r: r.start_ms)

    def spread_delay_ms(self, origin: str, district: str) -> int:
        """How long after its start an episode reaches ``district``."""
        km = self.distances_km[self._district_index[origin], self._district_index[district]]
        return int(km / self.config.spread_kmh * HOUR_MS)

    # --- values ---

    def evaluate(self, group: StationGroup, ts_ms: np.ndarray, z: np.ndarray) -> np.ndarray:
        mid = ts_ms + group.interval_s * 500  # an average is best described by its mid-point
        t0, t1 = int(ts_ms[0]), int(ts_ms[-1]) + group.interval_s * 1000
        hour = local_hour(mid, self._tz)
        district, site = self._site(group)
        waves = slow_wave(self._phases, mid / HOUR_MS)
        weather = np.exp(0.3 * waves[-1] + 0.12 * waves[:-1])[district]  # city-wide + district
        episode = self._episode_factor(mid, t0, t1)[district]
        washout, clouds = self._rain_factors(mid, t0, t1)
        traffic = 0.7 + 0.7 * _bump(hour, 8.0, 1.5) + 0.6 * _bump(hour, 19.0, 2.0)
        night = 1.0 + 0.2 * np.cos(2 * np.pi * (hour - 3.0) / 24)
        sigma = _SIGMA[:, None, None] * noise_scale(group.interval_s)
        noise = np.exp(sigma * z)

        out = np.empty((len(AIR_KEYS), *episode.shape))
        out[0] = 7.0 * weather**0.3 * (1 + 0.1 * np.sin(2 * np.pi * (hour - 10) / 24))
        out[1] = 30.0 * traffic * weather**0.5 * episode**0.3 * (0.8 + 0.2 * washout)
        out[2] = 0.62 * (0.75 + 0.25 * traffic) * weather**0.3 * episode**0.25
        out[3] = (35.0 + 115.0 * _bump(hour, 15.0, 3.0) * clouds) * episode**0.15
        out[4] = 35.0 * weather * night * episode * washout
        out[:5] *= site[:, :, None] * noise[:5]
        fine = 0.55 + 0.2 * (1.0 - 1.0 / episode)
        out[5] = out[4] * np.clip(fine * noise[5], 0.3, 0.95)
        return out

    def _site(self, group: StationGroup) -> tuple[np.ndarray, np.ndarray]:
        """Per station: district index, and site factors (keys so2..pm10, stations)."""
        if group.key not in self._sites:
            district = np.array([self._district_index[s.district] for s in group.stations])
            z = station_normals(self._seed, "air-site", group.ids, len(_SITE_SIGMA))
            self._sites[group.key] = district, np.exp(_SITE_SIGMA[:, None] * z.T)
        return self._sites[group.key]

    def _episode_factor(self, t_ms: np.ndarray, t0: int, t1: int) -> np.ndarray:
        """(districts, steps) PM multiplier of the episodes touching [t0, t1)."""
        factor = np.ones((len(self._district_index), len(t_ms)))
        rise = self.config.episode_rise_h * HOUR_MS
        for e in self.episodes(t0, t1):
            km = self.distances_km[self._district_index[e.district]][:, None]
            delay = km / self.config.spread_kmh * HOUR_MS
            plateau = max(e.duration_s * 1000 - 2 * rise, 0)
            shape = pulse(t_ms[None, :], e.start_ms + delay, rise, plateau, rise)
            factor += (e.peak - 1) * np.exp(-km / self.config.spread_decay_km) * shape
        return factor

    def _rain_factors(self, t_ms: np.ndarray, t0: int, t1: int) -> tuple[np.ndarray, np.ndarray]:
        """(steps,) PM washout and O3 cloud factors of the rains touching [t0, t1)."""
        washout, clouds = np.ones(len(t_ms)), np.ones(len(t_ms))
        for r in self.rains(t0, t1):
            end = r.start_ms + r.duration_s * 1000
            during = 1 - np.exp(-np.clip(t_ms - r.start_ms, 0, None) / (_RAIN_IN_H * HOUR_MS))
            at_end = 1 - np.exp(-(r.duration_s / 3600) / _RAIN_IN_H)
            after = at_end * np.exp(-np.clip(t_ms - end, 0, None) / (_RAIN_OUT_H * HOUR_MS))
            wet = np.where(t_ms < end, during, after) * (t_ms >= r.start_ms)
            washout *= 1 - r.strength * wet
            clouds *= 1 - 0.6 * wet
        return washout, clouds


def _bump(hour: np.ndarray, at: float, width: float) -> np.ndarray:
    """A Gaussian bump on the 24-hour clock (wraps around midnight)."""
    d = np.abs(hour - at)
    d = np.minimum(d, 24 - d)
    return np.exp(-0.5 * (d / width) ** 2)


def _touches(event: Episode | Rain, t0_ms: int, t1_ms: int, lookback_ms: int) -> bool:
    return t0_ms - lookback_ms <= event.start_ms < t1_ms
