"""River water quality at automatic stations (mg/L, pH unitless, °C, μS/cm, NTU), vectorised.

- Levels follow each section's target class (GB 3838-2002, ``standards/tables/gb3838_2002.yaml``):
  pollutants near 55 % of the target class limit, DO about 2 mg/L above its limit, so a section
  meets its target most of the time.
- DO follows photosynthesis: highest mid-afternoon (~15:00), lowest before dawn (~05:30); pH
  follows it a little. Water temperature has a seasonal and a small diurnal cycle.
- Discharges: NH3-N, TP, COD (and turbidity) rise at a section and the plume travels downstream,
  reaching the k-th section below after k × ``travel_h``, weakened by ``attenuation`` per section
  and broadened; DO sags under it.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from pipeline.registry import Registry, StationKind
from pipeline.sources.simulator.stations import (
    StationGroup,
    event_days,
    keyed_rng,
    local_hour,
    noise_scale,
    pulse,
    slow_wave,
    station_normals,
)
from pipeline.standards.tables import load_table
from pipeline.timeutil import DAY_MS, HOUR_MS

WATER_KEYS = ("ph", "do", "codmn", "cod", "bod5", "nh3n", "tp", "tn", "temp", "cond", "turb")
_DECIMALS = (2, 2, 2, 1, 2, 3, 3, 2, 1, 0, 1)
_SIGMA = np.array([0.01, 0.05, 0.08, 0.08, 0.10, 0.12, 0.10, 0.08, 0.01, 0.03, 0.15])
_POLLUTANTS = ("codmn", "cod", "bod5", "nh3n", "tp")  # set from the target class limit
_CLASSES = ("I", "II", "III", "IV", "V")
# how strongly a discharge raises each pollutant, relative to its NH3-N rise
_PLUME = np.array([0.4, 0.5, 0.5, 1.0, 0.8])
_DO_AMPLITUDE = 0.8
_RISE_H, _FALL_H = 0.5, 2.0
_BROADENING = 0.3  # plume duration grows by this fraction per section travelled


@dataclass(frozen=True, slots=True)
class Discharge:
    """A discharge at ``section`` from ``start_ms`` for ``duration_s``: NH3-N there multiplied by
    up to 1 + ``magnitude``."""

    section: str
    start_ms: int
    duration_s: int
    magnitude: float


@dataclass(frozen=True)
class WaterConfig:
    """Random discharges (rate per river per week; 0 disables), scheduled ones, and transport."""

    discharges_per_week: float = 0.5
    discharge_hours: tuple[float, float] = (2.0, 6.0)
    discharge_magnitude: tuple[float, float] = (3.0, 8.0)
    travel_h: float = 4.0
    attenuation: float = 0.6
    discharges: tuple[Discharge, ...] = ()


class WaterModel:
    """Water values of a registry's river sections; discharges drawn per river and day."""

    keys = WATER_KEYS
    decimals = _DECIMALS

    def __init__(self, registry: Registry, config: WaterConfig, seed: int) -> None:
        self.config = config
        self._seed = seed
        self._registry = registry
        self._tz = ZoneInfo(registry.city.timezone)
        self._river_index = {r: i for i, r in enumerate(registry.rivers)}
        sections = {s.id for s in registry.of_kind(StationKind.WATER)}
        if unknown := {d.section for d in config.discharges} - sections:
            raise ValueError(f"scheduled discharges name unknown sections {sorted(unknown)}")
        self._phases = keyed_rng(seed, "water-slow").uniform(
            0, 2 * np.pi, (len(registry.rivers), 4)
        )
        self._sites: dict[str, _Sites] = {}
        longest_s = max(
            [config.discharge_hours[1] * 3600] + [d.duration_s for d in config.discharges]
        )
        most = max((len(r.section_ids) for r in registry.rivers.values()), default=1)
        longest_s *= 1 + _BROADENING * most
        travel_s = config.travel_h * 3600 * most
        self._lookback = int((longest_s + travel_s + 3600 * (_RISE_H + _FALL_H * 2)) * 1000)

    def discharges(self, t0_ms: int, t1_ms: int) -> list[Discharge]:
        """Scheduled and random discharges whose plume may touch [t0, t1), in start order."""
        c = self.config
        found = [d for d in c.discharges if t0_ms - self._lookback <= d.start_ms < t1_ms]
        for day in event_days(t0_ms, t1_ms, self._lookback):
            rng = keyed_rng(self._seed, "water-discharges", day)
            for river in self._registry.rivers.values():
                for _ in range(rng.poisson(c.discharges_per_week / 7)):
                    found.append(
                        Discharge(
                            river.section_ids[rng.integers(len(river.section_ids))],
                            day * DAY_MS + int(rng.integers(DAY_MS)),
                            int(rng.uniform(*c.discharge_hours) * 3600),
                            float(rng.uniform(*c.discharge_magnitude)),
                        )
                    )
        return sorted(found, key=lambda d: d.start_ms)

    def evaluate(self, group: StationGroup, ts_ms: np.ndarray, z: np.ndarray) -> np.ndarray:
        mid = ts_ms + group.interval_s * 500
        hour = local_hour(mid, self._tz)
        site = self._site(group)
        slow = np.exp(0.12 * slow_wave(self._phases, mid / HOUR_MS))[site.river]
        plume = self._plume(site, mid, int(ts_ms[0]), int(ts_ms[-1]) + group.interval_s * 1000)
        photo = _photosynthesis(hour)
        season = np.sin(2 * np.pi * (mid / DAY_MS - 110) / 365.25)  # warmest in late July
        noise = np.exp(_SIGMA[:, None, None] * noise_scale(group.interval_s) * z)

        out = np.empty((len(WATER_KEYS), len(group.stations), len(ts_ms)))
        out[0] = 7.3 + 0.25 * photo
        out[1] = (site.do[:, None] + _DO_AMPLITUDE * photo) / (1 + 0.15 * plume)
        out[2:7] = site.pollutants[:, :, None] * slow * (1 + _PLUME[:, None, None] * plume)
        out[8] = (
            24.0 + 5.0 * season + 0.8 * np.cos(2 * np.pi * (hour - 16) / 24) + site.temp[:, None]
        )
        out[9] = 450.0 * site.other[0][:, None] * (1 + 0.1 * plume)
        out[10] = 12.0 * site.other[1][:, None] * slow * (1 + 0.6 * plume)
        out[7] = 1.5 * site.other[2][:, None] * slow  # TN beyond NH3-N
        out *= noise
        out[7] += out[5]
        return out

    def _site(self, group: StationGroup) -> _Sites:
        if group.key not in self._sites:
            self._sites[group.key] = _Sites.of(group, self._river_index, self._seed)
        return self._sites[group.key]

    def _plume(self, site: _Sites, t_ms: np.ndarray, t0: int, t1: int) -> np.ndarray:
        """(stations, steps) discharge plume: NH3-N rise relative to the baseline."""
        c = self.config
        plume = np.zeros((len(site.order), len(t_ms)))
        for d in self.discharges(t0, t1):
            origin = self._registry.stations[d.section]
            k = site.order - origin.section_order
            hit = np.flatnonzero((k >= 0) & (site.river == self._river_index[origin.river]))
            if len(hit) == 0:
                continue
            k = k[hit][:, None]
            stretch = 1 + _BROADENING * k
            arrival = d.start_ms + k * c.travel_h * HOUR_MS
            rise, fall = _RISE_H * HOUR_MS * stretch, _FALL_H * HOUR_MS * stretch
            shape = pulse(t_ms[None, :], arrival, rise, d.duration_s * 1000 * stretch, fall)
            plume[hit] += d.magnitude * c.attenuation**k / stretch * shape
        return plume


@dataclass(frozen=True, slots=True)
class _Sites:
    """Per-station constants of a group."""

    river: np.ndarray  # (stations,) river index
    order: np.ndarray  # (stations,) section order along the river, 0 = most upstream
    do: np.ndarray  # (stations,) mean DO, mg/L
    pollutants: np.ndarray  # (5, stations) baselines of codmn cod bod5 nh3n tp
    temp: np.ndarray  # (stations,) offset, °C
    other: np.ndarray  # (3, stations) factors of conductivity, turbidity, TN - NH3-N

    @classmethod
    def of(cls, group: StationGroup, river_index: dict[str, int], seed: int) -> _Sites:
        params = load_table("gb3838_2002")["parameters"]
        z = station_normals(seed, "water-site", group.ids, 10).T
        do, pollutants = [], []
        for s in group.stations:
            k = _CLASSES.index(s.target or "III")
            do.append(min(params["do"]["limits"][k] + 2.0, 8.6))
            pollutants.append([0.55 * _limits(params[p], s.lake)[k] for p in _POLLUTANTS])
        return cls(
            river=np.array([river_index[s.river] for s in group.stations]),  # type: ignore[index]
            order=np.array([s.section_order for s in group.stations]),
            do=np.array(do) * np.exp(0.03 * z[0]),
            pollutants=np.array(pollutants).T * np.exp(0.15 * z[1:6]),
            temp=0.5 * z[6],
            other=np.exp(0.2 * z[7:10]),
        )


def _limits(spec: dict, lake: bool) -> list[float]:
    limits = spec["limits"]
    return limits["lake" if lake else "river"] if isinstance(limits, dict) else limits


def _photosynthesis(hour: np.ndarray) -> np.ndarray:
    """-1 at 05:30 (before dawn) rising to +1 at 15:00, falling back through the night."""
    since_min = (hour - 5.5) % 24
    x = np.where(since_min < 9.5, 1 - since_min / 9.5, (since_min - 9.5) / 14.5)
    return np.cos(np.pi * x)
