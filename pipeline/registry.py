"""Station registry: districts, air stations and river sections of one city.

The bundled file is Shenzhen's (``pipeline/data/shenzhen.yaml``); another city's file of the
same shape is loaded by setting ``ENVMON_REGISTRY_FILE``. Nothing here is city-specific.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import msgspec

from pipeline.datafile import load_data_file


class StationKind(StrEnum):
    AIR = "air"
    WATER = "water"


class _District(msgspec.Struct, frozen=True):
    id: str
    name_zh: str
    name_en: str
    lat: float
    lon: float


class _AirStation(msgspec.Struct, frozen=True):
    id: str
    name_zh: str
    name_en: str
    district: str
    lat: float
    lon: float


class _Section(msgspec.Struct, frozen=True):
    id: str
    name_zh: str
    name_en: str
    district: str
    target: str
    lat: float
    lon: float
    lake: bool = False


class _River(msgspec.Struct, frozen=True):
    id: str
    name_zh: str
    name_en: str
    sections: list[_Section]


class _City(msgspec.Struct, frozen=True):
    key: str
    name_zh: str
    name_en: str
    timezone: str = "Asia/Shanghai"


class _RegistryFile(msgspec.Struct, frozen=True):
    schema_version: int
    city: _City
    districts: list[_District]
    air_stations: list[_AirStation] = []
    rivers: list[_River] = []


District = _District
City = _City


@dataclass(frozen=True, slots=True)
class Station:
    """One monitoring station: an air station or the automatic station of a river section."""

    id: str
    kind: StationKind
    name_zh: str
    name_en: str
    district: str
    lat: float
    lon: float
    river: str | None = None
    section_order: int | None = None  # position along the river, 0 = most upstream
    target: str | None = None  # target water class (GB 3838-2002), sections only
    lake: bool = False


@dataclass(frozen=True, slots=True)
class River:
    id: str
    name_zh: str
    name_en: str
    section_ids: tuple[str, ...]  # upstream first


class RegistryError(ValueError):
    """The registry file is unreadable or inconsistent; the message names the entry."""


@dataclass(frozen=True)
class Registry:
    city: City
    districts: dict[str, District]
    stations: dict[str, Station]
    rivers: dict[str, River]
    source: str

    def get(self, station_id: str) -> Station | None:
        return self.stations.get(station_id)

    def of_kind(self, kind: StationKind) -> list[Station]:
        return [s for s in self.stations.values() if s.kind is kind]

    @classmethod
    def load(cls, path: Path | None = None) -> Registry:
        """Load a registry file, or the bundled Shenzhen registry when ``path`` is None."""
        raw, source = load_data_file(
            path, "shenzhen.yaml", _RegistryFile, "registry file", RegistryError
        )
        return cls._build(raw, source)

    @classmethod
    def _build(cls, raw: _RegistryFile, source: str) -> Registry:
        districts = {d.id: d for d in raw.districts}
        stations: dict[str, Station] = {}
        rivers: dict[str, River] = {}

        def add(station: Station) -> None:
            if station.id in stations:
                raise RegistryError(f"registry file {source}: duplicate station id {station.id!r}")
            if station.district not in districts:
                raise RegistryError(
                    f"registry file {source}: station {station.id!r} names unknown district "
                    f"{station.district!r}"
                )
            stations[station.id] = station

        for a in raw.air_stations:
            add(Station(a.id, StationKind.AIR, a.name_zh, a.name_en, a.district, a.lat, a.lon))
        for r in raw.rivers:
            for order, s in enumerate(r.sections):
                if s.target not in _TARGET_CLASSES:
                    raise RegistryError(
                        f"registry file {source}: section {s.id!r} target {s.target!r} is not "
                        f"one of {', '.join(_TARGET_CLASSES)}"
                    )
                add(
                    Station(
                        s.id,
                        StationKind.WATER,
                        s.name_zh,
                        s.name_en,
                        s.district,
                        s.lat,
                        s.lon,
                        river=r.id,
                        section_order=order,
                        target=s.target,
                        lake=s.lake,
                    )
                )
            rivers[r.id] = River(r.id, r.name_zh, r.name_en, tuple(s.id for s in r.sections))
        return cls(raw.city, districts, stations, rivers, source)


_TARGET_CLASSES = ("I", "II", "III", "IV", "V")
