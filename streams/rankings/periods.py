"""Month-to-date and year-to-date accumulation for the rankings (pure).

What the ranking boards need from the result topics, re-keyed by the rankings forwarder onto one
partition (``streams/rankings/agents.py``), as :data:`RankInput`:

- :class:`AirDay`: a district's natural-day values (the district ``report == "day"`` AQI message):
  daily means of SO2, NO2, PM10, PM2.5, CO and the daily maximum 8-h O3 (``o3_8h``), and the
  stations behind them;
- :class:`StationHour`: a station's hourly AQI, computed from its closed hour on
  ``{ns}.air.periods`` exactly as its station message on ``{ns}.air.aqi`` (that topic is keyed by
  the city key and read in the order the district aggregator reads it, so the station board
  closes its hours like the district board does; ``{ns}.air.aqi`` is keyed by station, and its
  partitions can be read far apart in a burst);
- :class:`SectionReading`: a river section's reading of the CWQI parameters.

Periods are Asia/Shanghai (the settings' zone) natural months and years, keyed ``"2026-11"``. The
state is split by month so a day's change writes one small value:

- :class:`AirMonth`: per district, per day start, the day's values. A day sent again (the
  aggregator re-produces a day when a late station day arrives) replaces the first, so the
  statistics never count a day twice. Month-to-date = the days of one month, year-to-date = the
  days of the months of one year, up to a given day.
- :class:`SectionMonth`: per section and parameter, the sum and count of the month's readings
  (the CWQI of a section is computed from its period-mean concentrations).

:class:`MonthStore` is the per-batch cache the agent puts in front of its tables (and tests in
front of a dict); it remembers which months changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from math import fsum
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

import msgspec

from pipeline.messages import AqiMessage, WaterQualityMessage
from pipeline.standards.aqi import compute_aqi
from pipeline.standards.composite import percentile
from pipeline.timeutil import to_datetime
from streams.air.hours import ClosedHour, concentrations

DAY_KEYS = ("so2", "no2", "pm10", "pm25", "co", "o3_8h")
"""Keys of a district day used by the composite index (the AQI message's concentrations)."""

CWQI_KEYS = ("ph", "do", "codmn", "cod", "bod5", "nh3n", "tp")
"""The CWQI parameters an automatic section station measures (as streams/water/quality.py)."""


class AirDay(msgspec.Struct, frozen=True, tag="air_day"):
    district: str
    day_ms: int  # start of the natural day
    stations: int  # stations behind the day's values
    values: dict[str, float]  # keys of DAY_KEYS present that day


class StationHour(msgspec.Struct, frozen=True, tag="station_hour"):
    station: str
    hour_ms: int
    aqi: int | None  # None: the hour has no computable IAQI (it still counts as reported)


class SectionReading(msgspec.Struct, frozen=True, tag="section_reading"):
    section: str
    ts_ms: int
    values: dict[str, float]  # keys of CWQI_KEYS present (DO only when > 0)


class PartitionClocks(msgspec.Struct, frozen=True, tag="clocks"):
    """Per readings partition, the time before which every station hour of its stations has been
    sent (``hours.PeriodBatch.clocks``): the station board of an hour every partition has passed
    is complete."""

    clocks: dict[int, int]


RankInput = AirDay | StationHour | SectionReading | PartitionClocks


def rank_input(message: AqiMessage | WaterQualityMessage) -> RankInput | None:
    """What a result message contributes to the rankings (district days, section readings);
    None when nothing."""
    if isinstance(message, WaterQualityMessage):
        values = {
            k: v
            for k, v in message.values.items()
            if k in CWQI_KEYS and (k != "do" or v > 0)  # CWQI_DO = 5 / C
        }
        return SectionReading(message.station, message.ts_ms, values) if values else None
    if message.scope == "district" and message.report == "day":
        values = {k: v for k, v in message.concentrations.items() if k in DAY_KEYS}
        if not values:
            return None
        return AirDay(message.subject, message.period_start_ms, message.valid_stations, values)
    return None


def station_hour(closed: ClosedHour, standard: str, tz: ZoneInfo) -> StationHour:
    """A station's closed hour with the AQI of its station message (``hours.station_aqi``)."""
    start = closed.hour_start_ms
    result = compute_aqi(concentrations(closed), "hour", standard, to_datetime(start, tz))
    return StationHour(closed.station, start, result.aqi)


# --- months ---------------------------------------------------------------------------------


def month_key(ts_ms: int, tz: ZoneInfo) -> str:
    """The natural month of ``ts_ms`` in ``tz``: ``"2026-11"``."""
    local = to_datetime(ts_ms, tz)
    return f"{local.year:04d}-{local.month:02d}"


def year_to(month: str) -> list[str]:
    """The months of ``month``'s year up to and including it: ``"2026-03"`` -> Jan, Feb, Mar."""
    year, number = month.split("-")
    return [f"{year}-{m:02d}" for m in range(1, int(number) + 1)]


T = TypeVar("T")


class MonthStore(Generic[T]):
    """Months loaded for one batch (``load(key)`` gives a month never seen as empty);
    ``changed``: the keys to write back, ``dropped``: the keys to delete."""

    def __init__(self, load: Callable[[str], T]) -> None:
        self._load = load
        self.loaded: dict[str, T] = {}
        self.changed: set[str] = set()
        self.dropped: set[str] = set()

    def get(self, key: str) -> T:
        month = self.loaded.get(key)
        if month is None:
            month = self.loaded[key] = self._load(key)
        return month

    def mark(self, key: str) -> None:
        """``key`` changed: write it back."""
        self.dropped.discard(key)
        self.changed.add(key)

    def drop(self, key: str) -> None:
        """``key`` is no longer needed: delete it."""
        self.loaded.pop(key, None)
        self.changed.discard(key)
        self.dropped.add(key)


# --- air: district days ---------------------------------------------------------------------


class DayValue(msgspec.Struct, array_like=True, gc=False):
    stations: int
    values: dict[str, float]


class AirMonth(msgspec.Struct, gc=False):
    """District days of one month: district -> day start (ms) -> values."""

    days: dict[str, dict[int, DayValue]] = {}


def add_day(month: AirMonth, day: AirDay) -> bool:
    """Store (or replace) a district's day; whether anything changed."""
    value = DayValue(day.stations, dict(day.values))
    district = month.days.setdefault(day.district, {})
    if district.get(day.day_ms) == value:
        return False
    district[day.day_ms] = value
    return True


def district_days(months: Iterable[AirMonth], through_ms: int) -> dict[str, list[DayValue]]:
    """Per district its days up to and including the day starting ``through_ms``, in day order."""
    by_district: dict[str, dict[int, DayValue]] = {}
    for month in months:
        for district, days in month.days.items():
            kept = by_district.setdefault(district, {})
            kept.update((start, v) for start, v in days.items() if start <= through_ms)
    return {d: [days[s] for s in sorted(days)] for d, days in by_district.items() if days}


def composite_stats(days: Sequence[DayValue]) -> dict[str, float] | None:
    """Period statistics C_i (HJ 663-2013) of a district's days, keyed as
    ``pipeline.standards.composite.COMPOSITE_KEYS``: the mean of the daily means of SO2, NO2,
    PM10 and PM2.5, the 95th percentile of the daily CO means and the 90th percentile of the daily
    maximum 8-h O3. Each pollutant over the days that have it; None when a pollutant has no day.
    Unrounded (GB/T 8170 rounding of C_i is single-source and not applied)."""
    series = {k: [d.values[k] for d in days if k in d.values] for k in DAY_KEYS}
    if not all(series.values()):
        return None
    stats = {k: fsum(series[k]) / len(series[k]) for k in ("so2", "no2", "pm10", "pm25")}
    stats["co"] = percentile(series["co"], 95)
    stats["o3"] = percentile(series["o3_8h"], 90)
    return stats


# --- water: section readings ----------------------------------------------------------------


class Acc(msgspec.Struct, array_like=True, gc=False):
    total: float = 0.0
    count: int = 0


class SectionMonth(msgspec.Struct, gc=False):
    """Section readings of one month: section -> parameter -> sum and count."""

    sections: dict[str, dict[str, Acc]] = {}


def add_reading(month: SectionMonth, reading: SectionReading) -> None:
    accs = month.sections.setdefault(reading.section, {})
    for key, value in reading.values.items():
        acc = accs.setdefault(key, Acc())
        acc.total += value
        acc.count += 1


def section_means(month: SectionMonth) -> dict[str, dict[str, float]]:
    """Per section the month's mean of each parameter it measured."""
    return {
        section: {k: acc.total / acc.count for k, acc in accs.items() if acc.count}
        for section, accs in month.sections.items()
        if accs
    }
