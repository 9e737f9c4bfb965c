"""Ranking boards from the accumulated periods (pure): ``district_composite_mtd``,
``district_composite_ytd``, ``section_cwqi_mtd`` and ``station_aqi_hour``.

:class:`Boards` takes the rankings inputs (``streams/rankings/periods.py``) one at a time, in the
order of the one partition they arrive on, and returns the snapshots they complete. Every entry
has its rank (ties share a rank, the next is skipped: ``rank.rank``), its score, the change of rank
since the board's previous snapshot and the valid stations behind it.

When a board is snapshotted (deterministic in the input order):

- **Composite index, month-to-date and year-to-date** (each natural day D): when every district
  with air stations has sent its day D, or a value of a later day arrives (a district without a
  valid day D does not hold the boards back longer than that). The snapshot of D has the
  statistics of the days up to D of D's month (MTD, ``period`` ``"2026-11"``) and year (YTD,
  ``"2026"``); ``ts_ms`` is D's start. A district day arriving for a day already snapshotted (the
  aggregator re-sends a day when a late station day comes in) replaces the stored day and the
  snapshots of that day and of the later days kept in the rank history are sent again (same
  ``board``, ``ts_ms``: they replace the first ones downstream). Score: the composite index
  rounded half up to 2 decimals, the precision it is published with, so ties are equal published
  indices. ``valid_stations``: the district's stations behind its latest day in the period (not the
  number of days). A district without a value of some pollutant on every day of the period is left
  out. No HJ 663 minimum of valid days applies to a period to date.
- **Section CWQI, month-to-date** (each natural day D with readings): when the first reading of a
  later day arrives; the section CWQI of the month's mean of each parameter (readings of D's
  month taken so far), lake/reservoir points with the lake TP limit; rounded to 4 decimals (as
  the water-quality message). A reading not later than the section's previous one is skipped, so
  a replayed or duplicated reading is not counted twice. ``valid_stations`` is 1 (a section is one
  station).
- **Stations by hourly AQI**: from the station hours of ``{ns}.air.periods``, in the order the
  district aggregator reads them, an hour closes the way the aggregator closes it (every air
  station of the registry sent it, or a station hour more than ``lag_hours`` later arrived), so
  the station board of an hour comes with the district board of that hour. Closed hours are kept
  ``retain_hours``; a late station value re-sends that hour's snapshot and the later kept ones. A
  station hour without an AQI counts as sent but is not ranked. ``valid_stations`` is 1.

Rank changes: each board keeps the ranks of its last ``keep`` snapshots by ``ts_ms``; a snapshot's
change is against the snapshot with the latest earlier ``ts_ms`` (the previous day or hour; across
a month boundary the previous month's last snapshot), so a snapshot sent again keeps its change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from zoneinfo import ZoneInfo

import msgspec

from pipeline.messages import RankingMessage
from pipeline.messages.results import Board
from pipeline.registry import Registry, StationKind
from pipeline.standards.composite import DEFAULT_TABLE, composite_index
from pipeline.standards.cwqi import cwqi
from pipeline.timeutil import HOUR_MS, day_start, label
from streams.air.liveness import all_passed
from streams.rankings.periods import (
    AirDay,
    AirMonth,
    MonthStore,
    PartitionClocks,
    RankInput,
    SectionMonth,
    SectionReading,
    StationHour,
    add_day,
    add_reading,
    composite_stats,
    district_days,
    month_key,
    section_means,
    year_to,
)
from streams.rankings.rank import Scored, rank

COMPOSITE_MTD: Board = "district_composite_mtd"
COMPOSITE_YTD: Board = "district_composite_ytd"
SECTION_CWQI_MTD: Board = "section_cwqi_mtd"
STATION_AQI_HOUR: Board = "station_aqi_hour"

History = dict[int, dict[str, int]]
"""Ranks of a board's recent snapshots: ts_ms -> subject -> rank."""


class RankingsState(msgspec.Struct, gc=False):
    """What the boards carry between inputs besides the months (one value per city).

    ``air_open``: days not yet snapshotted -> districts that sent them; ``air_closed``: the recent
    snapshotted days, ascending. ``station_open`` / ``station_closed``: hour -> station -> AQI;
    every hour before ``station_closed_until_ms`` is closed. ``water_day_ms``: the latest day of a
    section reading; ``water_last``: per section the time of its latest reading taken.
    ``air_months`` / ``water_months``: the month keys stored (to drop old ones)."""

    air_open: dict[int, list[str]] = {}
    air_closed: list[int] = []
    station_open: dict[int, dict[str, int | None]] = {}
    station_closed: dict[int, dict[str, int | None]] = {}
    station_closed_until_ms: int = 0
    station_max_hour_ms: int = 0
    station_clocks: dict[int, int] = {}
    station_redo_ms: int = 0  # the earliest kept hour a late value changed (0: none): see flush
    water_day_ms: int = 0
    water_last: dict[str, int] = {}
    ranks: dict[str, History] = {}
    air_months: list[str] = []
    water_months: list[str] = []


def snapshot(
    board: Board,
    period: str,
    ts_ms: int,
    scored: Sequence[Scored],
    history: History,
    keep: int,
) -> RankingMessage:
    """The board's snapshot at ``ts_ms``: rank changes against the latest earlier snapshot in
    ``history``, which then keeps this one's ranks (and its last ``keep`` snapshots)."""
    earlier = [ts for ts in history if ts < ts_ms]
    base: Mapping[str, int] = history[max(earlier)] if earlier else {}
    entries = rank(scored, base)
    history[ts_ms] = {e.subject: e.rank for e in entries}
    for ts in sorted(history)[:-keep]:
        del history[ts]
    return RankingMessage(board=board, period=period, ts_ms=ts_ms, entries=entries)


class Boards:
    """The boards of one registry's city."""

    def __init__(
        self,
        registry: Registry,
        tz: ZoneInfo,
        lag_hours: int = 2,
        retain_hours: int = 6,
        keep: int = 8,
        composite_table: str = DEFAULT_TABLE,
        partitions: int | None = None,
    ) -> None:
        """``partitions``: readings partitions whose clocks close the station board's hours
        (each must have sent one; None: those that did)."""
        if lag_hours < 0 or retain_hours < 0 or keep < 1:
            raise ValueError("lag_hours and retain_hours must be >= 0 and keep >= 1")
        self.partitions = partitions
        self.tz, self.keep, self.composite_table = tz, keep, composite_table
        self.lag_ms, self.retain_ms = lag_hours * HOUR_MS, retain_hours * HOUR_MS
        self._districts = {d.id: (d.name_zh, d.name_en) for d in registry.districts.values()}
        air = registry.of_kind(StationKind.AIR)
        self._stations = {s.id: (s.name_zh, s.name_en) for s in air}
        self._expected_stations = frozenset(self._stations)
        self._expected_districts = frozenset(s.district for s in air)
        self._sections = {s.id: s for s in registry.of_kind(StationKind.WATER)}

    def take(
        self,
        state: RankingsState,
        item: RankInput,
        air: MonthStore[AirMonth],
        water: MonthStore[SectionMonth],
    ) -> list[RankingMessage]:
        """Take one input; the snapshots it completes, in order."""
        if isinstance(item, AirDay):
            return self._air_day(state, item, air)
        if isinstance(item, StationHour):
            return self._station_hour(state, item)
        if isinstance(item, PartitionClocks):
            return self._station_clocks(state, item)
        return self._section_reading(state, item, water)

    # --- composite index ------------------------------------------------------------------

    def _air_day(
        self, state: RankingsState, day: AirDay, air: MonthStore[AirMonth]
    ) -> list[RankingMessage]:
        if day.district not in self._districts:
            return []
        month = month_key(day.day_ms, self.tz)
        changed = add_day(air.get(month), day)
        if changed:
            air.mark(month)
            _remember(state.air_months, month, air, _first_of_previous_year)
        last_closed = state.air_closed[-1] if state.air_closed else None
        if last_closed is not None and day.day_ms <= last_closed:  # a day sent again, or late
            if not changed:
                return []
            year = month[:4]
            redo = [d for d in state.air_closed if d >= day.day_ms]
            return [
                m
                for d in redo
                if month_key(d, self.tz)[:4] == year
                for m in self._composite(state, d, air, mtd=month_key(d, self.tz) == month)
            ]
        districts = state.air_open.setdefault(day.day_ms, [])
        if day.district not in districts:
            districts.append(day.district)
            districts.sort()
        complete = self._expected_districts <= set(districts)
        latest = max(state.air_open)
        due = sorted(d for d in state.air_open if d < latest or (complete and d <= day.day_ms))
        messages: list[RankingMessage] = []
        for d in due:
            del state.air_open[d]
            state.air_closed.append(d)
            messages += self._composite(state, d, air)
        del state.air_closed[: -self.keep]
        return messages

    def _composite(
        self, state: RankingsState, through_ms: int, air: MonthStore[AirMonth], mtd: bool = True
    ) -> list[RankingMessage]:
        """The YTD (and MTD) snapshots of the day starting ``through_ms``."""
        month = month_key(through_ms, self.tz)
        boards = [(COMPOSITE_YTD, month[:4], year_to(month))]
        if mtd:
            boards.insert(0, (COMPOSITE_MTD, month, [month]))
        messages: list[RankingMessage] = []
        for board, period, months in boards:
            days = district_days([air.get(m) for m in months], through_ms)
            scored: list[Scored] = []
            for district, values in sorted(days.items()):
                stats = composite_stats(values)
                if stats is None or district not in self._districts:
                    continue
                score = composite_index(stats, self.composite_table).composite_rounded
                zh, en = self._districts[district]
                scored.append(Scored(district, zh, en, score, values[-1].stations))
            if scored:
                messages.append(self._snapshot(state, board, period, through_ms, scored))
        return messages

    # --- stations by hourly AQI -----------------------------------------------------------

    def _station_hour(self, state: RankingsState, value: StationHour) -> list[RankingMessage]:
        if value.station not in self._stations:
            return []
        hour = value.hour_ms
        kept = state.station_closed.get(hour)
        if kept is not None:  # a closed hour kept for late values: redone once, by flush
            if value.station in kept and kept[value.station] == value.aqi:
                return []
            kept[value.station] = value.aqi
            redo = state.station_redo_ms
            state.station_redo_ms = min(redo, hour) if redo else hour
            return []
        if hour < state.station_closed_until_ms:
            return []  # too late: the hour is no longer kept
        waiting = state.station_open.setdefault(hour, {})
        waiting[value.station] = value.aqi
        state.station_max_hour_ms = max(state.station_max_hour_ms, hour)
        return self._close_station_hours(
            state, hour if waiting.keys() >= self._expected_stations else -1
        )

    def flush(self, state: RankingsState) -> list[RankingMessage]:
        """The station boards a late value changed since the last flush, from its hour on (rank
        changes follow from one hour to the next): call it once per batch of inputs, so that a
        burst of late values redoes each board once, not once per value."""
        redo, state.station_redo_ms = state.station_redo_ms, 0
        later = [h for h in sorted(state.station_closed) if redo and h >= redo]
        return [m for h in later for m in self._station_board(h, state)]

    def _station_clocks(self, state: RankingsState, value: PartitionClocks) -> list[RankingMessage]:
        for partition, until in value.clocks.items():
            if until > state.station_clocks.get(partition, -1):
                state.station_clocks[partition] = until
        return self._close_station_hours(state, -1)

    def _close_station_hours(self, state: RankingsState, through: int) -> list[RankingMessage]:
        """Snapshot the open hours up to ``through``, those every readings partition has passed,
        and those ``lag_hours`` behind the latest station hour (the bound on waiting)."""
        until = all_passed(state.station_clocks, self.partitions)
        passed = -1 if until is None else until - HOUR_MS
        limit = max(through, passed, state.station_max_hour_ms - self.lag_ms - 1)
        messages: list[RankingMessage] = []
        for h in sorted(h for h in state.station_open if h <= limit):
            state.station_closed[h] = state.station_open.pop(h)
            state.station_closed_until_ms = max(state.station_closed_until_ms, h + HOUR_MS)
            messages += self._station_board(h, state)
        horizon = (state.station_max_hour_ms if until is None else until) - self.retain_ms
        for h in [h for h in state.station_closed if h < horizon]:
            del state.station_closed[h]
        return messages

    def _station_board(self, hour: int, state: RankingsState) -> list[RankingMessage]:
        scored = [
            Scored(station, *self._stations[station], float(aqi), 1)
            for station, aqi in state.station_closed[hour].items()
            if aqi is not None
        ]
        if not scored:
            return []
        return [self._snapshot(state, STATION_AQI_HOUR, label(hour, self.tz), hour, scored)]

    # --- sections by CWQI -----------------------------------------------------------------

    def _section_reading(
        self, state: RankingsState, reading: SectionReading, water: MonthStore[SectionMonth]
    ) -> list[RankingMessage]:
        if reading.section not in self._sections:
            return []
        if reading.ts_ms <= state.water_last.get(reading.section, -1):
            return []  # replayed or duplicated
        state.water_last[reading.section] = reading.ts_ms
        day = day_start(reading.ts_ms, self.tz)
        messages: list[RankingMessage] = []
        if state.water_day_ms and day > state.water_day_ms:
            messages += self._section_board(state.water_day_ms, water, state)
        state.water_day_ms = max(state.water_day_ms, day)
        month = month_key(reading.ts_ms, self.tz)
        add_reading(water.get(month), reading)
        water.mark(month)
        _remember(state.water_months, month, water, _previous_month)
        return messages

    def _section_board(
        self, through_ms: int, water: MonthStore[SectionMonth], state: RankingsState
    ) -> list[RankingMessage]:
        month = month_key(through_ms, self.tz)
        scored: list[Scored] = []
        for section, means in sorted(section_means(water.get(month)).items()):
            station = self._sections.get(section)
            if station is None:
                continue
            score = round(cwqi(means, lake=station.lake).cwqi, 4)
            scored.append(Scored(section, station.name_zh, station.name_en, score, 1))
        if not scored:
            return []
        return [self._snapshot(state, SECTION_CWQI_MTD, month, through_ms, scored)]

    def _snapshot(
        self, state: RankingsState, board: Board, period: str, ts_ms: int, scored: Sequence[Scored]
    ) -> RankingMessage:
        history = state.ranks.setdefault(board, {})
        return snapshot(board, period, ts_ms, scored, history, self.keep)


def _remember(
    months: list[str], month: str, store: MonthStore, keep_from: Callable[[str], str]
) -> None:
    """Record ``month`` as stored; drop the stored months before ``keep_from(latest month)``."""
    if month not in months:
        months.append(month)
        months.sort()
    oldest = keep_from(months[-1])
    while months[0] < oldest:
        store.drop(months.pop(0))


def _first_of_previous_year(month: str) -> str:
    """Air days are kept for this year and the last (YTD, and a late day around New Year)."""
    return f"{int(month[:4]) - 1:04d}-01"


def _previous_month(month: str) -> str:
    """Section months are kept for this month and the last (a late reading around the 1st)."""
    year, number = int(month[:4]), int(month[5:])
    return f"{year - 1:04d}-12" if number == 1 else f"{year:04d}-{number - 1:02d}"
