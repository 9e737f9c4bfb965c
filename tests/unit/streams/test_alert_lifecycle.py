"""The alert engine over controlled event times: firing, escalation, hysteresis, resolution,
flapping, offline ticks, sudden changes, deterministic ids and a restart from serialised state."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import msgspec
import pytest

from pipeline.messages.results import AlertEvent, AqiMessage, Named, WaterQualityMessage
from pipeline.registry import Registry
from streams.alerts import AlertEngine, AlertState, LastSeen, QcObservation, load_rules, parse_rules

HOUR = 3_600_000
T0 = 1_795_000_000_000  # 2026-11-18T16:53:20Z: any fixed event time will do
REGISTRY = Registry.load()
FUTIAN = Named("futian", "福田区", "Futian")

States = dict[str, AlertState]
Step = Callable[[AlertEngine, States], list[AlertEvent]]


def pm25_engine(
    for_: str = "1h", clear_for: str = "1h", flapping: str = "{window: 6h, high: 4, low: 2}"
) -> AlertEngine:
    rules = f"""
schema_version: 1
rules:
  - name: pm25
    kind: concentration
    pollutant: pm25
    for: {for_}
    clear_for: {clear_for}
    flapping: {flapping}
    levels:
      - {{severity: warning, threshold: 75, reset: 65}}
      - {{severity: critical, threshold: 150, reset: 130}}
"""
    return AlertEngine(parse_rules(rules), REGISTRY)


def fast_pm25_engine() -> AlertEngine:
    """PM2.5 firing and resolving at once, flapping after more than 2 changes in 6 h."""
    return pm25_engine(for_="0s", clear_for="0s", flapping="{window: 6h, high: 2, low: 1}")


def district_hour(hour: int, **concentrations: float) -> AqiMessage:
    return AqiMessage(
        scope="district",
        subject="futian",
        name_zh="福田区",
        name_en="Futian",
        district=FUTIAN,
        report="hour",
        period_start_ms=T0 + hour * HOUR,
        period_label="",
        standard="HJ 633-2026",
        aqi=100,
        level=2,
        category_zh="良",
        category_en="Moderate",
        color="#ffff00",
        primary=[],
        exceeding=[],
        iaqi={},
        concentrations=dict(concentrations),
        valid_stations=3,
    )


def yangyong(hour: int, nh3n: float, class_num: int = 4) -> WaterQualityMessage:
    """Yangyong Bridge (Maozhou River, target IV)."""
    labels = {4: "IV", 5: "V", 6: "劣V"}
    return WaterQualityMessage(
        station="mzh-yangyong",
        name_zh="洋涌大桥",
        name_en="Yangyong Bridge",
        river=Named("maozhou", "茅洲河", "Maozhou River"),
        district=Named("baoan", "宝安区", "Bao'an"),
        ts_ms=T0 + hour * HOUR,
        water_class=labels[class_num],  # type: ignore[arg-type]
        class_num=class_num,
        target_class="IV",
        per_parameter={},
        failing=[],
        cwqi=5.0,
        values={"nh3n": nh3n},
    )


def feed_pm25(engine: AlertEngine, states: States, values: Iterable[float], start: int = 0):
    """Events per hour, hourly PM2.5 values from hour ``start`` on."""
    return [engine.on_aqi(district_hour(start + h, pm25=v), states) for h, v in enumerate(values)]


def states_of(events_per_step: list[list[AlertEvent]]) -> list[list[str]]:
    return [[e.state for e in step] for step in events_per_step]


def test_fires_once_the_condition_held_for_the_duration() -> None:
    states: States = {}
    steps = feed_pm25(pm25_engine(), states, [80, 98])
    assert states_of(steps) == [[], ["firing"]]
    (event,) = steps[1]
    assert (event.severity, event.value, event.threshold) == ("warning", 98, 75)
    assert (event.started_ms, event.event_ms, event.ended_ms) == (T0, T0 + HOUR, None)
    assert event.message_zh == "福田区 PM2.5 小时浓度 98 μg/m³，超过 75 μg/m³"
    assert event.message_en == "Futian PM2.5 hourly 98 μg/m³ above 75 μg/m³"
    assert (event.subject.scope, event.subject.id, event.subject.district) == (
        "district",
        "futian",
        "futian",
    )


def test_a_short_blip_is_no_event_and_leaves_no_state() -> None:
    states: States = {}
    steps = feed_pm25(pm25_engine(), states, [80, 50, 90, 40])
    assert states_of(steps) == [[], [], [], []]
    assert states == {}


def test_escalates_upward_and_downgrades_silently() -> None:
    states: States = {}
    steps = feed_pm25(pm25_engine(flapping="null"), states, [80, 80, 160, 140, 100])
    assert states_of(steps) == [[], ["firing"], ["escalated"], [], []]
    assert steps[2][0].severity == "critical"
    assert (
        steps[2][0].message_en
        == "Escalated to critical: Futian PM2.5 hourly 160 μg/m³ above 150 μg/m³"
    )
    assert steps[2][0].alert_id == steps[1][0].alert_id
    (state,) = states.values()
    assert (state.status, state.severity) == ("firing", "warning")  # 140 > reset 130; 100 < 130
    again = feed_pm25(pm25_engine(flapping="null"), states, [170], start=5)
    assert states_of(again) == [["escalated"]]


def test_hysteresis_keeps_firing_between_reset_and_threshold() -> None:
    states: States = {}
    steps = feed_pm25(pm25_engine(), states, [80, 80, 70, 66, 72, 65, 60])
    assert states_of(steps) == [[], ["firing"], [], [], [], [], ["resolved"]]
    resolved = steps[-1][0]
    assert (resolved.started_ms, resolved.ended_ms) == (
        T0,
        T0 + 5 * HOUR,
    )  # clear from 65 (<= reset)
    assert resolved.message_zh == "已恢复：福田区 PM2.5 小时浓度 60 μg/m³"


def test_resolves_only_after_clear_for() -> None:
    states: States = {}
    steps = feed_pm25(pm25_engine(clear_for="2h"), states, [80, 80, 50, 50, 80, 50, 50, 50])
    assert states_of(steps) == [[], ["firing"], [], [], [], [], [], ["resolved"]]
    assert steps[-1][0].ended_ms == T0 + 5 * HOUR


@pytest.mark.parametrize(
    ("settle", "last", "calm_from"), [(50, "resolved", 39), (90, "firing", 40)]
)
def test_flapping_is_one_notification_then_the_state_once(
    settle: float, last: str, calm_from: int
) -> None:
    engine = fast_pm25_engine()
    states: States = {}
    noisy = feed_pm25(engine, states, [80, 50] * 20)
    assert [s for step in states_of(noisy) for s in step] == ["firing", "resolved", "flapping"]
    calm = feed_pm25(engine, states, [settle] * 8, start=40)
    events = [e for step in calm for e in step]
    assert [e.state for e in events] == [last]
    flapping = next(e for step in noisy for e in step if e.state == "flapping")
    assert events[0].alert_id == flapping.alert_id  # one alert through the flapping episode
    assert events[0].event_ms == T0 + (calm_from + 6) * HOUR  # the last change left the window


def test_offline_by_tick_not_by_data_and_resolved_when_data_returns() -> None:
    engine = AlertEngine(load_rules(), REGISTRY)
    states: States = {}
    seen = {"1356A": LastSeen(T0, HOUR)}
    assert engine.on_tick(T0 + 2 * HOUR + 59 * 60_000, seen, states) == []
    (fired,) = engine.on_tick(T0 + 3 * HOUR, seen, states)
    assert (fired.rule, fired.state, fired.severity, fired.value) == (
        "station_offline",
        "firing",
        "warning",
        3,
    )
    assert fired.message_zh == "通心岭子站 连续无数据 3 个周期，达到 3 个周期"
    assert fired.subject.district == "futian"
    assert engine.on_tick(T0 + 4 * HOUR, seen, states) == []
    seen = {"1356A": LastSeen(T0 + 5 * HOUR, HOUR)}
    (resolved,) = engine.on_tick(T0 + 5 * HOUR + 60_000, seen, states)
    assert (resolved.state, resolved.alert_id) == ("resolved", fired.alert_id)


def test_sudden_nh3n_rise() -> None:
    engine = AlertEngine(load_rules(), REGISTRY)
    states: States = {}
    readings = [(0, 0.1), (4, 0.3), (8, 0.7), (12, 0.9), (16, 1.9), (20, 1.8)]
    steps = [engine.on_water(yangyong(h, v), states) for h, v in readings]
    # 0.1 -> 0.3 and 0.3 -> 0.7 more than double but rise < 0.5 mg/L; 0.9 -> 1.9 does both
    assert [[(e.rule, e.state) for e in s] for s in steps] == [
        [],
        [],
        [],
        [],
        [("nh3n_sudden_rise", "firing")],
        [("nh3n_sudden_rise", "resolved")],
    ]
    fired = steps[4][0]
    assert (fired.severity, fired.value, fired.threshold) == ("critical", 1.9, 1.8)
    assert fired.message_en == (
        "Yangyong Bridge NH3-N previous 0.9 mg/L, now 1.9 mg/L at or above 1.8 mg/L"
    )


def test_water_class_and_parameter_rules() -> None:
    engine = AlertEngine(load_rules(), REGISTRY)
    states: States = {}
    first = engine.on_water(yangyong(0, 1.6, class_num=5), states)
    assert [(e.rule, e.severity, e.message_zh) for e in first] == [
        ("water_class", "warning", "洋涌大桥 水质类别 V，劣于 IV")
    ]
    second = engine.on_water(yangyong(4, 2.5, class_num=6), states)
    assert sorted((e.rule, e.state, e.severity, e.threshold) for e in second) == [
        ("nh3n_above_class_v", "firing", "critical", 2.0),
        ("water_class", "escalated", "critical", 5.0),
    ]


def test_qc_anomaly_counts_flags_over_the_last_readings() -> None:
    engine = AlertEngine(load_rules(), REGISTRY)
    states: States = {}
    flagged = [True, False] * 5 + [True]  # 6 of the last 11 at the 11th reading
    steps = [
        engine.on_qc(QcObservation("1357A", T0 + i * HOUR, f, ["M"] if f else []), states)
        for i, f in enumerate(flagged)
    ]
    assert [len(s) for s in steps] == [0] * 10 + [1]
    (event,) = steps[-1]
    assert (event.rule, event.severity, event.value) == ("qc_anomaly", "info", 6)
    assert event.message_zh == "洪湖 最近 12 条数据中质控标记 6 条，达到 6 条（最新标记 M）"


def test_an_observation_older_than_the_last_is_ignored() -> None:
    engine = pm25_engine(for_="0s")
    states: States = {}
    assert states_of(feed_pm25(engine, states, [80], start=5)) == [["firing"]]
    before = dict(states)
    assert feed_pm25(engine, states, [40], start=4) == [[]]
    assert states == before


def _scenario() -> list[Step]:
    """A mixed sequence for the determinism and restart tests."""
    pm25 = [60, 80, 90, 160, 120, 70, 60, 50, 80, 50, 80, 50, 80, 50, 80, 50, 50, 50]
    nh3n = [0.5, 0.6, 1.5, 1.4, 2.3, 1.0]
    steps: list[Step] = [
        (lambda e, s, h=h, v=v: e.on_aqi(district_hour(h, pm25=v), s)) for h, v in enumerate(pm25)
    ]
    steps += [
        (lambda e, s, i=i, v=v: e.on_water(yangyong(4 * i, v), s)) for i, v in enumerate(nh3n)
    ]
    seen = {"1356A": LastSeen(T0, HOUR), "mzh-yangyong": LastSeen(T0, 4 * HOUR)}
    steps += [(lambda e, s, h=h: e.on_tick(T0 + h * HOUR, seen, s)) for h in range(0, 16, 2)]
    return steps


def _engine() -> AlertEngine:
    """The default rules plus a fast PM2.5 rule that flaps in the scenario."""
    return AlertEngine([*load_rules(), *fast_pm25_engine().rules], REGISTRY)


def _run(steps: list[Step], states: States, engine: AlertEngine) -> list[AlertEvent]:
    return [event for step in steps for event in step(engine, states)]


def test_ids_are_deterministic_and_transitions_unique() -> None:
    first = _run(_scenario(), {}, _engine())
    second = _run(_scenario(), {}, _engine())
    assert first == second
    assert {e.state for e in first} >= {"firing", "escalated", "resolved", "flapping"}
    transition_ids = [e.transition_id for e in first]
    assert len(set(transition_ids)) == len(transition_ids)


@pytest.mark.parametrize("split", [3, 9, 14, 20, 26])
def test_restart_from_serialised_states_neither_refires_nor_forgets(split: int) -> None:
    steps = _scenario()
    uninterrupted = _run(steps, {}, _engine())
    states: States = {}
    before = _run(steps[:split], states, _engine())
    blob = msgspec.json.encode(states)
    restored = msgspec.json.decode(blob, type=dict[str, AlertState])
    after = _run(steps[split:], restored, _engine())
    assert before + after == uninterrupted
