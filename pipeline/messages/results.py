"""Result messages (``"v": 1``) written by the stream agents and read by the sink and notifier.

Each carries what InfluxDB and a human need without a registry lookup: ids and names (zh, en)
of the subject and its district or river. Times are epoch milliseconds (UTC); period labels are
Asia/Shanghai clock times (``2026-11-27T10:00+08:00``). Encode with ``msgspec.json.encode``.
"""

from __future__ import annotations

from typing import Literal

import msgspec

Scope = Literal["station", "district", "city"]


class _Result(msgspec.Struct, frozen=True, kw_only=True):
    v: int = 1


class Named(msgspec.Struct, frozen=True):
    """A registry entry as shown to people: a district or a river."""

    id: str
    name_zh: str
    name_en: str


class AqiMessage(_Result, frozen=True, kw_only=True):
    """The AQI of a station, a district or the city for one hour or one day."""

    scope: Scope
    subject: str  # station id, district id or city key
    name_zh: str
    name_en: str
    district: Named | None  # for scope station and district
    report: Literal["hour", "day"]
    period_start_ms: int
    period_label: str  # Asia/Shanghai, e.g. "2026-11-27T10:00+08:00"
    standard: str  # the edition applied, e.g. "HJ 633-2012", "US EPA 2024"
    aqi: int
    level: int  # 1..6
    category_zh: str
    category_en: str
    color: str  # "#RRGGBB"
    primary: list[str]  # primary pollutants (empty when AQI ≤ 50)
    exceeding: list[str]  # exceeding pollutants (none under HJ 633-2026)
    iaqi: dict[str, int]
    concentrations: dict[str, float]
    valid_stations: int  # stations behind the value (1 for a station)


class FailingParameter(msgspec.Struct, frozen=True):
    """A parameter worse than the section's target class: value, limit, multiple of the limit."""

    key: str
    value: float
    limit: float
    multiple: float | None  # None for pH, which has a range, not a limit


class WaterQualityMessage(_Result, frozen=True, kw_only=True):
    """The GB 3838-2002 class and CWQI of one river section at one time."""

    station: str
    name_zh: str  # section name
    name_en: str
    river: Named
    district: Named
    ts_ms: int
    water_class: Literal["I", "II", "III", "IV", "V", "劣V"]
    class_num: int  # 1..6 (6 = 劣V)
    target_class: str
    per_parameter: dict[str, str]  # parameter key -> class label
    failing: list[FailingParameter]
    cwqi: float | None  # None when no CWQI parameter was measured
    values: dict[str, float]


class QcFlagMessage(_Result, frozen=True, kw_only=True):
    """One accepted value that quality control flagged (``{ns}.qc``): it is kept, with its flags,
    and left out of every mean."""

    station: str
    name_zh: str
    name_en: str
    district: Named
    kind: Literal["air", "water"]
    parameter: str  # value key, e.g. "pm25", "nh3n"
    value: float  # in the schema's unit
    flags: list[str]  # e.g. ["spike"], ["device", "range"]
    ts_ms: int  # the reading's event time


Board = Literal[
    "district_aqi_hour",
    "district_composite_mtd",
    "district_composite_ytd",
    "section_cwqi_mtd",
    "station_aqi_hour",
]


class RankEntry(msgspec.Struct, frozen=True, kw_only=True):
    subject: str
    name_zh: str
    name_en: str
    rank: int  # 1 = best
    score: float
    rank_change: int | None  # positive = improved; None when unranked in the previous period
    valid_stations: int


class RankingMessage(_Result, frozen=True, kw_only=True):
    board: Board
    period: str  # label, e.g. "2026-11-27T10:00+08:00", "2026-11", "2026"
    ts_ms: int
    entries: list[RankEntry]


class AlertSubject(msgspec.Struct, frozen=True, kw_only=True):
    scope: Literal["station", "district", "river", "city"]
    id: str
    name_zh: str
    name_en: str
    district: str | None
    river: str | None


class AlertEvent(_Result, frozen=True, kw_only=True):
    """One transition of an alert; ``transition_id`` is unique (the notifier's dedup key)."""

    alert_id: str
    transition_id: str
    rule: str
    state: Literal["firing", "escalated", "resolved", "flapping"]
    severity: Literal["info", "warning", "critical"]
    value: float | None
    threshold: float | None
    subject: AlertSubject
    started_ms: int
    ended_ms: int | None
    event_ms: int
    message_zh: str
    message_en: str
