"""Month-to-date and year-to-date accumulation of the rankings (streams/rankings/periods.py)."""

from __future__ import annotations

import msgspec
import pytest

from pipeline.messages import AqiMessage, Named, WaterQualityMessage
from pipeline.registry import District, Station, StationKind
from pipeline.standards.composite import composite_index
from streams.air.hours import ClosedHour, station_aqi
from streams.rankings.boards import RankingsState
from streams.rankings.periods import (
    AirDay,
    AirMonth,
    MonthStore,
    SectionMonth,
    SectionReading,
    StationHour,
    add_day,
    add_reading,
    composite_stats,
    district_days,
    month_key,
    rank_input,
    section_means,
    station_hour,
    year_to,
)
from tests.unit.streams import SHANGHAI, at

FUTIAN = Named("futian", "福田区", "Futian")
DISTRICT = District("futian", "福田区", "Futian", 22.5, 114.0)
STATION = Station("S1", StationKind.AIR, "一号站", "Station 1", "futian", 22.5, 114.0)


def aqi_message(scope: str, report: str, subject: str, **conc: float) -> AqiMessage:
    return AqiMessage(
        scope=scope,  # type: ignore[arg-type]
        subject=subject,
        name_zh=subject,
        name_en=subject,
        district=FUTIAN,
        report=report,  # type: ignore[arg-type]
        period_start_ms=at("2026-11-27T00:00"),
        period_label="2026-11-27",
        standard="hj633-2026",
        aqi=57,
        level=2,
        category_zh="良",
        category_en="Good",
        color="#FFFF00",
        primary=["pm25"],
        exceeding=[],
        iaqi={},
        concentrations=conc,
        valid_stations=3,
    )


def day(district: str, start: str, stations: int = 2, **values: float) -> AirDay:
    return AirDay(district, at(f"{start}T00:00"), stations, values)


# --- inputs ---------------------------------------------------------------------------------


def test_a_district_day_brings_its_composite_keys_and_stations() -> None:
    message = aqi_message("district", "day", "futian", pm25=21, o3=210, o3_8h=192, co=0.7)
    assert rank_input(message) == AirDay(
        "futian", at("2026-11-27T00:00"), 3, {"pm25": 21, "o3_8h": 192, "co": 0.7}
    )


def test_other_aqi_messages_bring_nothing() -> None:
    assert rank_input(aqi_message("station", "hour", "S1", pm25=21)) is None  # from air.periods
    assert rank_input(aqi_message("station", "day", "S1", pm25=21)) is None
    assert rank_input(aqi_message("city", "day", "testcity", pm25=21)) is None
    assert rank_input(aqi_message("district", "hour", "futian", pm25=21)) is None


def test_a_station_hour_has_the_aqi_of_its_station_message() -> None:
    start = at("2026-11-20T09:00")
    closed = ClosedHour("S1", start, {"pm25": 80.0}, {"pm25_24h": 80.0}, {}, {})
    message = station_aqi(closed, STATION, DISTRICT, "hj633", SHANGHAI)
    assert message is not None and message.aqi == 119  # 100 + (80 - 60) * 50 / 55 -> 119
    assert station_hour(closed, "hj633", SHANGHAI) == StationHour("S1", start, 119)
    nothing = ClosedHour("S1", start, {}, {}, {}, {})
    assert station_hour(nothing, "hj633", SHANGHAI) == StationHour("S1", start, None)


def test_a_section_reading_brings_its_cwqi_parameters() -> None:
    message = WaterQualityMessage(
        station="W1",
        name_zh="一号断面",
        name_en="Section 1",
        river=Named("r", "河", "River"),
        district=FUTIAN,
        ts_ms=at("2026-11-27T04:00"),
        water_class="III",
        class_num=3,
        target_class="III",
        per_parameter={},
        failing=[],
        cwqi=1.0,
        values={"do": 0.0, "tn": 1.2, "nh3n": 0.5, "ph": 7.2},
    )
    # TN is not a CWQI item; DO of 0 has no index (5 / C)
    assert rank_input(message) == SectionReading(
        "W1", at("2026-11-27T04:00"), {"nh3n": 0.5, "ph": 7.2}
    )


# --- months ---------------------------------------------------------------------------------


def test_months_are_asia_shanghai_natural_months() -> None:
    assert month_key(at("2026-11-30T23:59"), SHANGHAI) == "2026-11"
    assert month_key(at("2026-12-01T00:00"), SHANGHAI) == "2026-12"  # 2026-11-30T16:00Z
    assert month_key(at("2027-01-01T00:00"), SHANGHAI) == "2027-01"
    assert year_to("2026-03") == ["2026-01", "2026-02", "2026-03"]
    assert year_to("2027-01") == ["2027-01"]


def test_a_day_sent_again_replaces_the_first() -> None:
    month = AirMonth()
    assert add_day(month, day("d1", "2026-11-01", pm25=30))
    assert add_day(month, day("d1", "2026-11-01", pm25=40))  # the aggregator re-sent the day
    assert not add_day(month, day("d1", "2026-11-01", pm25=40))
    days = district_days([month], at("2026-11-30T00:00"))
    assert [d.values for d in days["d1"]] == [{"pm25": 40}]


def test_period_days_stop_at_the_day_and_follow_the_months_given() -> None:
    nov, dec = AirMonth(), AirMonth()
    add_day(nov, day("d1", "2026-11-30", pm25=10))
    add_day(dec, day("d1", "2026-12-01", stations=3, pm25=20))
    add_day(dec, day("d1", "2026-12-02", pm25=30))
    through = at("2026-12-01T00:00")
    mtd = district_days([dec], through)  # month-to-date starts again on 12-01 (+08:00)
    assert [(d.stations, d.values) for d in mtd["d1"]] == [(3, {"pm25": 20})]
    ytd = district_days([nov, dec], through)
    assert [d.values["pm25"] for d in ytd["d1"]] == [10, 20]


def test_composite_statistics_reproduce_the_worked_example() -> None:
    """21/35 + 39/70 + 9/60 + 15/40 + 192/160 + 0.7/4 = 3.06 (rankings.yaml), from three days:
    means of daily means for SO2 NO2 PM10 PM2.5; CO: 95th percentile, k = 1 + 2 * 0.95 = 2.9,
    0.25 + 0.9 * (0.75 - 0.25) = 0.7; O3: 90th percentile, k = 2.8, 180 + 0.8 * 15 = 192."""
    month = AirMonth()
    rows = [
        (8, 14, 38, 20, 0.2, 150),
        (9, 15, 39, 21, 0.75, 195),
        (10, 16, 40, 22, 0.25, 180),
    ]
    for n, (so2, no2, pm10, pm25, co, o3) in enumerate(rows, start=1):
        values = {"so2": so2, "no2": no2, "pm10": pm10, "pm25": pm25, "co": co, "o3_8h": o3}
        add_day(month, day("d1", f"2026-11-0{n}", **values))
    stats = composite_stats(district_days([month], at("2026-11-03T00:00"))["d1"])
    assert stats is not None
    assert stats == pytest.approx(
        {"so2": 9, "no2": 15, "pm10": 39, "pm25": 21, "co": 0.7, "o3": 192}
    )
    result = composite_index(stats)
    assert result.composite == pytest.approx(21 / 35 + 39 / 70 + 9 / 60 + 15 / 40 + 1.2 + 0.175)
    assert result.composite_rounded == 3.06


def test_each_pollutant_over_the_days_that_have_it_and_none_without_one() -> None:
    days = [
        day("d1", "2026-11-01", so2=10, no2=20, pm10=30, pm25=40, co=1.0, o3_8h=100),
        day("d1", "2026-11-02", so2=20, no2=20, pm10=30, pm25=40, co=1.0),  # no O3 that day
    ]
    month = AirMonth()
    for d in days:
        add_day(month, d)
    stats = composite_stats(district_days([month], at("2026-11-02T00:00"))["d1"])
    assert stats is not None and stats["so2"] == 15 and stats["o3"] == 100
    assert composite_stats(district_days([month], at("2026-11-02T00:00"))["d1"][1:]) is None


def test_section_months_average_each_parameter_over_its_readings() -> None:
    month = SectionMonth()
    add_reading(month, SectionReading("W1", at("2026-11-01T00:00"), {"do": 5.0, "nh3n": 0.5}))
    add_reading(month, SectionReading("W1", at("2026-11-01T04:00"), {"do": 10.0}))
    add_reading(month, SectionReading("W2", at("2026-11-01T04:00"), {"tp": 0.05}))
    assert section_means(month) == {"W1": {"do": 7.5, "nh3n": 0.5}, "W2": {"tp": 0.05}}


def test_month_store_loads_once_and_tracks_changes_and_drops() -> None:
    loads: list[str] = []

    def load(key: str) -> AirMonth:
        loads.append(key)
        return AirMonth()

    store = MonthStore(load)
    assert store.get("2026-11") is store.get("2026-11") and loads == ["2026-11"]
    store.mark("2026-11")
    store.mark("2025-01")
    store.drop("2025-01")
    assert store.changed == {"2026-11"} and store.dropped == {"2025-01"}


def test_table_values_survive_msgpack() -> None:
    month = AirMonth()
    add_day(month, day("d1", "2026-11-01", pm25=12.5))
    sections = SectionMonth()
    add_reading(sections, SectionReading("W1", 1, {"do": 5.0}))
    state = RankingsState(air_open={1: ["d1"]}, ranks={"b": {1: {"d1": 1}}})
    for value, type_ in ((month, AirMonth), (sections, SectionMonth), (state, RankingsState)):
        assert msgspec.msgpack.decode(msgspec.msgpack.encode(value), type=type_) == value
