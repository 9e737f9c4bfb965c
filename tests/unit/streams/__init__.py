"""Tests of the stream agents' pure logic; small builders shared by them."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from pipeline.messages.readings import AirReading, AirValues
from pipeline.timeutil import parse_timestamp

SHANGHAI = ZoneInfo("Asia/Shanghai")
MINUTE_MS = 60_000


def at(local: str) -> int:
    """Epoch ms of an Asia/Shanghai wall-clock time, e.g. ``at("2026-11-27T10:00")``."""
    return parse_timestamp(f"{local}+08:00")


def reading(
    ts_ms: int,
    station: str = "S1",
    interval_s: int = 60,
    flags: dict[str, str] | None = None,
    **values: float,
) -> AirReading:
    return AirReading(station, ts_ms, interval_s, AirValues(**values), flags or {})
