"""Event-time hours and days of one air station (streams/air/hours.py)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.messages.readings import AirReading
from pipeline.messages.reasons import Reject, RejectReason
from pipeline.registry import Registry
from pipeline.timeutil import HOUR_MS, day_start, hour_start
from streams.air.hours import (
    Closed,
    ClosedDay,
    ClosedHour,
    Ingested,
    LocalHours,
    StationHours,
    station_aqi,
)
from streams.air.qc import QcConfig, QcFlag
from streams.air.state import StationState
from tests.unit.streams import MINUTE_MS, SHANGHAI, at, reading

T10 = at("2026-11-27T10:00")
GRACE = 15 * MINUTE_MS
# Window tests feed constant values, which the flatline check would rightly flag.
NO_FLATLINE = QcConfig(flatline_hourly=1_000_000, flatline_subhourly=1_000_000)


def windows() -> tuple[StationHours, StationState]:
    return StationHours(SHANGHAI, grace_ms=GRACE, qc=NO_FLATLINE), StationState("S1")


def take(hours: StationHours, state: StationState, r: AirReading) -> Ingested:
    out = hours.ingest(state, r)
    assert isinstance(out, Ingested), out
    return out


def run(readings: list[AirReading]) -> list[Closed]:
    """Everything the readings close, in order."""
    hours, state = windows()
    return [c for r in readings for c in take(hours, state, r).closed]


def minutes(start: int, n: int, **values: float) -> list[AirReading]:
    return [reading(start + i * MINUTE_MS, **values) for i in range(n)]


def hourly(start: int, values: list[float | None], key: str) -> list[AirReading]:
    """Hourly readings of one key from ``start``; None leaves the hour out."""
    return [
        reading(start + i * HOUR_MS, interval_s=3600, **{key: v})
        for i, v in enumerate(values)
        if v is not None
    ]


def closer(start: int) -> AirReading:
    """A reading late enough to close the hour before ``start`` (and all before)."""
    return reading(start + GRACE + 1, no2=1.0)


def hours_of(closed: list[Closed]) -> dict[int, ClosedHour]:
    return {c.hour_start_ms: c for c in closed if isinstance(c, ClosedHour)}


def test_hourly_mean_is_exact() -> None:
    readings = [reading(T10 + i * MINUTE_MS, pm25=float(i), no2=40.0) for i in range(60)]
    (closed,) = run([*readings, closer(T10 + HOUR_MS)])
    assert closed == ClosedHour(
        "S1", T10, {"no2": 40.0, "pm25": 29.5}, {}, {"no2": 60, "pm25": 60}, {}
    )


@pytest.mark.parametrize(("n", "valid"), [(44, False), (45, True)])
def test_a_mean_needs_45_minutes(n: int, valid: bool) -> None:
    (closed,) = run([*minutes(T10, n, o3=50.0), closer(T10 + HOUR_MS)])
    assert closed.minutes == {"o3": n}
    assert closed.means == ({"o3": 50.0} if valid else {})


def test_an_hourly_average_reading_covers_the_hour() -> None:
    (closed,) = run([reading(T10, interval_s=3600, so2=7.0), closer(T10 + HOUR_MS)])
    assert (closed.means, closed.minutes) == ({"so2": 7.0}, {"so2": 60})


def test_a_late_reading_inside_the_grace_updates_the_hour_then_the_hour_closes() -> None:
    hours, state = windows()
    for r in minutes(T10, 50, pm10=40.0):
        take(hours, state, r)
    assert take(hours, state, reading(T10 + HOUR_MS + GRACE, pm10=10.0)).closed == ()
    late = take(hours, state, reading(T10 + 55 * MINUTE_MS, pm10=100.0))  # inside the grace
    assert late.closed == ()
    (closed,) = take(hours, state, closer(T10 + HOUR_MS)).closed
    assert closed.means == {"pm10": 40 + 60 / 51}
    rejected = hours.ingest(state, reading(T10 + 56 * MINUTE_MS, pm10=100.0))
    assert isinstance(rejected, Reject) and rejected.reason is RejectReason.LATE
    assert "2026-11-27T10:00+08:00" in rejected.detail


def test_a_duplicate_is_rejected_and_changes_nothing() -> None:
    hours, state = windows()
    take(hours, state, reading(T10, pm25=20.0))
    before = msgspec.msgpack.encode(state)
    rejected = hours.ingest(state, reading(T10, pm25=90.0))
    assert isinstance(rejected, Reject) and rejected.reason is RejectReason.DUPLICATE
    assert msgspec.msgpack.encode(state) == before


def test_close_idle_closes_a_silent_station() -> None:
    hours, state = windows()
    for r in minutes(T10, 60, co=0.8):
        take(hours, state, r)
    end = T10 + HOUR_MS
    assert hours.close_idle(state, end + GRACE) == ()
    (closed,) = hours.close_idle(state, end + GRACE + 1)
    assert closed.means == {"co": pytest.approx(0.8)}
    assert hours.close_idle(state, end + 5 * HOUR_MS) == ()
    rejected = hours.ingest(state, reading(end + 30 * MINUTE_MS, co=0.8))
    assert isinstance(rejected, Reject) and rejected.reason is RejectReason.LATE


def test_flagged_values_are_kept_out_of_the_means() -> None:
    spike = reading(T10 + 30 * MINUTE_MS, pm25=200.0, pm10=210.0)
    readings = [r for r in minutes(T10, 60, pm25=20.0, pm10=40.0) if r.ts_ms != spike.ts_ms]
    hours, state = windows()
    flags = [take(hours, state, r).flags for r in [*readings[:30], spike, *readings[30:]]]
    assert flags[30] == {"pm25": [QcFlag.SPIKE], "pm10": [QcFlag.SPIKE]}
    (closed,) = take(hours, state, closer(T10 + HOUR_MS)).closed
    assert closed.means == {"pm10": 40.0, "pm25": 20.0}
    assert closed.minutes == {"pm10": 59, "pm25": 59}
    assert closed.flagged == {"pm10": 1, "pm25": 1}


@pytest.mark.parametrize(("missing", "valid"), [(3, False), (2, True)])
def test_o3_8h_moving_mean_needs_6_of_8_hours(missing: int, valid: bool) -> None:
    values: list[float | None] = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0]
    for i in range(1, missing + 1):
        values[i] = None
    closed = hours_of(run([*hourly(T10, values, "o3"), closer(T10 + 8 * HOUR_MS)]))
    last = closed[T10 + 7 * HOUR_MS]
    expected = sum(v for v in values if v is not None) / (8 - missing)
    assert last.moving == ({"o3_8h": pytest.approx(expected)} if valid else {})


@pytest.mark.parametrize(("missing", "valid"), [(5, False), (4, True)])
def test_24h_moving_means_need_20_of_24_hours(missing: int, valid: bool) -> None:
    start = at("2026-11-27T03:00")  # the 24 hours span two natural days
    values: list[float | None] = [float(i) for i in range(24)]
    for i in range(missing):
        values[2 * i] = None
    readings = [
        reading(start + i * HOUR_MS, interval_s=3600, pm25=v, pm10=2 * v, so2=v / 2)
        for i, v in enumerate(values)
        if v is not None
    ]
    last = hours_of(run([*readings, closer(start + 24 * HOUR_MS)]))[start + 23 * HOUR_MS]
    mean = sum(v for v in values if v is not None) / (24 - missing)
    expected = {"pm10_24h": 2 * mean, "pm25_24h": mean, "so2_24h": mean / 2}
    assert last.moving == (pytest.approx(expected) if valid else {})


def test_the_natural_day_is_asia_shanghai() -> None:
    hours, state = windows()
    take(hours, state, reading(at("2026-11-26T23:00"), interval_s=3540, pm25=10.0))
    last_second = take(hours, state, reading(at("2026-11-26T23:59:59"), interval_s=1, pm25=70.0))
    assert last_second.closed == ()
    midnight = take(hours, state, reading(at("2026-11-27T00:00"), interval_s=3600, pm25=99.0))
    assert midnight.closed == ()  # the grace is still running
    last_hour, day = hours.close_idle(state, at("2026-11-27T00:15") + 1)
    assert isinstance(last_hour, ClosedHour) and isinstance(day, ClosedDay)
    assert last_hour.hour_start_ms == at("2026-11-26T23:00")
    assert last_hour.means == {"pm25": pytest.approx((10 * 3540 + 70) / 3541)}
    assert day == ClosedDay("S1", at("2026-11-26T00:00"), {}, valid_hours=1)


def test_a_day_closes_with_its_last_hour() -> None:
    day = at("2026-11-26T00:00")
    o3 = [float(10 * i) for i in range(24)]
    readings = [
        reading(day + i * HOUR_MS, interval_s=3600, o3=o3[i], pm25=30.0 + (i % 2), no2=40.0)
        for i in range(24)
        if i not in (5, 6, 7, 8)  # 20 valid hours, the minimum
    ]
    closed = run([*readings, closer(day + 24 * HOUR_MS)])
    (closed_day,) = [c for c in closed if isinstance(c, ClosedDay)]
    assert closed[-1] is closed_day and closed[-2].hour_start_ms == day + 23 * HOUR_MS
    assert closed_day.day_start_ms == day and closed_day.valid_hours == 20
    valid_o3 = [v for i, v in enumerate(o3) if i not in (5, 6, 7, 8)]
    assert closed_day.means == pytest.approx(
        {
            "no2": 40.0,
            "pm25": 30.5,
            "o3": 230.0,
            "o3_8h": sum(o3[16:24]) / 8,  # the last window, 16:00-24:00, is the highest
        }
    )
    assert closed_day.means["o3"] == max(valid_o3)


def test_a_day_with_19_valid_hours_has_no_daily_means() -> None:
    day = at("2026-11-26T00:00")
    readings = [reading(day + i * HOUR_MS, interval_s=3600, pm25=30.0) for i in range(19)]
    closed = run([*readings, closer(day + 24 * HOUR_MS)])
    (closed_day,) = [c for c in closed if isinstance(c, ClosedDay)]
    assert (closed_day.means, closed_day.valid_hours) == ({}, 19)


def test_a_long_silence_closes_cheaply_and_keeps_no_history() -> None:
    hours, state = windows()
    take(hours, state, reading(T10, interval_s=3600, pm25=30.0))
    closed = take(hours, state, reading(T10 + 400 * 24 * HOUR_MS, pm25=30.0)).closed
    assert [type(c) for c in closed] == [ClosedHour, ClosedDay]  # days without data: nothing
    assert state.history == {} and list(state.buckets) == [T10 + 400 * 24 * HOUR_MS]


def test_state_round_trips_and_stays_small() -> None:
    hours, state = windows()
    values = {"so2": 8.0, "no2": 35.5, "co": 0.71, "o3": 63.2, "pm10": 48.3, "pm25": 24.9}
    for i in range(26 * 60 + 30):  # a day and a bit of minute data
        take(
            hours, state, reading(T10 + i * MINUTE_MS, **{k: v + i % 7 for k, v in values.items()})
        )
    raw = msgspec.msgpack.encode(state)
    assert msgspec.msgpack.decode(raw, type=StationState) == state
    assert msgspec.json.decode(msgspec.json.encode(state), type=StationState) == state
    assert len(raw) < 4000


@given(ts=st.integers(at("1990-01-01T00:00"), at("2040-01-01T00:00")))
@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Asia/Kolkata", "Europe/Berlin"])
def test_local_hours_agree_with_timeutil(zone: str, ts: int) -> None:
    tz = ZoneInfo(zone)
    local = LocalHours(tz)
    start = local.hour_start(ts)
    assert start == hour_start(ts, tz)
    assert local.is_day_start(start) == (start == day_start(ts, tz))


def test_station_aqi_of_an_hour_and_a_day() -> None:
    registry = Registry.load()
    station = registry.stations["1356A"]
    district = registry.districts[station.district]
    hour = ClosedHour("1356A", T10, {"pm25": 80.0, "o3": 40.0}, {}, {}, {})
    message = station_aqi(hour, station, district, "hj633", SHANGHAI)
    assert message is not None
    assert (message.scope, message.subject, message.report) == ("station", "1356A", "hour")
    # HJ 633-2026: 1-h PM2.5 against the daily row, 60 -> 100, 115 -> 150
    assert (message.standard, message.aqi, message.primary) == ("hj633-2026", 119, ["pm25"])
    assert message.period_label == "2026-11-27T10:00+08:00"
    assert message.district is not None and message.district.id == "futian"
    assert message.valid_stations == 1
    day = ClosedDay("1356A", at("2026-11-26T00:00"), {"pm25": 40.0}, 24)
    daily = station_aqi(day, station, district, "hj633-2012", SHANGHAI)
    assert daily is not None and (daily.report, daily.aqi) == ("day", 57)
    assert daily.period_label == "2026-11-26"
    # Under HJ 633-2012 a 1-h PM value has no IAQI (Table 4): nothing to report.
    pm_only = ClosedHour("1356A", T10, {"pm25": 80.0}, {}, {}, {})
    assert station_aqi(pm_only, station, district, "hj633-2012", SHANGHAI) is None
