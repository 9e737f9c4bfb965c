"""From observations to checks, and the engine that runs every rule over them.

Each rule kind reads one input: the AQI kinds an :class:`AqiMessage`, the water kinds a
:class:`WaterQualityMessage`, ``qc_anomaly`` a :class:`QcObservation`, ``offline`` a tick (now, and
each station's :class:`LastSeen`). A kind's sampler turns its input into a :class:`Sample` (the
value, the rule's levels as numbers for this subject, and how to put it into words);
:func:`judge` picks the level that holds; :func:`~streams.alerts.lifecycle.advance` does the rest.

The engine is pure. The caller owns the states (a ``MutableMapping[str, AlertState]``: a Faust
table in the agent; idle entries are deleted) and time is event time: ``period_start_ms`` of an
AQI message, ``ts_ms`` of a water message or QC observation, ``now_ms`` of a tick. A check older
than the alert's last one is ignored: that moment has been judged.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from pipeline.messages.results import AlertEvent, AlertSubject, AqiMessage, WaterQualityMessage
from pipeline.registry import Registry
from pipeline.standards.tables import load_table
from pipeline.standards.water import TABLE as WATER_TABLE
from pipeline.standards.water import WaterClass, class_limits
from streams.alerts.lifecycle import AlertState, Check, advance
from streams.alerts.rules import (
    POLLUTANT_NAMES,
    SEVERITY_RANK,
    AqiLevelRule,
    ConcentrationRule,
    OfflineRule,
    QcAnomalyRule,
    Rule,
    Severity,
    SuddenChangeRule,
    WaterClassRule,
    WaterParameterRule,
)


class QcObservation(msgspec.Struct, frozen=True):
    """One reading's QC outcome: ``flagged`` when a QC flag marks it; ``flags`` name them."""

    station: str
    ts_ms: int
    flagged: bool
    flags: list[str] = []


class LastSeen(msgspec.Struct, frozen=True):
    """A station's latest reading time and its expected reporting interval."""

    ts_ms: int
    interval_ms: int


@dataclass(frozen=True, slots=True)
class _Tick:
    now_ms: int
    last: LastSeen


def _number(value: float) -> str:
    """Up to 3 decimals, no trailing zeros: 98.0 -> "98", 0.025 -> "0.025"."""
    return f"{value:.3f}".rstrip("0").rstrip(".")


_ABOVE = {">": ("超过", "above"), ">=": ("达到", "at or above")}
_WORSE = {">": ("劣于", "worse than"), ">=": ("不优于", "no better than")}


@dataclass(frozen=True, slots=True)
class Measure:
    """Words for a value: ``<subject> <label> <value><unit>，<word> <threshold><unit><note>``."""

    label_zh: str
    label_en: str
    unit_zh: str = ""
    unit_en: str = ""
    fmt: Callable[[float], str] = _number
    words: Mapping[str, tuple[str, str]] = field(default_factory=lambda: _ABOVE)
    note_zh: str = ""
    note_en: str = ""


BoundLevel = tuple[Severity, float, float]
"""A level as numbers for one subject: (severity, threshold, reset)."""


@dataclass(frozen=True, slots=True)
class Sample:
    """What a rule sees of one input: the value, its levels (ascending) and the words for it."""

    value: float
    levels: tuple[BoundLevel, ...]
    measure: Measure
    memory: tuple[float, ...] = ()  # the recent inputs to remember for the next sample


def judge(
    op: str, value: float, levels: Sequence[BoundLevel], current: Severity | None
) -> tuple[Severity | None, float | None]:
    """The highest level that holds and its threshold; (None, lowest threshold) when none does.

    A level holds when ``value op threshold``, or, up to the ``current`` (firing) severity, when
    ``value op reset`` (hysteresis).
    """
    passes = operator.gt if op == ">" else operator.ge
    ceiling = -1 if current is None else SEVERITY_RANK[current]
    holding = [
        (severity, threshold)
        for severity, threshold, reset in levels
        if passes(value, threshold) or (SEVERITY_RANK[severity] <= ceiling and passes(value, reset))
    ]
    if holding:
        return holding[-1]
    return None, levels[0][1] if levels else None


def _levels(rule: Rule, bound: Callable[[Any], float] = float) -> tuple[BoundLevel, ...]:
    return tuple(
        (
            level.severity,
            bound(level.threshold),
            bound(level.threshold if level.reset is None else level.reset),
        )
        for level in rule.levels
    )


# --- samplers: one per rule kind -------------------------------------------------------------

_AQI_WORDS = {"hour": ("小时", "hourly"), "day": ("日", "daily")}
_CONCENTRATION_WORDS = {"hour": ("小时浓度", "hourly"), "day": ("日均浓度", "daily mean")}
_WATER_EN = {
    "nh3n": "NH3-N",
    "codmn": "CODMn",
    "cod": "COD",
    "bod5": "BOD5",
    "tp": "TP",
    "tn": "TN",
}


def _applies(rule: AqiLevelRule | ConcentrationRule, msg: AqiMessage) -> bool:
    return msg.scope in rule.scopes and msg.report == rule.report


def _aqi_level(
    rule: AqiLevelRule, msg: AqiMessage, _memory: tuple[float, ...], _registry: Registry
) -> Sample | None:
    if not _applies(rule, msg):
        return None
    zh, en = _AQI_WORDS[msg.report]
    if rule.measure == "level":
        return Sample(float(msg.level), _levels(rule), Measure(f"{zh} AQI 等级", f"{en} AQI level"))
    return Sample(float(msg.aqi), _levels(rule), Measure(f"{zh} AQI", f"{en} AQI"))


def _concentration(
    rule: ConcentrationRule, msg: AqiMessage, _memory: tuple[float, ...], _registry: Registry
) -> Sample | None:
    value = msg.concentrations.get(rule.pollutant)
    if value is None or not _applies(rule, msg):
        return None
    name = POLLUTANT_NAMES[rule.pollutant]
    zh, en = _CONCENTRATION_WORDS[msg.report]
    unit = " mg/m³" if rule.pollutant == "co" else " μg/m³"
    return Sample(value, _levels(rule), Measure(f"{name} {zh}", f"{name} {en}", unit, unit))


def _water_class(
    rule: WaterClassRule, msg: WaterQualityMessage, _memory: tuple[float, ...], _registry: Registry
) -> Sample | None:
    def bound(label: str) -> float:
        return float(WaterClass.parse(msg.target_class if label == "target" else label))

    measure = Measure(
        "水质类别", "water class", fmt=lambda v: WaterClass(int(v)).label, words=_WORSE
    )
    return Sample(float(msg.class_num), _levels(rule, bound), measure)


def _water_parameter(
    rule: WaterParameterRule,
    msg: WaterQualityMessage,
    _memory: tuple[float, ...],
    registry: Registry,
) -> Sample | None:
    value = msg.values.get(rule.parameter)
    station = registry.get(msg.station)
    limits = class_limits(rule.parameter, lake=station is not None and station.lake)
    if value is None or limits is None:
        return None

    def bound(threshold: float | str) -> float:
        if isinstance(threshold, float):
            return threshold
        return float(limits[WaterClass.parse(threshold) - 1])

    zh, en = _parameter_names(rule.parameter)
    return Sample(value, _levels(rule, bound), Measure(zh, en, " mg/L", " mg/L"))


def _sudden_change(
    rule: SuddenChangeRule, msg: WaterQualityMessage, memory: tuple[float, ...], _registry: Registry
) -> Sample | None:
    value = msg.values.get(rule.parameter)
    if value is None:
        return None
    zh, en = _parameter_names(rule.parameter)
    if not memory:  # the first reading: nothing to compare with yet
        return Sample(value, (), Measure(zh, en, " mg/L", " mg/L"), (value,))
    previous = memory[-1]

    def bound(ratio: float) -> float:
        return max(previous * ratio, previous + rule.min_rise)

    measure = Measure(
        f"{zh} 前值 {_number(previous)} mg/L，现值",
        f"{en} previous {_number(previous)} mg/L, now",
        " mg/L",
        " mg/L",
    )
    return Sample(value, _levels(rule, bound), measure, (value,))


def _offline(
    rule: OfflineRule, tick: _Tick, _memory: tuple[float, ...], _registry: Registry
) -> Sample | None:
    missed = (tick.now_ms - tick.last.ts_ms) // tick.last.interval_ms
    measure = Measure("连续无数据", "no data for", " 个周期", " intervals")
    return Sample(float(missed), _levels(rule), measure)


def _qc_anomaly(
    rule: QcAnomalyRule, obs: QcObservation, memory: tuple[float, ...], _registry: Registry
) -> Sample | None:
    recent = (*memory, float(obs.flagged))[-rule.of_last :]
    flags = ", ".join(obs.flags)
    measure = Measure(
        f"最近 {rule.of_last} 条数据中质控标记",
        f"QC-flagged readings of the last {rule.of_last}",
        " 条",
        note_zh=f"（最新标记 {flags}）" if flags else "",
        note_en=f" (latest flags {flags})" if flags else "",
    )
    return Sample(sum(recent), _levels(rule), measure, recent)


def _parameter_names(parameter: str) -> tuple[str, str]:
    name_zh = load_table(WATER_TABLE)["parameters"][parameter]["name_cn"]
    return name_zh, _WATER_EN.get(parameter, parameter)


Sampler = Callable[[Any, Any, tuple[float, ...], Registry], Sample | None]

_KINDS: dict[type, tuple[type, Sampler]] = {
    AqiLevelRule: (AqiMessage, _aqi_level),
    ConcentrationRule: (AqiMessage, _concentration),
    WaterClassRule: (WaterQualityMessage, _water_class),
    WaterParameterRule: (WaterQualityMessage, _water_parameter),
    SuddenChangeRule: (WaterQualityMessage, _sudden_change),
    OfflineRule: (_Tick, _offline),
    QcAnomalyRule: (QcObservation, _qc_anomaly),
}
"""Per rule kind: the input it reads and its sampler."""


# --- the engine --------------------------------------------------------------------------------


class AlertEngine:
    """Runs rules over observations; every ``on_*`` returns the alert events to publish."""

    def __init__(self, rules: Sequence[Rule], registry: Registry) -> None:
        self.rules = tuple(rules)
        self.registry = registry
        self._by_input: dict[type, list[tuple[Rule, Sampler]]] = {}
        for rule in self.rules:
            input_type, sampler = _KINDS[type(rule)]
            self._by_input.setdefault(input_type, []).append((rule, sampler))

    def on_aqi(self, msg: AqiMessage, states: MutableMapping[str, AlertState]) -> list[AlertEvent]:
        subject = AlertSubject(
            scope=msg.scope,
            id=msg.subject,
            name_zh=msg.name_zh,
            name_en=msg.name_en,
            district=msg.district.id if msg.district else None,
            river=None,
        )
        return self._run(msg, msg.period_start_ms, subject, states)

    def on_water(
        self, msg: WaterQualityMessage, states: MutableMapping[str, AlertState]
    ) -> list[AlertEvent]:
        subject = AlertSubject(
            scope="station",
            id=msg.station,
            name_zh=msg.name_zh,
            name_en=msg.name_en,
            district=msg.district.id,
            river=msg.river.id,
        )
        return self._run(msg, msg.ts_ms, subject, states)

    def on_qc(
        self, obs: QcObservation, states: MutableMapping[str, AlertState]
    ) -> list[AlertEvent]:
        return self._run(obs, obs.ts_ms, self._station(obs.station), states)

    def on_tick(
        self, now_ms: int, seen: Mapping[str, LastSeen], states: MutableMapping[str, AlertState]
    ) -> list[AlertEvent]:
        """Judge the offline rules for every station in ``seen`` (station id -> last reading)."""
        return [
            event
            for station, last in sorted(seen.items())
            for event in self._run(_Tick(now_ms, last), now_ms, self._station(station), states)
        ]

    def _station(self, station_id: str) -> AlertSubject:
        """A station as a subject; an id the registry does not know stands for its own name."""
        s = self.registry.get(station_id)
        return AlertSubject(
            scope="station",
            id=station_id,
            name_zh=s.name_zh if s else station_id,
            name_en=s.name_en if s else station_id,
            district=s.district if s else None,
            river=s.river if s else None,
        )

    def _run(
        self,
        item: object,
        ts_ms: int,
        subject: AlertSubject,
        states: MutableMapping[str, AlertState],
    ) -> list[AlertEvent]:
        events: list[AlertEvent] = []
        for rule, sampler in self._by_input.get(type(item), []):
            key = f"{rule.name}|{subject.scope}:{subject.id}"
            state = states.get(key, AlertState())
            if state.last_ms is not None and ts_ms < state.last_ms:
                continue
            sample = sampler(rule, item, state.memory, self.registry)
            if sample is None:
                continue
            current = state.severity if state.status == "firing" else None
            severity, threshold = judge(rule.op, sample.value, sample.levels, current)
            zh, en = _describe(subject, sample, rule.op, severity, threshold)
            check = Check(subject, ts_ms, sample.value, severity, threshold, zh, en)
            state, emitted = advance(
                rule, msgspec.structs.replace(state, memory=sample.memory), check
            )
            if not state.idle:
                states[key] = state
            elif key in states:
                del states[key]
            events.extend(emitted)
        return events


def _describe(
    subject: AlertSubject,
    sample: Sample,
    op: str,
    severity: Severity | None,
    threshold: float | None,
) -> tuple[str, str]:
    m = sample.measure
    value = m.fmt(sample.value)
    zh = f"{subject.name_zh} {m.label_zh} {value}{m.unit_zh}"
    en = f"{subject.name_en} {m.label_en} {value}{m.unit_en}"
    if severity is not None and threshold is not None:
        word_zh, word_en = m.words[op]
        zh += f"，{word_zh} {m.fmt(threshold)}{m.unit_zh}"
        en += f" {word_en} {m.fmt(threshold)}{m.unit_en}"
    return zh + m.note_zh, en + m.note_en
