"""Event-time clock hours and natural days of one air station, and the station's AQI.

Per station (``StationState``), readings go into the local clock hour of their event time
(``ts_ms`` is the start of the averaging interval). The station's watermark is the latest event
time seen; the hour [h, h + 1 h) closes once the watermark passes h + 1 h + grace, or when the
agent's timer calls ``close_idle`` with a ``now_ms`` past that. Until then late readings update
the hour; after, they are rejected as ``late``. A second reading with the same event time in an
open hour is rejected as ``duplicate``.

Closing an hour gives a ``ClosedHour`` (if the station sent anything in it): per pollutant the
1-h mean of the unflagged values when they cover at least 45 minutes (a reading covers
``interval_s``, and weighs by it: the plain mean for a steady interval; GB 3095 via
``validity.hourly_mean``), and the moving means the HJ 633 real-time report needs (O3 8-h: >= 6 of
8 hours; PM10, PM2.5, SO2 24-h: >= 20 of 24 hours). Closing the last hour of a natural day gives a
``ClosedDay`` if any of its hours had a valid mean: 24-h means (>= 20 valid hours), the O3
maximum 1-h mean (envmon rule: also >= 20 valid hours) and maximum 8-h mean (HJ 663,
``o3_daily_max_8h``). The GB 3095 edition is the one in force at the period's start.

Per reading the work is integer arithmetic and a few dict updates; dates, editions and AQI are
computed only when an hour closes. Days are assumed to have 24 hours (Asia/Shanghai has had no
daylight saving time since 1991).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import msgspec

from pipeline.messages.readings import AirReading
from pipeline.messages.reasons import Reject, RejectReason
from pipeline.messages.results import AqiMessage, Named, Scope
from pipeline.registry import District, Station
from pipeline.standards.aqi import compute_aqi
from pipeline.standards.validity import (
    daily_mean,
    edition_for,
    hourly_mean,
    o3_8h_moving,
    o3_daily_max_8h,
)
from pipeline.timeutil import DAY_MS, HOUR_MS, day_start, label, to_datetime
from streams.air.qc import AIR_KEYS, Flags, QcConfig, QualityControl
from streams.air.state import Acc, Bucket, StationState

DEFAULT_GRACE_MS = 15 * 60_000
O3_8H_LIMIT = 160.0  # GB 3095-2012 and -2026 grade II O3 daily maximum 8-h limit, μg/m³
_SLOTS = 24  # hourly means kept: a 24-h moving window, and the natural day at its last hour
_MEANS_24H = ("so2", "no2", "co", "pm10", "pm25")  # keys with a daily mean
_MOVING_24H = ("pm10", "pm25", "so2")  # keys with a 24-h moving mean in the real-time report


class ClosedHour(msgspec.Struct, frozen=True, tag="closed_hour"):
    """One station's closed clock hour: valid 1-h means, moving means (``o3_8h pm10_24h
    pm25_24h so2_24h``), minutes of unflagged sampling and number of flagged values per key."""

    station: str
    hour_start_ms: int
    means: dict[str, float]
    moving: dict[str, float]
    minutes: dict[str, int]
    flagged: dict[str, int]


class ClosedDay(msgspec.Struct, frozen=True, tag="closed_day"):
    """One station's natural day: valid 24-h means, ``o3`` (maximum 1-h mean) and ``o3_8h``
    (maximum 8-h mean); ``valid_hours``: hours with at least one valid 1-h mean."""

    station: str
    day_start_ms: int
    means: dict[str, float]
    valid_hours: int


Closed = ClosedHour | ClosedDay
Report = Literal["hour", "day"]


class PeriodBatch(msgspec.Struct, frozen=True):
    """What one batch of the air agent sends to the aggregates (``{ns}.air.periods``, internal):
    the station periods it closed, in order, and per readings partition it handled the time
    before which every period of that partition's stations has been sent (``StationHours.boundary``
    of the partition's event time)."""

    closed: list[Closed]
    clocks: dict[int, int]


class Ingested(msgspec.Struct, frozen=True, gc=False):
    """An accepted reading: its QC flags, and what its event time closed (in time order)."""

    flags: Flags
    closed: tuple[Closed, ...] = ()


class LocalHours:
    """Clock hours and natural days of ``tz`` by integer arithmetic. The zone's UTC offset is
    looked up once per UTC hour and cached (offsets are assumed to change on whole UTC hours)."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self._offsets: dict[int, int] = {}

    def hour_start(self, ts_ms: int) -> int:
        offset = self._offsets.get(ts_ms // HOUR_MS)
        if offset is None:
            offset = self._offset(ts_ms)
        return ts_ms - (ts_ms + offset) % HOUR_MS

    def is_day_start(self, ts_ms: int) -> bool:
        """Whether ``ts_ms`` is a local midnight."""
        return (ts_ms + self._offset(ts_ms)) % DAY_MS == 0

    def _offset(self, ts_ms: int) -> int:
        key = ts_ms // HOUR_MS
        offset = self._offsets.get(key)
        if offset is None:
            delta = to_datetime(key * HOUR_MS, self.tz).utcoffset()
            offset = self._offsets[key] = delta // _MS if delta is not None else 0
        return offset


class StationHours:
    """Hourly and daily windows of air stations; one ``StationState`` per station."""

    def __init__(
        self,
        tz: ZoneInfo,
        grace_ms: int = DEFAULT_GRACE_MS,
        qc: QcConfig | None = None,
        o3_8h_limit: float | None = O3_8H_LIMIT,
    ) -> None:
        if grace_ms < 0:
            raise ValueError("grace_ms must be >= 0")
        self.local = LocalHours(tz)
        self.grace_ms = grace_ms
        self.o3_8h_limit = o3_8h_limit  # lets a day of < 14 8-h means count when it exceeds
        self._qc = QualityControl(qc)

    def ingest(self, state: StationState, reading: AirReading) -> Ingested | Reject:
        """Take one reading of the station that ``state`` belongs to, or say why not."""
        ts = reading.ts_ms
        hour = self.local.hour_start(ts)
        if hour < state.closed_until_ms:
            return Reject(
                RejectReason.LATE,
                "ts",
                f"the hour {self._label(hour)} closed (station watermark "
                f"{self._label(state.watermark_ms)}, grace {self.grace_ms // 60_000} min)",
            )
        bucket = state.buckets.get(hour)
        if bucket is None:
            bucket = state.buckets[hour] = Bucket()
        elif ts - hour in bucket.seen:
            return Reject(RejectReason.DUPLICATE, "ts", f"a reading at {ts} ms was already taken")
        bucket.seen.add(ts - hour)
        flags = self._qc.check(state.qc, reading)
        _accumulate(bucket.accs, reading, flags)
        if ts <= state.watermark_ms:
            return Ingested(flags)
        state.watermark_ms = ts
        if ts <= state.closed_until_ms + HOUR_MS + self.grace_ms:  # the first open hour stays
            return Ingested(flags)
        return Ingested(flags, self._close_before(state, self.boundary(ts)))

    def close_idle(self, state: StationState, now_ms: int) -> tuple[Closed, ...]:
        """Close the station's hours that ended more than the grace before ``now_ms`` (the
        agent's timer: event time or wall clock, its choice); later readings for them are late."""
        boundary = self.boundary(now_ms)
        if boundary <= state.closed_until_ms:
            return ()
        return self._close_before(state, boundary)

    def boundary(self, now_ms: int) -> int:
        """Start of the first hour still open at ``now_ms``: earlier ones ended > grace ago."""
        return self.local.hour_start(now_ms - self.grace_ms - 1)

    def _close_before(self, state: StationState, boundary: int) -> tuple[Closed, ...]:
        closed: list[Closed] = []
        hour = state.closed_until_ms
        while hour < boundary:
            if not state.history and hour not in state.buckets:  # nothing to carry: skip ahead
                hour = min(min(state.buckets, default=boundary), boundary)
                continue
            closed.extend(self._close_hour(state, hour))
            hour += HOUR_MS
        state.closed_until_ms = boundary
        return tuple(closed)

    def _close_hour(self, state: StationState, hour: int) -> list[Closed]:
        bucket = state.buckets.pop(hour, None)
        edition = edition_for(to_datetime(hour, self.local.tz))
        means: dict[str, float] = {}
        minutes: dict[str, int] = {}
        flagged: dict[str, int] = {}
        for key, acc in bucket.accs.items() if bucket else ():
            covered = min(acc.seconds / 60, 60.0)
            minutes[key] = int(covered)
            if acc.flagged:
                flagged[key] = acc.flagged
            # GB 3095's 45-minute rule; the time-weighted mean stands for the samples' mean.
            mean = hourly_mean((acc.weighted / acc.seconds,), covered, edition) if covered else None
            if mean is not None:
                means[key] = mean
        _roll(state.history, means)
        closed: list[Closed] = []
        if bucket is not None:
            moving = _moving(state.history, edition)
            closed.append(ClosedHour(state.station, hour, means, moving, minutes, flagged))
        end = hour + HOUR_MS
        if self.local.is_day_start(end) and (day := self._close_day(state, end)):
            closed.append(day)
        return closed

    def _close_day(self, state: StationState, end: int) -> ClosedDay | None:
        """The natural day ending at ``end``: its hours are the 24 slots of the history."""
        start = day_start(end - 1, self.local.tz)
        history = state.history
        valid_hours = sum(any(s[i] is not None for s in history.values()) for i in range(_SLOTS))
        if not valid_hours:
            return None
        edition = edition_for(to_datetime(start, self.local.tz))
        means = {
            key: mean
            for key in _MEANS_24H
            if key in history and (mean := daily_mean(history[key], edition)) is not None
        }
        if o3 := history.get("o3"):
            if daily_mean(o3, edition) is not None:  # enough valid hours for a daily maximum
                means["o3"] = max(v for v in o3 if v is not None)
            eight = [o3_8h_moving(o3[i : i + 8], edition) for i in range(_SLOTS - 7)]
            if (o3_8h := o3_daily_max_8h(eight, edition, self.o3_8h_limit)) is not None:
                means["o3_8h"] = o3_8h
        return ClosedDay(state.station, start, means, valid_hours)

    def _label(self, ts_ms: int) -> str:
        return label(ts_ms, self.local.tz)


def concentrations(closed: Closed) -> dict[str, float]:
    """The AQI input of a station hour (1-h and moving means) or day (daily values)."""
    if isinstance(closed, ClosedHour):
        return {**closed.means, **closed.moving}
    return dict(closed.means)


def station_aqi(
    closed: Closed, station: Station, district: District, standard: str, tz: ZoneInfo
) -> AqiMessage | None:
    """The AQI message of one station hour or day; None when no IAQI is computable."""
    report, start = period_of(closed)
    subject = Named(station.id, station.name_zh, station.name_en)
    conc = concentrations(closed)
    return aqi_message("station", subject, named(district), report, start, conc, standard, tz, 1)


def period_of(closed: Closed) -> tuple[Report, int]:
    """The report type and period start of a station hour or day."""
    if isinstance(closed, ClosedHour):
        return "hour", closed.hour_start_ms
    return "day", closed.day_start_ms


def aqi_message(
    scope: Scope,
    subject: Named,
    district: Named | None,
    report: Report,
    start: int,
    conc: Mapping[str, float],
    standard: str,
    tz: ZoneInfo,
    valid_stations: int,
) -> AqiMessage | None:
    """The AQI of ``conc`` for the hour or day starting at ``start``, by the edition in force
    then; None when no IAQI is computable. Labels: hours ``2026-11-27T10:00+08:00``, days
    ``2026-11-27``."""
    result = compute_aqi(conc, report, standard, to_datetime(start, tz))
    if result.aqi is None:
        return None
    return AqiMessage(
        scope=scope,
        subject=subject.id,
        name_zh=subject.name_zh,
        name_en=subject.name_en,
        district=district,
        report=report,
        period_start_ms=start,
        period_label=label(start, tz, minutes=report == "hour"),
        standard=result.standard,
        aqi=result.aqi,
        level=result.level,  # type: ignore[arg-type]  # set whenever aqi is
        category_zh=result.category_zh,  # type: ignore[arg-type]
        category_en=result.category_en,  # type: ignore[arg-type]
        color=result.color,  # type: ignore[arg-type]
        primary=list(result.primary),
        exceeding=list(result.exceeding),
        iaqi=result.iaqi,
        concentrations=dict(conc),
        valid_stations=valid_stations,
    )


def named(district: District) -> Named:
    return Named(district.id, district.name_zh, district.name_en)


def _accumulate(accs: dict[str, Acc], reading: AirReading, flags: Flags) -> None:
    values, seconds = reading.values, reading.interval_s
    for key in AIR_KEYS:
        v = getattr(values, key)
        if v is None:
            continue
        acc = accs.get(key)
        if acc is None:
            acc = accs[key] = Acc()
        if flags and key in flags:
            acc.flagged += 1
        else:
            acc.weighted += v * seconds
            acc.seconds += seconds


def _roll(history: dict[str, list[float | None]], means: Mapping[str, float]) -> None:
    """Append one hour to the history; drop keys left without any value."""
    for key in AIR_KEYS:
        value = means.get(key)
        slots = history.get(key)
        if slots is None:
            if value is None:
                continue
            slots = history[key] = [None] * _SLOTS
        del slots[0]
        slots.append(value)
        if value is None and all(v is None for v in slots):
            del history[key]


def _moving(history: Mapping[str, list[float | None]], edition: str) -> dict[str, float]:
    """Moving means ending with the last hour of ``history``."""
    moving: dict[str, float] = {}
    if "o3" in history and (o3_8h := o3_8h_moving(history["o3"][-8:], edition)) is not None:
        moving["o3_8h"] = o3_8h
    for key in _MOVING_24H:
        if key in history and (mean := daily_mean(history[key], edition)) is not None:
            moving[f"{key}_24h"] = mean
    return moving


_MS = timedelta(milliseconds=1)
