"""From an HJ 212 record to an envmon reading (../shared/reference/hj212_2017.md §2.6, §3, §4).

Real-time data (2011, ``-Rtd``) becomes readings of the device's real-time interval (default one
minute), minute data (2051), hourly data (2061) and daily data (2031) their ``-Avg`` values over
the minute interval, the hour and the day; ``ts`` is DataTime, the start of the interval, in
Beijing time. Factor codes map to value keys through the device (vendor codes, then HJ/T 212-2005
codes for version-0 loggers), values convert from the device's units to the schema's. Each value's
data flag is carried into ``Reading.flags`` as sent (N F M S D C T B, or an unknown letter): the
stream agents' QC treats anything but ``N`` as unusable for means (§3); an absent flag is left
absent, which QC reads as ``N``. Codes envmon has no value key for are counted, not converted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.hj212.codes import CODES_2005, READING_COMMANDS
from pipeline.hj212.devices import Device
from pipeline.hj212.packet import Packet
from pipeline.messages.limits import AIR_LIMITS, WATER_LIMITS
from pipeline.messages.readings import VALUES_TYPES, Reading
from pipeline.registry import StationKind

_LIMITS = {StationKind.AIR: AIR_LIMITS, StationKind.WATER: WATER_LIMITS}


@dataclass(frozen=True, slots=True)
class Conversion:
    reading: Reading[Any] | None  # None: no value envmon keeps
    unmapped: tuple[str, ...]  # factor codes with a value but no envmon value key
    implausible: tuple[str, ...]  # value keys outside the physical limits (a unit mix-up?)


def interval_of(cn: str, device: Device) -> int | None:
    spec = READING_COMMANDS.get(cn)
    if spec is None:
        return None
    fixed = spec[1]
    if fixed is not None:
        return fixed
    return device.rtd_interval_s if cn == "2011" else device.minute_interval_s


def to_reading(record: Packet, device: Device) -> Conversion | None:
    """The reading of a complete record, or None when its command carries no readings."""
    cn = record.header.cn or ""
    interval = interval_of(cn, device)
    if interval is None or record.data_time is None:
        return None
    suffix = READING_COMMANDS[cn][0]
    legacy = record.header.version == 0
    limits = _LIMITS[device.kind]
    values: dict[str, float] = {}
    flags: dict[str, str] = {}
    unmapped: list[str] = []
    implausible: list[str] = []
    for code, items in record.values.items():
        value = items.get(suffix)
        if not isinstance(value, float):
            continue  # no such suffix, or empty (missing)
        std = device.codes.get(code, code)
        if legacy:
            std = CODES_2005.get(std, std)
        mapped = device.factors.get(std)
        if mapped is None:
            unmapped.append(code)
            continue
        key, factor = mapped
        if factor != 1.0:
            value = round(value * factor, 9)
        values[key] = value
        flag = items.get("Flag")
        if isinstance(flag, str) and flag:
            flags[key] = flag
        limit = limits[key]
        if not limit.low <= value <= limit.high:
            implausible.append(key)
    if not values:
        return Conversion(None, tuple(unmapped), ())
    ts_ms = int(record.data_time.timestamp()) * 1000
    reading = Reading(device.station, ts_ms, interval, VALUES_TYPES[device.kind](**values), flags)
    return Conversion(reading, tuple(unmapped), tuple(implausible))
