"""Quality-control flags of air readings (streams/air/qc.py)."""

from __future__ import annotations

import msgspec
import pytest

from streams.air.qc import QcConfig, QcFlag, QualityControl
from streams.air.state import QcState
from tests.unit.streams import MINUTE_MS, at, reading

T0 = at("2026-11-27T10:00")
HOUR_MS = 60 * MINUTE_MS


def feed(qc: QualityControl, state: QcState, series: list[dict[str, float]], **kw):
    """Flags of each reading of a minute (or ``interval_s``) series, in order."""
    interval = kw.get("interval_s", 60)
    return [
        qc.check(state, reading(T0 + i * interval * 1000, interval_s=interval, **values))
        for i, values in enumerate(series)
    ]


def test_clean_values_have_no_flags() -> None:
    qc, state = QualityControl(), QcState()
    flags = feed(qc, state, [{"pm25": 20.0 + i % 3, "pm10": 40.0 + i % 5} for i in range(20)])
    assert flags == [{}] * 20


def test_range_above_the_analyser_range() -> None:
    qc = QualityControl()
    assert qc.check(QcState(), reading(T0, pm10=1000.0)) == {}
    assert qc.check(QcState(), reading(T0, pm10=1000.5, co=60.0)) == {
        "co": [QcFlag.RANGE],
        "pm10": [QcFlag.RANGE],
    }


@pytest.mark.parametrize("flag", ["F", "M", "S", "D", "C", "T", "B", "X"])
def test_every_device_flag_but_n_makes_the_value_unusable(flag: str) -> None:
    qc = QualityControl()
    checked = qc.check(QcState(), reading(T0, flags={"o3": flag}, o3=80.0, no2=30.0))
    assert checked == {"o3": [QcFlag.DEVICE]}


def test_normal_or_absent_device_flag_is_usable() -> None:
    qc = QualityControl()
    assert qc.check(QcState(), reading(T0, flags={"o3": "N"}, o3=80.0, no2=30.0)) == {}


def test_over_range_t_keeps_both_flags_and_manual_values_can_be_allowed() -> None:
    assert QualityControl().check(QcState(), reading(T0, flags={"pm25": "T"}, pm25=1200.0)) == {
        "pm25": [QcFlag.RANGE, QcFlag.DEVICE]
    }
    manual_ok = QualityControl(QcConfig(usable_device_flags=frozenset({"N", "S"})))
    assert manual_ok.check(QcState(), reading(T0, flags={"pm25": "S"}, pm25=20.0)) == {}


def test_device_flagged_values_stay_out_of_the_station_memory() -> None:
    qc, state = QualityControl(), QcState()
    qc.check(state, reading(T0, flags={"pm25": "C"}, pm25=900.0))
    assert state.tracks == {}


def test_spike_above_factor_times_recent_median_and_floor() -> None:
    qc, state = QualityControl(), QcState()
    flags = feed(qc, state, [{"pm25": v} for v in (20, 22, 18, 21, 19, 20, 81, 79)])
    assert flags[:6] == [{}] * 6
    assert flags[6] == {"pm25": [QcFlag.SPIKE]}  # 81 > 4 × median 20
    assert flags[7] == {}  # 79 < 4 × 20.x


def test_no_spike_below_the_floor_or_without_enough_history() -> None:
    qc = QualityControl()
    low = feed(qc, QcState(), [{"pm25": v} for v in (2, 3, 2, 3, 2, 34)])
    assert low[-1] == {}  # 34 > 4 × 2.5 but below the 35 μg/m³ floor
    young = feed(qc, QcState(), [{"pm25": v} for v in (10, 10, 11, 10, 200)])
    assert young[-1] == {}  # 4 recent values < spike_min_values = 5


def test_flatline_from_the_nth_identical_value_by_interval() -> None:
    qc = QualityControl()
    minutes = feed(qc, QcState(), [{"no2": 30.0}] * 31 + [{"no2": 31.0}])
    assert [bool(f) for f in minutes] == [False] * 29 + [True, True, False]
    assert minutes[29] == {"no2": [QcFlag.FLATLINE]}
    hours = feed(qc, QcState(), [{"no2": 30.0}] * 6, interval_s=3600)
    assert [bool(f) for f in hours] == [False] * 5 + [True]


def test_flatline_run_is_per_key_and_restarts() -> None:
    qc, state = QualityControl(QcConfig(flatline_subhourly=3)), QcState()
    series = [{"co": 0.5, "o3": float(i)} for i in range(2)] + [{"co": 0.6, "o3": 9.0}]
    series += [{"co": 0.6, "o3": 9.0 + i} for i in range(2)]
    flags = feed(qc, state, series)
    assert flags == [{}, {}, {}, {}, {"co": [QcFlag.FLATLINE]}]


def test_pm25_above_pm10_flags_both_unless_one_is_device_flagged() -> None:
    qc = QualityControl()
    assert qc.check(QcState(), reading(T0, pm25=50.0, pm10=40.0)) == {
        "pm25": [QcFlag.PM_INCONSISTENT],
        "pm10": [QcFlag.PM_INCONSISTENT],
    }
    calibrating = reading(T0, flags={"pm10": "C"}, pm25=50.0, pm10=40.0)
    assert qc.check(QcState(), calibrating) == {"pm10": [QcFlag.DEVICE]}


def test_state_is_bounded_and_serialisable() -> None:
    qc, state = QualityControl(), QcState()
    feed(qc, state, [dict.fromkeys(("so2", "no2", "o3", "pm10"), 10.0 + i) for i in range(100)])
    assert {len(t.recent) for t in state.tracks.values()} == {qc.config.spike_window}
    raw = msgspec.msgpack.encode(state)
    assert msgspec.msgpack.decode(raw, type=QcState) == state
    assert len(raw) < 500


def test_config_is_checked() -> None:
    with pytest.raises(ValueError, match="pm25"):
        QcConfig(ranges={"pm10": 1000.0})
    with pytest.raises(ValueError, match="spike_min_values"):
        QcConfig(spike_min_values=11)
    with pytest.raises(ValueError, match="flatline"):
        QcConfig(flatline_hourly=1)
