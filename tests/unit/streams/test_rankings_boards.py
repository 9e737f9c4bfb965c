"""Ranking boards from the accumulated periods (streams/rankings/boards.py), hand-computed."""

from __future__ import annotations

import pytest

from pipeline.messages import RankingMessage
from pipeline.registry import City, District, Registry, Station, StationKind
from pipeline.timeutil import HOUR_MS
from streams.rankings.boards import (
    COMPOSITE_MTD,
    COMPOSITE_YTD,
    SECTION_CWQI_MTD,
    STATION_AQI_HOUR,
    Boards,
    RankingsState,
)
from streams.rankings.periods import (
    AirDay,
    AirMonth,
    MonthStore,
    PartitionClocks,
    RankInput,
    SectionMonth,
    SectionReading,
    StationHour,
)
from tests.unit.streams import SHANGHAI, at

# the worked example of rankings.yaml: 21/35 + 39/70 + 9/60 + 15/40 + 192/160 + 0.7/4 = 3.06
EXAMPLE = {"so2": 9, "no2": 15, "pm10": 39, "pm25": 21, "co": 0.7, "o3_8h": 192}
# 4.5/60 + 7.5/40 + 19.5/70 + 10.5/35 + 0.35/4 + 96/160 = 1.5286 -> 1.53
HALF = {k: v / 2 for k, v in EXAMPLE.items()}


def registry() -> Registry:
    """Districts d1 (air stations A, B), d2 (C), d3 (D); sections W1 (river), W2 (lake)."""
    districts = {d: District(d, f"{d}区", d.upper(), 22.5, 114.0) for d in ("d1", "d2", "d3")}
    stations = {
        s: Station(s, StationKind.AIR, f"{s}站", s, d, 22.5, 114.0)
        for s, d in (("A", "d1"), ("B", "d1"), ("C", "d2"), ("D", "d3"))
    }
    for s, lake in (("W1", False), ("W2", True)):
        stations[s] = Station(
            s, StationKind.WATER, f"{s}断面", s, "d1", 22.5, 114.0, "r", 0, "III", lake
        )
    return Registry(City("test", "测试市", "Test City"), districts, stations, {}, "test")


class Run:
    """Boards over in-memory months, like the agent over its tables."""

    def __init__(self) -> None:
        self.boards = Boards(registry(), SHANGHAI, keep=4)
        self.state = RankingsState()
        self.air: dict[str, AirMonth] = {}
        self.water: dict[str, SectionMonth] = {}

    def take(self, *items: RankInput) -> list[RankingMessage]:
        air = MonthStore(lambda k: self.air.get(k, AirMonth()))
        water = MonthStore(lambda k: self.water.get(k, SectionMonth()))
        out = [m for item in items for m in self.boards.take(self.state, item, air, water)]
        out += self.boards.flush(self.state)  # the agent's end of batch
        for store, months in ((air, self.air), (water, self.water)):
            months.update((k, store.loaded[k]) for k in store.changed)
            for key in store.dropped:
                months.pop(key, None)
        return out


def day(district: str, date: str, values: dict[str, float], stations: int = 1) -> AirDay:
    return AirDay(district, at(f"{date}T00:00"), stations, values)


def days(date: str, **by_district: dict[str, float]) -> list[AirDay]:
    return [day(d, date, v) for d, v in by_district.items()]


def table(message: RankingMessage) -> list[tuple[str, int, float, int | None]]:
    return [(e.subject, e.rank, e.score, e.rank_change) for e in message.entries]


def board(messages: list[RankingMessage], name: str) -> RankingMessage:
    (found,) = [m for m in messages if m.board == name]
    return found


# --- composite index MTD / YTD --------------------------------------------------------------


def test_a_day_is_ranked_when_every_district_sent_it() -> None:
    run = Run()
    assert run.take(day("d1", "2026-11-01", EXAMPLE, stations=2)) == []
    assert run.take(day("d2", "2026-11-01", HALF)) == []
    out = run.take(day("d3", "2026-11-01", EXAMPLE))
    assert [m.board for m in out] == [COMPOSITE_MTD, COMPOSITE_YTD]
    mtd, ytd = out
    assert (mtd.period, ytd.period) == ("2026-11", "2026")
    assert mtd.ts_ms == ytd.ts_ms == at("2026-11-01T00:00")
    # ties share the rank and the next is skipped (指数相同的城市以并列计)
    assert table(mtd) == [("d2", 1, 1.53, None), ("d1", 2, 3.06, None), ("d3", 2, 3.06, None)]
    assert table(ytd) == table(mtd)
    assert [e.valid_stations for e in mtd.entries] == [1, 2, 1]
    assert mtd.entries[0].name_zh == "d2区"


def test_rank_change_since_the_previous_snapshot() -> None:
    run = Run()
    run.take(*days("2026-11-01", d1=EXAMPLE, d2=HALF, d3=EXAMPLE))
    quarter = {k: v / 4 for k, v in EXAMPLE.items()}
    out = run.take(*days("2026-11-02", d1=quarter, d2=EXAMPLE, d3=EXAMPLE))
    mtd = board(out, COMPOSITE_MTD)
    # MTD of days 1-2. d1: means of (x, x/4) = 0.625x for the four means; CO p95 of
    # (0.7, 0.175) = 0.175 + 0.95 * 0.525; O3 p90 of (192, 48) = 48 + 0.9 * 144:
    # 0.625 * (0.6 + 0.5571 + 0.15 + 0.375) + 0.67625 / 4 + 177.6 / 160
    # = 1.0513 + 0.1691 + 1.11 = 2.3304 -> 2.33
    # d2: means 0.75x -> 0.75 * 1.6821 = 1.2616; CO 0.35 + 0.95 * 0.35 = 0.6825 -> 0.1706;
    # O3 96 + 0.9 * 96 = 182.4 -> 1.14: 2.5722 -> 2.57.  d3: 3.06 again.
    assert table(mtd) == [("d1", 1, 2.33, 1), ("d2", 2, 2.57, -1), ("d3", 3, 3.06, -1)]
    assert mtd.ts_ms == at("2026-11-02T00:00")


def test_month_to_date_starts_again_on_the_first_in_asia_shanghai() -> None:
    run = Run()
    run.take(*days("2026-11-30", d1=EXAMPLE, d2=HALF, d3=HALF))
    out = run.take(*days("2026-12-01", d1=HALF, d2=EXAMPLE, d3=HALF))
    mtd, ytd = board(out, COMPOSITE_MTD), board(out, COMPOSITE_YTD)
    assert (mtd.period, ytd.period) == ("2026-12", "2026")
    assert mtd.ts_ms == at("2026-12-01T00:00")  # 2026-11-30T16:00Z
    # MTD: December's day alone; the change is against November's last snapshot
    assert table(mtd) == [("d1", 1, 1.53, 2), ("d3", 1, 1.53, 0), ("d2", 3, 3.06, -2)]
    # YTD: both days, d1 and d2 symmetrical (CO p95 and O3 p90 of (x, x/2) alike)
    assert [(e.subject, e.rank) for e in ytd.entries] == [("d3", 1), ("d1", 2), ("d2", 2)]
    assert ytd.entries[1].score == ytd.entries[2].score


def test_year_to_date_starts_again_on_january_the_first() -> None:
    run = Run()
    run.take(*days("2026-12-31", d1=EXAMPLE, d2=HALF, d3=HALF))
    out = run.take(*days("2027-01-01", d1=HALF, d2=EXAMPLE, d3=HALF))
    ytd = board(out, COMPOSITE_YTD)
    assert (ytd.period, board(out, COMPOSITE_MTD).period) == ("2027", "2027-01")
    assert table(ytd) == [("d1", 1, 1.53, 2), ("d3", 1, 1.53, 0), ("d2", 3, 3.06, -2)]


def test_a_later_day_closes_a_day_a_district_never_sent() -> None:
    run = Run()
    assert run.take(day("d1", "2026-11-01", EXAMPLE), day("d2", "2026-11-01", HALF)) == []
    out = run.take(day("d1", "2026-11-02", EXAMPLE))  # d3 had no valid day 1
    mtd = board(out, COMPOSITE_MTD)
    assert mtd.ts_ms == at("2026-11-01T00:00")
    assert table(mtd) == [("d2", 1, 1.53, None), ("d1", 2, 3.06, None)]


def test_a_day_sent_again_resends_its_snapshots_with_the_same_rank_change() -> None:
    run = Run()
    run.take(*days("2026-11-01", d1=EXAMPLE, d2=HALF, d3=EXAMPLE))
    first = run.take(*days("2026-11-02", d1=HALF, d2=EXAMPLE, d3=EXAMPLE))
    assert run.take(day("d2", "2026-11-02", EXAMPLE)) == []  # the same values: nothing new
    again = run.take(day("d2", "2026-11-02", HALF))  # a late station changed d2's day 2
    assert [(m.board, m.ts_ms) for m in again] == [(m.board, m.ts_ms) for m in first]
    mtd = board(again, COMPOSITE_MTD)
    # d1 (x, x/2) = 2.57 as in test_month_to_date_starts_again_on_the_first_in_asia_shanghai
    assert table(mtd) == [("d2", 1, 1.53, 0), ("d1", 2, 2.57, 0), ("d3", 3, 3.06, -1)]


def test_a_late_day_resends_the_later_snapshots_of_its_period() -> None:
    run = Run()
    run.take(*days("2026-11-01", d1=EXAMPLE, d2=HALF))  # d3 missing day 1
    run.take(*days("2026-11-02", d1=EXAMPLE, d2=HALF, d3=HALF))  # closes 1 (by a later day), 2
    late = run.take(day("d3", "2026-11-01", EXAMPLE))
    assert [(m.board, m.ts_ms) for m in late] == [
        (COMPOSITE_MTD, at("2026-11-01T00:00")),
        (COMPOSITE_YTD, at("2026-11-01T00:00")),
        (COMPOSITE_MTD, at("2026-11-02T00:00")),
        (COMPOSITE_YTD, at("2026-11-02T00:00")),
    ]
    assert table(late[0]) == [("d2", 1, 1.53, None), ("d1", 2, 3.06, None), ("d3", 2, 3.06, None)]
    # day 2 against the corrected day 1: d3 (x, x/2) = 2.57
    assert table(late[2]) == [("d2", 1, 1.53, 0), ("d3", 2, 2.57, 0), ("d1", 3, 3.06, -1)]


def test_a_district_without_every_pollutant_is_left_out() -> None:
    run = Run()
    no_o3 = {k: v for k, v in EXAMPLE.items() if k != "o3_8h"}
    out = run.take(*days("2026-11-01", d1=EXAMPLE, d2=no_o3, d3=HALF))
    assert [e.subject for e in board(out, COMPOSITE_MTD).entries] == ["d3", "d1"]


def test_air_days_are_kept_for_this_year_and_the_last() -> None:
    run = Run()
    for date in ("2025-06-01", "2026-06-01", "2027-01-01"):
        run.take(*days(date, d1=EXAMPLE, d2=HALF, d3=HALF))
    assert sorted(run.air) == ["2026-06", "2027-01"]
    assert run.state.air_months == ["2026-06", "2027-01"]


# --- stations by hourly AQI -----------------------------------------------------------------

T10 = at("2026-11-27T10:00")


def hour(station: str, aqi: int | None, start: int = T10) -> StationHour:
    return StationHour(station, start, aqi)


def test_an_hour_is_ranked_when_every_station_sent_it() -> None:
    run = Run()
    assert run.take(hour("A", 80), hour("B", 40), hour("C", 40)) == []
    (snapshot,) = run.take(hour("D", 119))
    assert (snapshot.board, snapshot.period) == (STATION_AQI_HOUR, "2026-11-27T10:00+08:00")
    assert table(snapshot) == [
        ("B", 1, 40.0, None),
        ("C", 1, 40.0, None),
        ("A", 3, 80.0, None),
        ("D", 4, 119.0, None),
    ]
    assert all(e.valid_stations == 1 for e in snapshot.entries)
    aqis = {"A": 30, "B": 50, "C": 60, "D": 20}
    (later,) = run.take(*(hour(s, a, T10 + HOUR_MS) for s, a in aqis.items()))
    assert [(e.subject, e.rank_change) for e in later.entries] == [
        ("D", 3),
        ("A", 1),
        ("B", -2),
        ("C", -3),
    ]


def test_an_hour_closes_without_a_station_more_than_two_hours_behind() -> None:
    run = Run()
    run.take(hour("A", 80), hour("B", 40), hour("C", 30))
    assert run.take(hour("A", 80, T10 + 2 * HOUR_MS)) == []
    (snapshot,) = run.take(hour("A", 80, T10 + 3 * HOUR_MS))
    assert snapshot.ts_ms == T10 and [e.subject for e in snapshot.entries] == ["C", "B", "A"]


def test_an_hour_waits_for_every_partition_however_far_ahead_another_is() -> None:
    """A backfill over two workers: A, B (partition 0) run 5 hours ahead of C, D (partition 1);
    with partition clocks the hours close as partition 1 passes them, each once and complete."""
    run = Run()
    run.boards = Boards(registry(), SHANGHAI, lag_hours=24, keep=4)
    assert run.take(PartitionClocks({0: T10, 1: T10})) == []
    for h in range(5):
        start = T10 + h * HOUR_MS
        assert run.take(hour("A", 50, start), hour("B", 60, start)) == []
        assert run.take(PartitionClocks({0: start + HOUR_MS})) == []
    snapshots = []
    for h in range(5):
        start = T10 + h * HOUR_MS
        snapshots += run.take(hour("C", 40, start), PartitionClocks({1: start + HOUR_MS}))
    assert [s.ts_ms for s in snapshots] == [T10 + h * HOUR_MS for h in range(5)]
    assert all([e.subject for e in s.entries] == ["C", "A", "B"] for s in snapshots)


def test_a_station_hour_without_aqi_counts_as_sent_but_is_not_ranked() -> None:
    run = Run()
    (snapshot,) = run.take(hour("A", 80), hour("B", None), hour("C", 30), hour("D", 50))
    assert [e.subject for e in snapshot.entries] == ["C", "D", "A"]
    assert run.take(*(hour(s, None, T10 + HOUR_MS) for s in "ABCD")) == []  # closed, empty


def test_a_late_station_hour_resends_the_hour() -> None:
    run = Run()
    run.take(hour("A", 80), hour("B", 40), hour("C", 30), hour("A", 80, T10 + 3 * HOUR_MS))
    (snapshot,) = run.take(hour("D", 10))
    assert snapshot.ts_ms == T10 and table(snapshot)[0] == ("D", 1, 10.0, None)
    assert run.take(hour("D", 10)) == []  # sent again, same value
    assert run.take(hour("D", 10, T10 - 7 * HOUR_MS)) == []  # before the kept hours: dropped


def test_a_burst_of_late_values_redoes_each_board_once() -> None:
    run = Run()
    run.take(
        hour("A", 80), hour("B", 40), hour("A", 80, T10 + HOUR_MS), hour("B", 40, T10 + HOUR_MS)
    )
    run.take(hour("A", 80, T10 + 4 * HOUR_MS))  # the lag rule closes 10:00 and 11:00
    redone = run.take(hour("C", 30), hour("D", 20), hour("C", 30, T10 + HOUR_MS))
    assert [(s.ts_ms, len(s.entries)) for s in redone] == [(T10, 4), (T10 + HOUR_MS, 3)]


# --- sections by CWQI -----------------------------------------------------------------------


def reading(section: str, local: str, **values: float) -> SectionReading:
    return SectionReading(section, at(local), values)


def test_sections_are_ranked_by_the_cwqi_of_month_means_each_day() -> None:
    run = Run()
    assert (
        run.take(
            reading("W1", "2026-11-01T00:00", do=5.0, nh3n=0.5, tp=0.1),
            reading("W1", "2026-11-01T04:00", do=10.0, nh3n=1.5, tp=0.3),
            reading("W1", "2026-11-01T04:00", do=1.0),  # not later than W1's last: skipped
            reading("W2", "2026-11-01T04:00", tp=0.05, ph=8.0),
        )
        == []
    )
    (snapshot,) = run.take(reading("W2", "2026-11-02T00:00", tp=0.5))
    assert (snapshot.board, snapshot.period) == (SECTION_CWQI_MTD, "2026-11")
    assert snapshot.ts_ms == at("2026-11-01T00:00")
    # W1 (river): 5 / 7.5 + 1.0 / 1 + 0.2 / 0.2 = 2.6667; W2 (lake TP 0.05): 1 + (8 - 7) / 2 = 1.5
    assert table(snapshot) == [("W2", 1, 1.5, None), ("W1", 2, 2.6667, None)]


def test_section_month_to_date_starts_again_on_the_first() -> None:
    run = Run()
    run.take(reading("W1", "2026-11-30T20:00", tp=0.4), reading("W2", "2026-11-30T20:00", tp=0.1))
    (november,) = run.take(reading("W1", "2026-12-01T00:00", tp=0.1))  # 2026-11-30T16:00Z
    assert november.period == "2026-11"
    # W1: 0.4 / 0.2 (river); W2: 0.1 / 0.05 (lake): a tie
    assert table(november) == [("W1", 1, 2.0, None), ("W2", 1, 2.0, None)]
    run.take(reading("W2", "2026-12-01T04:00", tp=0.01))
    (december,) = run.take(reading("W1", "2026-12-02T00:00", tp=0.1))
    assert (december.period, december.ts_ms) == ("2026-12", at("2026-12-01T00:00"))
    assert table(december) == [("W2", 1, 0.2, 0), ("W1", 2, 0.5, -1)]
    assert sorted(run.water) == ["2026-11", "2026-12"]
    run.take(reading("W1", "2027-01-01T00:00", tp=0.1))
    assert sorted(run.water) == ["2026-12", "2027-01"]


def test_unknown_subjects_are_ignored() -> None:
    run = Run()
    assert run.take(day("dx", "2026-11-01", EXAMPLE), hour("S9", 10)) == []
    assert run.take(reading("W9", "2026-11-01T00:00", tp=0.1)) == []
    assert run.state == RankingsState()


def test_keep_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Boards(registry(), SHANGHAI, keep=0)
