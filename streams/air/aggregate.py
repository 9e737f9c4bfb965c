"""District and city AQI from station hours and days, the way the standard does it.

HJ 633 §4.2 / HJ 663: the concentration of an area is the arithmetic mean of its stations'
concentrations, per pollutant over the stations with a valid value; the area's IAQI and AQI then
follow from those means — never a mean of station AQIs. ``valid_stations`` counts the stations
behind a message (those with at least one valid concentration).

An hour (day) of the city closes, giving one ``AqiMessage`` per district with data and one for
the city, when

- every air station of the registry has reported it (earlier periods close with it: each
  station's periods arrive in time order), or
- every partition of the readings topic has passed it: ``advance`` takes, per partition, the
  time before which all its stations' periods have been sent (the air agent closes the hours of
  silent stations by its partition's event time), so a worker that lags behind another — two
  workers in a backfill burst — holds the period open until its stations' periods are in; with
  ``partitions`` given, every one of them must have sent a clock (an empty one sends 0), so a
  worker starting later than another is waited for, or
- a station hour more than ``lag_hours`` later has been seen (event-time watermark; a day counts
  as its last hour): the bound on memory when a partition stalls or never reports, or
- the agent calls ``close(state, hour_start_ms)`` (its timer).

A closed period is kept for ``retain_hours``: a station period arriving for it (a station whose
partition lagged, a backfill burst) updates it and its messages are produced again with the same
subject and period, so the stored result ends up as if it had been on time (InfluxDB points and
alert checks are idempotent by subject and time). Older ones are rejected as ``late``. A station
period sent again replaces the first. Means are ``math.fsum`` over stations in id order, so the
final results do not depend on how stations interleave.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from math import fsum
from zoneinfo import ZoneInfo

from pipeline.messages.reasons import Reject, RejectReason
from pipeline.messages.results import AqiMessage, Named, Scope
from pipeline.registry import Registry, StationKind
from pipeline.timeutil import HOUR_MS, label, next_day_start
from streams.air.hours import Closed, Report, aqi_message, concentrations, named, period_of
from streams.air.liveness import all_passed
from streams.air.state import Periods, ScopeState

_REPORTS: tuple[Report, ...] = ("hour", "day")
_KEYS = ("so2", "no2", "co", "o3", "o3_8h", "pm10", "pm25", "pm10_24h", "pm25_24h", "so2_24h")


class ScopeAggregator:
    """District and city aggregates of the registry's city; one ``ScopeState`` per city."""

    def __init__(
        self,
        registry: Registry,
        standard: str,
        tz: ZoneInfo,
        lag_hours: int = 2,
        retain_hours: int = 6,
        partitions: int | None = None,
    ) -> None:
        if lag_hours < 0 or retain_hours < 0:
            raise ValueError("lag_hours and retain_hours must be >= 0")
        self.partitions = partitions
        self.standard, self.tz, self.lag_ms = standard, tz, lag_hours * HOUR_MS
        self.retain_ms = retain_hours * HOUR_MS
        self._city = Named(registry.city.key, registry.city.name_zh, registry.city.name_en)
        stations = sorted(s.id for s in registry.of_kind(StationKind.AIR))
        self._stations, self._expected = stations, frozenset(stations)
        self._districts = [
            (named(d), [s for s in stations if registry.stations[s].district == d.id])
            for d in registry.districts.values()
        ]

    def add(self, state: ScopeState, closed: Closed) -> list[AqiMessage] | Reject:
        """Take one station hour or day; the aggregates it closes, or why not."""
        if closed.station not in self._expected:
            return Reject(RejectReason.UNKNOWN_STATION, "station", f"{closed.station!r}")
        report, start = period_of(closed)
        periods = _periods(state, report)
        if start < periods.closed_until_ms:
            kept = periods.closed.get(start)
            if kept is None:
                text = label(start, self.tz, minutes=report == "hour")
                return Reject(
                    RejectReason.LATE, f"{report}_start_ms", f"the {report} {text} closed"
                )
            kept[closed.station] = concentrations(closed)
            return list(self._messages(report, start, kept))
        waiting = periods.waiting.setdefault(start, {})
        waiting[closed.station] = concentrations(closed)
        last_hour = self._last_hour(report, start)
        state.max_hour_ms = max(state.max_hour_ms, last_hour)
        complete = waiting.keys() == self._expected
        messages: list[AqiMessage] = []
        for kind in _REPORTS:
            messages += self._close_due(
                state, kind, last_hour if complete and kind == report else -1
            )
        return messages

    def advance(self, state: ScopeState, clocks: Mapping[int, int]) -> list[AqiMessage]:
        """Take readings partitions' clocks (partition -> every station period starting before
        it was sent); the aggregates that every partition seen so far has passed."""
        for partition, until in clocks.items():
            if until > state.clocks.get(partition, -1):
                state.clocks[partition] = until
        return [m for kind in _REPORTS for m in self._close_due(state, kind, -1)]

    def close(self, state: ScopeState, hour_start_ms: int) -> list[AqiMessage]:
        """Close the hours up to ``hour_start_ms`` and the days whose last hour that is or
        precedes."""
        return [m for kind in _REPORTS for m in self._close_due(state, kind, hour_start_ms)]

    def _close_due(self, state: ScopeState, report: Report, through: int) -> list[AqiMessage]:
        """Close the periods whose last hour is ``through`` or earlier, or lags the watermark."""
        until = all_passed(state.clocks, self.partitions)
        passed = -1 if until is None else until - HOUR_MS
        limit = max(through, passed, state.max_hour_ms - self.lag_ms - 1)
        periods = _periods(state, report)
        due = sorted(s for s in periods.waiting if self._last_hour(report, s) <= limit)
        messages: list[AqiMessage] = []
        for start in due:
            waiting = periods.closed[start] = periods.waiting.pop(start)
            periods.closed_until_ms = max(
                periods.closed_until_ms, self._last_hour(report, start) + HOUR_MS
            )
            messages.extend(self._messages(report, start, waiting))
        horizon = (state.max_hour_ms if until is None else until) - self.retain_ms
        for start in [s for s in periods.closed if self._last_hour(report, s) < horizon]:
            del periods.closed[start]
        return messages

    def _messages(
        self, report: Report, start: int, waiting: dict[str, dict[str, float]]
    ) -> Iterator[AqiMessage]:
        scopes: list[tuple[Scope, Named, Named | None, Iterable[str]]] = [
            ("district", district, district, members) for district, members in self._districts
        ]
        scopes.append(("city", self._city, None, self._stations))
        for scope, subject, district, members in scopes:
            rows = [waiting[s] for s in members if waiting.get(s)]
            conc = {
                key: fsum(values) / len(values)
                for key in _KEYS
                if (values := [row[key] for row in rows if key in row])
            }
            message = aqi_message(
                scope, subject, district, report, start, conc, self.standard, self.tz, len(rows)
            )
            if message is not None:
                yield message

    def _last_hour(self, report: Report, start: int) -> int:
        return start if report == "hour" else next_day_start(start, self.tz) - HOUR_MS


def _periods(state: ScopeState, report: Report) -> Periods:
    return state.hour if report == "hour" else state.day
