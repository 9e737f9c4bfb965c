"""Quality control of accepted air readings: flags per value.

A flagged value is kept (reported with its flags) but left out of every mean. Flags:

- ``device``: the reading's HJ 212 data flag for the key is not a usable one. Only ``N`` (normal;
  an absent flag counts as ``N``) is usable by default; ``F M S D C T B`` and unknown letters are
  not (../shared/reference/hj212_2017.md §3: ``T``, above the measuring limit, is stored and may
  still fire alerts, but its value is only a lower bound and stays out of means).
- ``range``: above the analyser's measuring range (physically plausible: the decoder already
  rejected impossible values).
- ``spike``: above ``spike_factor`` × the median of the station's recent values of the key, and
  above an absolute floor.
- ``flatline``: the value is the Nth (or later) identical value in a row.
- ``pm_inconsistent``: PM2.5 above PM10 in one reading (both are flagged; PM2.5 is part of PM10).

Spike and flatline compare a value with the station's previous usable values of the same key
(``QcState``: the last ``spike_window`` values, the last of which ends the current run). Values
with a device flag neither enter that memory nor get spike or flatline checks. A flatline is
flagged from its Nth value on: the values before were already reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from pipeline.messages.readings import AirReading, AirValues
from streams.air.state import QcState, Track

AIR_KEYS: tuple[str, ...] = AirValues.__struct_fields__


class QcFlag(StrEnum):
    DEVICE = "device"
    RANGE = "range"
    SPIKE = "spike"
    FLATLINE = "flatline"
    PM_INCONSISTENT = "pm_inconsistent"


Flags = dict[str, list[QcFlag]]
"""Flags per value key; keys without flags are absent."""

MEASURING_RANGES: Mapping[str, float] = {
    # HJ 653-2021: PM10/PM2.5 continuous monitors measure 0–1000 μg/m³.
    "pm10": 1000.0,
    "pm25": 1000.0,
    # HJ 654-2013 gas analysers, 0–500 nmol/mol (CO 0–50 μmol/mol) [unverified: the text was not
    # read here], converted at the GB 3095 reference state 25 °C, 101.325 kPa (24.465 L/mol).
    "so2": 1309.0,
    "no2": 940.0,
    "o3": 980.0,
    "co": 57.2,  # mg/m³
}

SPIKE_FLOORS: Mapping[str, float] = {
    # HJ 633-2012 Table 1 concentrations at IAQI 50 (1-h rows; 24-h rows for PM): a value below
    # cannot lift the air-quality level above "excellent", so it is never called a spike.
    "so2": 150.0,
    "no2": 100.0,
    "co": 5.0,
    "o3": 160.0,
    "pm10": 50.0,
    "pm25": 35.0,
}


@dataclass(frozen=True)
class QcConfig:
    """Thresholds; ranges and floors are in the schema units (μg/m³, CO mg/m³)."""

    ranges: Mapping[str, float] = field(default_factory=lambda: dict(MEASURING_RANGES))
    spike_factor: float = 4.0
    spike_floors: Mapping[str, float] = field(default_factory=lambda: dict(SPIKE_FLOORS))
    spike_window: int = 10  # recent values kept per key
    spike_min_values: int = 5  # no spike check with fewer recent values
    flatline_hourly: int = 6  # identical values in a row, readings of 1 h or longer
    flatline_subhourly: int = 30  # the same, shorter readings (minute data)
    usable_device_flags: frozenset[str] = frozenset({"N"})  # add "S" to use manual values

    def __post_init__(self) -> None:
        if missing := [k for k in AIR_KEYS if k not in self.ranges or k not in self.spike_floors]:
            raise ValueError(f"QC ranges and spike floors are needed for {missing}")
        if not 1 <= self.spike_min_values <= self.spike_window:
            raise ValueError("spike_min_values must be within 1..spike_window")
        if min(self.flatline_hourly, self.flatline_subhourly) < 2:
            raise ValueError("a flatline needs at least 2 identical values")


class QualityControl:
    """Flags the values of one station's readings, updating that station's ``QcState``."""

    def __init__(self, config: QcConfig | None = None) -> None:
        c = self.config = config or QcConfig()
        self._keys = tuple((k, c.ranges[k], c.spike_floors[k]) for k in AIR_KEYS)

    def check(self, state: QcState, reading: AirReading) -> Flags:
        """The flags of ``reading``'s values (an empty dict when all are clean)."""
        c = self.config
        factor, min_values, window = c.spike_factor, c.spike_min_values, c.spike_window
        run_limit = c.flatline_hourly if reading.interval_s >= 3600 else c.flatline_subhourly
        device, tracks = reading.flags, state.tracks
        flags: Flags = {}
        values = reading.values
        for key, top, floor in self._keys:
            v = getattr(values, key)
            if v is None:
                continue
            if v > top:
                _add(flags, key, QcFlag.RANGE)
            if device and device.get(key, "N") not in c.usable_device_flags:
                _add(flags, key, QcFlag.DEVICE)
                continue
            track = tracks.get(key)
            if track is None:
                track = tracks[key] = Track([])
            recent = track.recent
            if v > floor and len(recent) >= min_values and v > factor * _median(recent):
                _add(flags, key, QcFlag.SPIKE)
            if recent and v == recent[-1]:
                track.run += 1
                if track.run >= run_limit:
                    _add(flags, key, QcFlag.FLATLINE)
            elif track.run != 1:  # (reading a struct field is cheaper than setting it)
                track.run = 1
            recent.append(v)
            if len(recent) > window:
                del recent[0]
        pm25, pm10 = values.pm25, values.pm10
        if pm25 is not None and pm10 is not None and pm25 > pm10 and _no_device_flag(flags):
            _add(flags, "pm25", QcFlag.PM_INCONSISTENT)
            _add(flags, "pm10", QcFlag.PM_INCONSISTENT)
        return flags


def _add(flags: Flags, key: str, flag: QcFlag) -> None:
    flags.setdefault(key, []).append(flag)


def _median(values: list[float]) -> float:
    """The median (the upper one of an even count)."""
    return sorted(values)[len(values) // 2]


def _no_device_flag(flags: Flags) -> bool:
    """Both PM values are usable instrument output (else comparing them means nothing)."""
    return all(QcFlag.DEVICE not in flags.get(key, ()) for key in ("pm25", "pm10"))
