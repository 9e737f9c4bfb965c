"""The HJ 212 device map: which data logger (MN) reports for which registry station, with its
password (PW), the units it transmits per factor code, vendor codes and its reporting intervals.

A file of its own (``ENVMON_HJ212_DEVICES_FILE``; bundled: ``pipeline/data/hj212_devices.yaml``)
rather than fields in the station registry: loggers are swapped and re-configured without the
station changing, their passwords do not belong in the public station list, and the registry files
that tools regenerate (``envmon up``'s synthetic stations) stay as they are. Units are never
guessed (../shared/reference/hj212_2017.md §4.1): the file states a default unit per factor code
and a device overrides what it sends differently; a unit that cannot be converted to the envmon
schema unit of its value is a load error naming the device.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import msgspec

from pipeline.datafile import load_data_file
from pipeline.hj212.codes import FACTORS
from pipeline.registry import Registry, StationKind
from pipeline.units import UnitError, unit_factor


class DeviceMapError(ValueError):
    """The device map is unreadable or inconsistent; the message names the entry."""


class _DeviceEntry(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    mn: str
    station: str
    password: str
    units: dict[str, str] = {}
    codes: dict[str, str] = {}  # vendor factor code -> HJ 212 code (e.g. o31104: a05024)
    # Flag versions accepted; 2 = HJ 212-2025 (opt-in)
    versions: list[int] = msgspec.field(default_factory=lambda: [0, 1])
    rtd_interval_s: int = 60  # real-time values become readings of this interval
    minute_interval_min: int = 10  # MinInterval of the logger (2051 minute data)


class _DeviceFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    schema_version: int
    units: dict[str, str]  # default transmitted unit per factor code
    devices: list[_DeviceEntry]


@dataclass(frozen=True, slots=True)
class Device:
    """One data logger: the station it reports for and how to read what it sends."""

    mn: str
    station: str
    kind: StationKind
    password: str
    factors: dict[str, tuple[str, float]]  # HJ 212 factor code -> (value key, unit factor)
    codes: dict[str, str]
    versions: frozenset[int]
    rtd_interval_s: int
    minute_interval_s: int
    units: dict[str, str]  # factor code -> unit it sends (for the device simulator)


@dataclass(frozen=True)
class DeviceMap:
    devices: dict[str, Device]  # by MN
    source: str

    def get(self, mn: str) -> Device | None:
        return self.devices.get(mn)

    @classmethod
    def load(cls, registry: Registry, path: Path | None = None) -> DeviceMap:
        """Load a device map, or the bundled one when ``path`` is None; stations must exist
        in ``registry``."""
        raw, source = load_data_file(
            path, "hj212_devices.yaml", _DeviceFile, "device map", DeviceMapError
        )
        devices: dict[str, Device] = {}
        for entry in raw.devices:
            where = f"device map {source}: device {entry.mn!r}"
            if entry.mn in devices:
                raise DeviceMapError(f"{where} appears twice")
            devices[entry.mn] = _device(entry, raw.units, registry, where)
        return cls(devices, source)


def _device(
    entry: _DeviceEntry, defaults: dict[str, str], registry: Registry, where: str
) -> Device:
    station = registry.get(entry.station)
    if station is None:
        raise DeviceMapError(f"{where}: station {entry.station!r} is not in the registry")
    if not 0 < entry.rtd_interval_s <= 3600 or entry.minute_interval_min not in _MIN_INTERVALS:
        raise DeviceMapError(
            f"{where}: rtd_interval_s must be 1..3600 and minute_interval_min one of "
            f"{sorted(_MIN_INTERVALS)} (HJ 212-2017 CN 1064)"
        )
    units = {**defaults, **entry.units}
    factors: dict[str, tuple[str, float]] = {}
    for code, key in FACTORS[station.kind].items():
        unit = units.get(code)
        if unit is None:
            raise DeviceMapError(f"{where}: no unit for {code} ({key}); add it under units")
        try:
            factors[code] = (key, unit_factor(unit, key))
        except UnitError as exc:
            raise DeviceMapError(f"{where}: {code} ({key}): {exc}") from None
    return Device(
        mn=entry.mn,
        station=station.id,
        kind=station.kind,
        password=entry.password,
        factors=factors,
        codes=dict(entry.codes),
        versions=frozenset(entry.versions),
        rtd_interval_s=entry.rtd_interval_s,
        minute_interval_s=entry.minute_interval_min * 60,
        units={code: units[code] for code in factors},
    )


_MIN_INTERVALS = frozenset({1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30})
