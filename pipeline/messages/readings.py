"""Readings as the stream agents use them: one station's values at one event time.

Units are fixed by the schema (DESIGN.md "Messages"): air μg/m³ (CO mg/m³); water mg/L, pH
unitless, temperature °C, conductivity μS/cm, turbidity NTU. Every value is optional (a station
measures a subset). The ``Meta`` bounds come from ``limits.py`` and are checked by msgspec, in C,
while a message is decoded (``codec.py``); constructing a struct in Python does not check them.
"""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

import msgspec
from msgspec import Meta

from pipeline.messages.limits import AIR_LIMITS, WATER_LIMITS, Limit
from pipeline.registry import StationKind


def _within(limit: Limit) -> Meta:
    return Meta(ge=limit.low, le=limit.high)


class Values(msgspec.Struct, frozen=True, gc=False, forbid_unknown_fields=True, omit_defaults=True):
    """Base of the values structs; ``None`` (or absent on the wire) means not measured."""


class AirValues(Values, frozen=True):
    so2: Annotated[float, _within(AIR_LIMITS["so2"])] | None = None
    no2: Annotated[float, _within(AIR_LIMITS["no2"])] | None = None
    co: Annotated[float, _within(AIR_LIMITS["co"])] | None = None
    o3: Annotated[float, _within(AIR_LIMITS["o3"])] | None = None
    pm10: Annotated[float, _within(AIR_LIMITS["pm10"])] | None = None
    pm25: Annotated[float, _within(AIR_LIMITS["pm25"])] | None = None


class WaterValues(Values, frozen=True):
    ph: Annotated[float, _within(WATER_LIMITS["ph"])] | None = None
    do: Annotated[float, _within(WATER_LIMITS["do"])] | None = None
    codmn: Annotated[float, _within(WATER_LIMITS["codmn"])] | None = None
    cod: Annotated[float, _within(WATER_LIMITS["cod"])] | None = None
    bod5: Annotated[float, _within(WATER_LIMITS["bod5"])] | None = None
    nh3n: Annotated[float, _within(WATER_LIMITS["nh3n"])] | None = None
    tp: Annotated[float, _within(WATER_LIMITS["tp"])] | None = None
    tn: Annotated[float, _within(WATER_LIMITS["tn"])] | None = None
    temp: Annotated[float, _within(WATER_LIMITS["temp"])] | None = None
    cond: Annotated[float, _within(WATER_LIMITS["cond"])] | None = None
    turb: Annotated[float, _within(WATER_LIMITS["turb"])] | None = None


VALUES_TYPES: dict[StationKind, type[Values]] = {
    StationKind.AIR: AirValues,
    StationKind.WATER: WaterValues,
}

V = TypeVar("V", bound=Values)


class Reading(msgspec.Struct, Generic[V], frozen=True, gc=False):
    """A decoded reading: event time in epoch milliseconds (UTC), averaging interval in seconds,
    and device data flags per value key (HJ 212: N F M S D C T B)."""

    station: str
    ts_ms: int
    interval_s: int
    values: V
    flags: dict[str, str] = {}


AirReading = Reading[AirValues]
WaterReading = Reading[WaterValues]
