"""The aggregates' ``ScopeState`` in two tables: its index under the city key, and the station
values of each period in buckets of stations (``{city}|{report}|{start}|{bucket}``).

One value holding every period of a city grew with the stations times the periods kept, past
Kafka's 1 MB message limit at a thousand stations in a backfill. Split, every value stays small
(a bucket holds about :data:`STATIONS_PER_BUCKET` stations, ~150 bytes each), and a batch rewrites
only the buckets it changed (``StructTable.put`` leaves an unchanged value alone) and deletes
those of dropped periods.

A city of at most :data:`INLINE_STATIONS` air stations keeps the whole state in its index value:
one changelog record per batch. (The restart test relies on that on Tansu, whose end offsets are
too low after a batch of several records to one partition: bench/tansu_table_restore.py.)

Call :meth:`ScopeStore.load` and :meth:`ScopeStore.save` inside ``runtime.in_event`` with an event
of the city key's partition.
"""

from __future__ import annotations

from zlib import crc32

import faust

from streams.air.state import PeriodIndex, Periods, ScopeIndex, ScopeState
from streams.state import StructTable

StationValues = dict[str, dict[str, float]]
STATIONS_PER_BUCKET = 1000
INLINE_STATIONS = 200  # at most ~250 kB for the hours kept: one value is fine
_REPORTS = ("hour", "day")


class ScopeStore:
    def __init__(self, index: faust.Table, periods: faust.Table, stations: int) -> None:
        self.index = StructTable(index, ScopeIndex, lambda _: ScopeIndex())
        self.periods = StructTable(periods, StationValues, lambda _: {})
        self.buckets = max(1, -(-stations // STATIONS_PER_BUCKET))
        self.inline = stations <= INLINE_STATIONS

    def load(self, city: str) -> ScopeState:
        index = self.index.get(city)
        if index.inline is not None:
            return index.inline
        state = ScopeState(max_hour_ms=index.max_hour_ms, clocks=index.clocks)
        for report in _REPORTS:
            part: PeriodIndex = getattr(index, report)
            waiting = {s: self._values(city, report, s, index.buckets) for s in part.waiting}
            closed = {s: self._values(city, report, s, index.buckets) for s in part.closed}
            setattr(state, report, Periods(waiting, part.closed_until_ms, closed))
        return state

    def save(self, city: str, state: ScopeState) -> None:
        before = self.index.get(city)
        stored: set[tuple[str, int]] = set()
        if self.inline:
            index = ScopeIndex(inline=state)
        else:
            index = ScopeIndex(max_hour_ms=state.max_hour_ms, clocks=state.clocks)
            index.buckets = self.buckets
            for report in _REPORTS:
                periods: Periods = getattr(state, report)
                for start, values in (*periods.waiting.items(), *periods.closed.items()):
                    self._put(city, report, start, values)
                    stored.add((report, start))
                waiting, closed = sorted(periods.waiting), sorted(periods.closed)
                setattr(index, report, PeriodIndex(waiting, closed, periods.closed_until_ms))
        for report in _REPORTS:
            old: PeriodIndex = getattr(before, report)
            for start in {*old.waiting, *old.closed}:
                if (report, start) not in stored:  # dropped, or now inline
                    for key in _keys(city, report, start, before.buckets):
                        self.periods.table.pop(key.encode(), None)
        self.index.put(city, index)

    def _values(self, city: str, report: str, start: int, buckets: int) -> StationValues:
        merged: StationValues = {}
        for key in _keys(city, report, start, buckets):
            merged.update(self.periods.get(key))
        return merged

    def _put(self, city: str, report: str, start: int, values: StationValues) -> None:
        buckets: list[StationValues] = [{} for _ in range(self.buckets)]
        for station, conc in values.items():
            buckets[crc32(station.encode()) % self.buckets][station] = conc
        keys = _keys(city, report, start, self.buckets)
        for key, bucket in zip(keys, buckets, strict=True):
            self.periods.put(key, bucket)


def _keys(city: str, report: str, start: int, buckets: int) -> list[str]:
    return [f"{city}|{report}|{start}|{b}" for b in range(buckets)]
