"""The aggregates' ``ScopeState`` in two tables: its index under the city key, and the station
values of each period in buckets of stations (``{city}|{report}|{start}|{bucket}``).

One value holding every period of a city grew with the stations times the periods kept, past
Kafka's 1 MB message limit at a thousand stations in a backfill. Split, every value stays small
(a bucket holds about :data:`STATIONS_PER_BUCKET` stations, ~150 bytes each), and a batch rewrites
only the buckets it changed (``StructTable.put`` leaves an unchanged value alone) and deletes
those of dropped periods. Call :meth:`ScopeStore.load` and :meth:`ScopeStore.save` inside
``runtime.in_event`` with an event of the city key's partition.
"""

from __future__ import annotations

from zlib import crc32

import faust

from streams.air.state import PeriodIndex, Periods, ScopeIndex, ScopeState
from streams.state import StructTable

StationValues = dict[str, dict[str, float]]
STATIONS_PER_BUCKET = 1000
_REPORTS = ("hour", "day")


class ScopeStore:
    def __init__(self, index: faust.Table, periods: faust.Table, stations: int) -> None:
        self.index = StructTable(index, ScopeIndex, lambda _: ScopeIndex())
        self.periods = StructTable(periods, StationValues, lambda _: {})
        self.buckets = max(1, -(-stations // STATIONS_PER_BUCKET))

    def load(self, city: str) -> ScopeState:
        index = self.index.get(city)
        state = ScopeState(max_hour_ms=index.max_hour_ms, clocks=index.clocks)
        for report in _REPORTS:
            part: PeriodIndex = getattr(index, report)
            waiting = {s: self._values(city, report, s, index.buckets) for s in part.waiting}
            closed = {s: self._values(city, report, s, index.buckets) for s in part.closed}
            setattr(state, report, Periods(waiting, part.closed_until_ms, closed))
        return state

    def _values(self, city: str, report: str, start: int, buckets: int) -> StationValues:
        merged: StationValues = {}
        for key in _keys(city, report, start, buckets):
            merged.update(self.periods.get(key))
        return merged

    def save(self, city: str, state: ScopeState) -> None:
        before = self.index.get(city)
        index = ScopeIndex(max_hour_ms=state.max_hour_ms, clocks=state.clocks, buckets=self.buckets)
        for report in _REPORTS:
            periods: Periods = getattr(state, report)
            for start, values in (*periods.waiting.items(), *periods.closed.items()):
                buckets: list[StationValues] = [{} for _ in range(self.buckets)]
                for station, conc in values.items():
                    buckets[crc32(station.encode()) % self.buckets][station] = conc
                keys = _keys(city, report, start, self.buckets)
                for key, bucket in zip(keys, buckets, strict=True):
                    self.periods.put(key, bucket)
            old: PeriodIndex = getattr(before, report)
            for start in {*old.waiting, *old.closed} - {*periods.waiting, *periods.closed}:
                for key in _keys(city, report, start, before.buckets):
                    self.periods.table.pop(key.encode(), None)
            waiting, closed = sorted(periods.waiting), sorted(periods.closed)
            setattr(index, report, PeriodIndex(waiting, closed, periods.closed_until_ms))
        self.index.put(city, index)


def _keys(city: str, report: str, start: int, buckets: int) -> list[str]:
    return [f"{city}|{report}|{start}|{b}" for b in range(buckets)]
