"""The aggregates' state split over two tables (streams/air/scopestore.py).

Plain dicts stand in for the Faust tables: ``StructTable`` uses only get, set and pop of them.
"""

from __future__ import annotations

from typing import Any

from streams.air.scopestore import ScopeStore
from streams.air.state import Periods, ScopeState

H = 3_600_000


class Table(dict[bytes, bytes]):
    """A dict that counts writes."""

    writes = 0

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self.writes += 1
        super().__setitem__(key, value)


def stations(n: int, value: float) -> dict[str, dict[str, float]]:
    return {f"S{i:05d}": {"pm25": value, "pm10": value * 1.5, "no2": 30.0} for i in range(n)}


def test_a_state_of_many_stations_is_saved_in_small_values_and_loaded_the_same() -> None:
    index, periods = Table(), Table()
    store: Any = ScopeStore(index, periods, stations=5000)  # type: ignore[arg-type]
    state = ScopeState(
        hour=Periods(
            waiting={h * H: stations(5000, h) for h in range(10, 14)},
            closed_until_ms=10 * H,
            closed={h * H: stations(5000, h) for h in range(4, 10)},
        ),
        day=Periods(waiting={0: stations(5000, 1.0)}),
        max_hour_ms=13 * H,
        clocks={0: 12 * H, 1: 11 * H},
    )
    store.save("city", state)
    assert store.load("city") == state
    assert len(periods) == 11 * 5 and max(len(v) for v in periods.values()) < 100_000
    assert sum(map(len, index.values())) < 1000  # the index holds no station values


def test_a_save_rewrites_only_the_periods_that_changed_and_drops_the_purged() -> None:
    index, periods = Table(), Table()
    store: Any = ScopeStore(index, periods, stations=300)  # type: ignore[arg-type]
    state = ScopeState(hour=Periods(waiting={10 * H: stations(3, 1.0), 11 * H: stations(3, 2.0)}))
    store.save("city", state)
    written = periods.writes
    state = store.load("city")
    state.hour.closed[10 * H] = state.hour.waiting.pop(10 * H)  # closed: same values, same key
    state.hour.waiting[11 * H]["S99999"] = {"pm25": 5.0}
    store.save("city", state)
    assert periods.writes == written + 1  # only the hour that got a station
    del state.hour.closed[10 * H]  # purged
    store.save("city", state)
    assert set(periods) == {b"city|hour|%d|0" % (11 * H)}
    assert store.load("city") == state


def test_a_small_city_keeps_its_whole_state_in_one_value() -> None:
    index, periods = Table(), Table()
    store: Any = ScopeStore(index, periods, stations=6)  # type: ignore[arg-type]
    state = ScopeState(hour=Periods(waiting={10 * H: stations(6, 1.0)}), clocks={0: 10 * H})
    store.save("city", state)
    assert (len(index), len(periods), index.writes) == (1, 0, 1)  # one record per batch
    assert store.load("city") == state
