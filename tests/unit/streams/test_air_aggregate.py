"""District and city aggregates (streams/air/aggregate.py), and determinism end to end."""

from __future__ import annotations

import random

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.messages.readings import AirReading
from pipeline.messages.reasons import Reject, RejectReason
from pipeline.messages.results import AqiMessage
from pipeline.registry import City, District, Registry, Station, StationKind
from pipeline.standards.aqi import compute_aqi
from pipeline.timeutil import HOUR_MS
from streams.air.aggregate import ScopeAggregator
from streams.air.hours import Closed, ClosedDay, ClosedHour, Ingested, StationHours
from streams.air.liveness import all_passed
from streams.air.state import ScopeState, StationState
from tests.unit.streams import MINUTE_MS, SHANGHAI, at, reading

DAY = at("2026-11-26T00:00")
T10 = at("2026-11-27T10:00")


def registry() -> Registry:
    """Districts d1 (stations A, B) and d2 (station C), plus an empty district d3."""
    districts = {d: District(d, f"{d}区", d.upper(), 22.5, 114.0) for d in ("d1", "d2", "d3")}
    stations = {
        s: Station(s, StationKind.AIR, f"{s}站", s, d, 22.5, 114.0)
        for s, d in (("A", "d1"), ("B", "d1"), ("C", "d2"))
    }
    return Registry(City("test", "测试市", "Test City"), districts, stations, {}, "test")


def aggregator(lag_hours: int = 2, standard: str = "hj633-2012") -> ScopeAggregator:
    return ScopeAggregator(registry(), standard, SHANGHAI, lag_hours)


def day(station: str, **means: float) -> ClosedDay:
    return ClosedDay(station, DAY, means, 24)


def hour(station: str, start: int = T10, **means: float) -> ClosedHour:
    return ClosedHour(station, start, means, {}, {}, {})


def by_subject(messages: list[AqiMessage] | Reject) -> dict[str, AqiMessage]:
    assert isinstance(messages, list), messages
    return {m.subject: m for m in messages}


def test_district_aqi_is_the_iaqi_of_mean_concentrations() -> None:
    agg, state = aggregator(), ScopeState()
    assert agg.add(state, day("A", pm25=10.0)) == []
    assert agg.add(state, day("B", pm25=300.0)) == []
    messages = by_subject(agg.add(state, day("C", pm25=20.0)))  # all stations in: closes
    station_aqis = [compute_aqi({"pm25": c}, "day", "hj633-2012").aqi for c in (10.0, 300.0)]
    assert station_aqis == [15, 350]  # their mean, 182.5, is not how the standard does it
    d1 = messages["d1"]
    assert (d1.concentrations, d1.aqi, d1.valid_stations) == ({"pm25": 155.0}, 205, 2)
    assert d1.scope == "district" and d1.district is not None and d1.district.id == "d1"
    city = messages["test"]
    assert (city.scope, city.district, city.valid_stations) == ("city", None, 3)
    assert city.concentrations == {"pm25": 110.0}
    assert set(messages) == {"d1", "d2", "test"}  # d3 has no station: no message


def test_means_are_per_pollutant_over_stations_having_it() -> None:
    agg, state = aggregator(), ScopeState()
    agg.add(state, hour("A", o3=100.0, co=1.0))
    agg.add(state, hour("B", o3=200.0))
    messages = by_subject(agg.add(state, hour("C")))  # reported, but nothing valid
    assert messages["d1"].concentrations == {"co": 1.0, "o3": 150.0}
    assert messages["test"].valid_stations == 2
    assert "d2" not in messages


def test_the_lag_rule_closes_an_incomplete_hour_and_a_late_station_updates_it() -> None:
    agg, state = aggregator(lag_hours=2), ScopeState()
    agg.add(state, hour("A", o3=100.0))
    assert agg.add(state, hour("A", T10 + 2 * HOUR_MS, o3=100.0)) == []
    closed = by_subject(agg.add(state, hour("B", T10 + 3 * HOUR_MS, o3=90.0)))
    assert closed["d1"].period_start_ms == T10 and closed["d1"].valid_stations == 1
    updated = agg.add(state, hour("C", o3=50.0))  # retained: the hour is produced again
    assert not isinstance(updated, Reject)
    again = by_subject(updated)
    assert again["test"].period_start_ms == T10 and again["test"].valid_stations == 2
    assert again["test"].concentrations["o3"] == 75.0  # the mean of A and C


def test_a_station_period_older_than_the_retention_is_late() -> None:
    agg, state = (
        ScopeAggregator(registry(), "hj633-2012", SHANGHAI, 2, retain_hours=1),
        ScopeState(),
    )
    agg.add(state, hour("A", o3=100.0))
    agg.add(state, hour("B", T10 + 6 * HOUR_MS, o3=90.0))
    late = agg.add(state, hour("C", o3=50.0))
    assert isinstance(late, Reject) and late.reason is RejectReason.LATE


def test_close_by_the_timer_takes_hours_and_the_days_they_end() -> None:
    agg, state = aggregator(lag_hours=100), ScopeState()
    agg.add(state, day("A", pm10=80.0))
    agg.add(state, hour("A", DAY + 23 * HOUR_MS, pm25=30.0, o3=60.0))
    assert agg.close(state, DAY + 22 * HOUR_MS) == []
    messages = agg.close(state, DAY + 23 * HOUR_MS)
    assert [(m.report, m.subject) for m in messages] == [
        ("hour", "d1"),
        ("hour", "test"),
        ("day", "d1"),
        ("day", "test"),
    ]
    for periods in (state.hour, state.day):  # nothing left waiting; closed ones retained
        assert periods.waiting == {} and periods.closed_until_ms == DAY + 24 * HOUR_MS
    assert set(state.day.closed) == {DAY} and set(state.hour.closed) == {DAY + 23 * HOUR_MS}


def test_a_period_sent_again_replaces_the_first_and_strangers_are_refused() -> None:
    agg, state = aggregator(), ScopeState()
    agg.add(state, hour("A", o3=100.0))
    agg.add(state, hour("A", o3=120.0))
    agg.add(state, hour("B", o3=80.0))
    messages = by_subject(agg.add(state, hour("C", o3=10.0)))
    assert messages["d1"].concentrations == {"o3": 100.0}
    stranger = agg.add(state, hour("Z", o3=1.0))
    assert isinstance(stranger, Reject) and stranger.reason is RejectReason.UNKNOWN_STATION


def test_scope_state_round_trips() -> None:
    agg, state = aggregator(), ScopeState()
    agg.add(state, hour("A", o3=100.0, pm25=12.5))
    agg.add(state, day("B", pm25=20.0, o3_8h=90.0))
    raw = msgspec.msgpack.encode(state)
    assert msgspec.msgpack.decode(raw, type=ScopeState) == state
    assert msgspec.json.decode(msgspec.json.encode(state), type=ScopeState) == state


# Determinism: any interleaving of the stations' readings gives the same results.

STATIONS = ("A", "B", "C")
START = at("2026-11-26T21:00")  # four hours across the natural-day boundary


@st.composite
def station_series(draw: st.DrawFn, station: str) -> list[AirReading]:
    """Minute readings over four hours: some missing, some device-flagged, values from a seed."""
    gaps = draw(st.sets(st.integers(0, 4 * 60 - 1), max_size=60))
    flagged = draw(st.sets(st.integers(0, 4 * 60 - 1), max_size=10))
    rng = random.Random(draw(st.integers(0, 2**32)))
    series = []
    for m in sorted(set(range(4 * 60)) - gaps):
        pm10 = rng.uniform(20, 150)
        values = {"pm10": pm10, "pm25": pm10 * rng.uniform(0.3, 0.9), "o3": rng.uniform(0, 200)}
        flags = {"o3": "C"} if m in flagged else {}
        series.append(reading(START + m * MINUTE_MS, station, 60, flags, **values))
    return series


def process(order: list[str], series: dict[str, list[AirReading]]):
    """Run the readings in ``order`` (station names) through stations and the aggregator."""
    hours, agg = StationHours(SHANGHAI), aggregator(lag_hours=1000)
    states = {s: StationState(s) for s in STATIONS}
    scope, closed, messages = ScopeState(), [], []
    pending = {s: iter(rs) for s, rs in series.items()}

    def forward(items: tuple[Closed, ...]) -> None:
        for item in items:
            closed.append(item)
            out = agg.add(scope, item)
            assert isinstance(out, list), out
            messages.extend(out)

    for station in order:
        out = hours.ingest(states[station], next(pending[station]))
        assert isinstance(out, Ingested), out
        forward(out.closed)
    end = START + 6 * HOUR_MS
    for station in STATIONS:
        forward(hours.close_idle(states[station], end))
    messages.extend(agg.close(scope, end))
    key = msgspec.json.encode
    return sorted(map(key, closed)), sorted(map(key, messages))


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_any_interleaving_gives_the_same_results(data: st.DataObject) -> None:
    series = {s: data.draw(station_series(s), label=s) for s in STATIONS}
    schedule = [s for s in STATIONS for _ in series[s]]
    reference = process(schedule, series)
    shuffled = data.draw(st.permutations(schedule), label="order")
    assert process(shuffled, series) == reference
    assert reference[1]  # something was aggregated


def test_lag_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="retain_hours"):
        aggregator(lag_hours=-1)


def test_a_partition_far_ahead_waits_for_the_slow_one_and_no_station_hour_is_lost() -> None:
    """Two workers in a backfill burst: A and B (partition 0) run 8 hours ahead of C (partition
    1). The hours stay open until partition 1 has passed them, however far ahead partition 0 is,
    so none of C's hours is late (with the lag rule alone they were after 2 hours)."""
    agg, state = ScopeAggregator(registry(), "hj633-2012", SHANGHAI, lag_hours=24), ScopeState()
    assert agg.advance(state, {0: T10, 1: T10}) == []  # both workers' first batches
    produced: list[AqiMessage] = []
    for h in range(8):
        for station in ("A", "B"):
            added = agg.add(state, hour(station, T10 + h * HOUR_MS, no2=20.0))
            assert added == []
        assert agg.advance(state, {0: T10 + (h + 1) * HOUR_MS}) == []
    for h in range(8):
        added = agg.add(state, hour("C", T10 + h * HOUR_MS, no2=50.0))
        assert not isinstance(added, Reject), added
        produced += added
        produced += agg.advance(state, {1: T10 + (h + 1) * HOUR_MS})
    city = {m.period_start_ms: m for m in produced if m.scope == "city"}
    assert sorted(city) == [T10 + h * HOUR_MS for h in range(8)]  # every hour, once
    assert all(m.valid_stations == 3 and m.concentrations == {"no2": 30.0} for m in city.values())
    assert len(produced) == 8 * 3  # d1, d2 and the city, each hour once


def test_an_hour_waits_for_every_partition_seen_until_the_lag_bound() -> None:
    agg, state = ScopeAggregator(registry(), "hj633-2012", SHANGHAI, lag_hours=4), ScopeState()
    agg.advance(state, {0: T10, 1: T10})
    agg.add(state, hour("A", T10, no2=20.0))
    assert agg.advance(state, {0: T10 + 5 * HOUR_MS}) == []  # partition 1 stalls
    # a station hour more than 4 hours later closes it anyway: the bound on waiting
    closed = by_subject(agg.add(state, hour("A", T10 + 5 * HOUR_MS, no2=20.0)))
    assert closed["test"].period_start_ms == T10 and closed["test"].valid_stations == 1


def test_with_the_partition_count_an_hour_waits_for_a_worker_not_heard_from_yet() -> None:
    """Two workers starting: the first one's clocks (partitions 0 and 1) come before the second
    one's (partition 2). Counting only the partitions heard from, T10 closed without C; with the
    count it waits for partition 2's clock, and an empty partition's clock 0 holds nothing back."""
    agg = ScopeAggregator(registry(), "hj633-2012", SHANGHAI, lag_hours=24, partitions=3)
    state = ScopeState()
    for station in ("A", "B"):
        assert agg.add(state, hour(station, T10, no2=20.0)) == []
    assert agg.advance(state, {0: T10 + HOUR_MS, 1: T10 + HOUR_MS}) == []  # 2 not heard yet
    assert agg.add(state, hour("C", T10, no2=50.0)) != []  # all stations in: closes complete
    assert agg.add(state, hour("A", T10 + HOUR_MS, no2=20.0)) == []
    assert agg.advance(state, {0: T10 + 2 * HOUR_MS, 1: T10 + 2 * HOUR_MS}) == []
    closed = by_subject(agg.advance(state, {2: 0}))  # partition 2 is empty
    assert closed["test"].period_start_ms == T10 + HOUR_MS and closed["test"].valid_stations == 1


def test_all_passed_waits_for_every_partition_and_skips_empty_ones() -> None:
    assert all_passed({}, None) is None
    assert all_passed({0: 5, 1: 3}, None) == 3
    assert all_passed({0: 5, 1: 3}, 3) is None
    assert all_passed({0: 5, 1: 3, 2: 0}, 3) == 3
    assert all_passed({0: 0}, 1) is None  # nothing has passed anything yet
