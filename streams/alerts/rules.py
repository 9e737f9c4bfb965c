"""Alert rules: the models, and loading and validating a rules file.

A rules file is YAML ``{schema_version: 1, rules: [...]}``. Every rule has a unique ``name``, a
``kind`` (one class below each), and:

- ``levels``: one per severity, in ascending severity (info < warning < critical). A level holds
  while ``value op threshold``; once an alert fires at a level, it keeps holding while
  ``value op reset`` (hysteresis; ``reset`` defaults to the threshold). The highest level that
  holds is the alert's severity.
- ``op``: ``">"`` (default) or ``">="``.
- ``for``: how long the condition must hold (event time) before the alert fires; 0 = at once.
  Measured between observations: on hourly data ``for: 1h`` means two consecutive hours.
- ``clear_for``: how long the condition must be clear before a firing alert resolves.
- ``flapping``: ``{window, high, low}`` (see :class:`Flapping`), or ``null`` for never.

Durations are seconds (an integer) or text such as ``90s``, ``15m``, ``2h``, ``1d``. Errors name
the file, the rule and the field.
"""

from __future__ import annotations

from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Any, ClassVar, Literal, get_args

import msgspec
import yaml

from pipeline.messages.results import Scope
from pipeline.standards.tables import load_table
from pipeline.standards.water import TABLE as WATER_TABLE
from pipeline.standards.water import WaterClass
from pipeline.timeutil import HOUR_MS, parse_duration

DEFAULT_RULES = "default_rules.yaml"

Severity = Literal["info", "warning", "critical"]
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}

POLLUTANT_NAMES = {
    "so2": "SO2",
    "no2": "NO2",
    "co": "CO",
    "o3": "O3",
    "o3_8h": "O3 8h",
    "pm10": "PM10",
    "pm25": "PM2.5",
    "so2_24h": "SO2 24h",
    "pm10_24h": "PM10 24h",
    "pm25_24h": "PM2.5 24h",
}
"""The keys of ``AqiMessage.concentrations`` a concentration rule may name, as shown to people."""


class Duration(int):
    """Milliseconds, read from seconds (an integer) or text such as ``90s``, ``15m``, ``2h``."""

    @classmethod
    def parse(cls, raw: object) -> Duration:
        return cls(round(parse_duration(raw, fractions=False) * 1000))


class Level(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One severity of a rule. Thresholds are numbers, except for the water kinds (class labels)."""

    severity: Severity
    threshold: float | str
    reset: float | str | None = None


class Flapping(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Flapping once the alert changed state more than ``high`` times within ``window``; quiet
    again when fewer than ``low`` changes remain in the window."""

    window: Duration = Duration(6 * HOUR_MS)
    high: int = 4
    low: int = 2


class _Rule(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag_field="kind"
):
    name: str
    levels: tuple[Level, ...]
    op: Literal[">", ">="] = ">"
    for_ms: Duration = msgspec.field(name="for", default=Duration(0))
    clear_for_ms: Duration = msgspec.field(name="clear_for", default=Duration(0))
    flapping: Flapping | None = Flapping()

    thresholds: ClassVar[str] = "a number"
    """What a threshold (or reset) is, for error messages."""

    def __post_init__(self) -> None:
        if problems := self._problems():
            raise ValueError("; ".join(problems))

    def _problems(self) -> list[str]:
        problems = [] if self.levels else ["field 'levels': at least one level is required"]
        ranks = [SEVERITY_RANK[level.severity] for level in self.levels]
        if any(a >= b for a, b in pairwise(ranks)):
            problems.append("field 'levels': one level per severity, in ascending severity")
        for i, level in enumerate(self.levels):
            for field, bound in (("threshold", level.threshold), ("reset", level.reset)):
                if bound is not None and not self._valid_bound(bound):
                    problems.append(
                        f"field 'levels[{i}].{field}': {bound!r} is not {self.thresholds}"
                    )
            threshold, reset = level.threshold, level.reset
            if isinstance(threshold, float) and isinstance(reset, float) and reset > threshold:
                problems.append(f"field 'levels[{i}].reset': above the threshold")
        if self.flapping and not 0 <= self.flapping.low <= self.flapping.high:
            problems.append("field 'flapping': expected 0 <= low <= high")
        return problems

    def _valid_bound(self, bound: float | str) -> bool:
        return isinstance(bound, float)


class AqiLevelRule(_Rule, frozen=True, tag="aqi_level"):
    """AQI level (1..6) or AQI value of an :class:`AqiMessage` at the given scopes."""

    scopes: tuple[Scope, ...] = ("city",)
    report: Literal["hour", "day"] = "hour"
    measure: Literal["level", "aqi"] = "level"


class ConcentrationRule(_Rule, frozen=True, tag="concentration"):
    """A pollutant's mean concentration (``AqiMessage.concentrations``) at the given scopes."""

    pollutant: str
    scopes: tuple[Scope, ...] = ("station", "district")
    report: Literal["hour", "day"] = "hour"

    def _problems(self) -> list[str]:
        known = self.pollutant in POLLUTANT_NAMES
        return super()._problems() + (
            [] if known else [f"field 'pollutant': unknown {self.pollutant!r}"]
        )


class WaterClassRule(_Rule, frozen=True, tag="water_class"):
    """A section's class worse than a class: thresholds are ``target`` or a class label."""

    thresholds: ClassVar[str] = "'target' or a water class I..V, 劣V"

    def _valid_bound(self, bound: float | str) -> bool:
        return bound == "target" or (isinstance(bound, str) and _water_class(bound) is not None)


class _WaterParameterRule(_Rule, frozen=True):
    parameter: str

    def _problems(self) -> list[str]:
        spec = load_table(WATER_TABLE)["parameters"].get(self.parameter)
        upper = spec is not None and spec["kind"] == "upper"
        return super()._problems() + (
            [] if upper else [f"field 'parameter': {self.parameter!r} is not an upper-limit item"]
        )


class WaterParameterRule(_WaterParameterRule, frozen=True, tag="water_parameter"):
    """A water parameter (mg/L) above a threshold: a number or a class label (that class's limit).

    Items GB 3838-2002 does not assess for the section's water body (TN in rivers) are skipped.
    """

    thresholds: ClassVar[str] = "a number or a water class I..V"

    def _valid_bound(self, bound: float | str) -> bool:
        cls = _water_class(bound) if isinstance(bound, str) else None
        return isinstance(bound, float) or (cls is not None and cls <= WaterClass.V)


class SuddenChangeRule(_WaterParameterRule, frozen=True, tag="sudden_change"):
    """A parameter jumping between consecutive readings of a section: thresholds are ratios to the
    previous reading, and the rise must also be at least ``min_rise`` (mg/L)."""

    min_rise: float


class OfflineRule(_Rule, frozen=True, tag="offline"):
    """A station without data: thresholds count missed expected intervals (evaluated by ticks)."""


class QcAnomalyRule(_Rule, frozen=True, tag="qc_anomaly"):
    """Persistent QC flags: thresholds count flagged readings among the last ``of_last``."""

    of_last: int

    def _problems(self) -> list[str]:
        ok = self.of_last >= 1
        return super()._problems() + ([] if ok else ["field 'of_last': must be at least 1"])


Rule = (
    AqiLevelRule
    | ConcentrationRule
    | WaterClassRule
    | WaterParameterRule
    | SuddenChangeRule
    | OfflineRule
    | QcAnomalyRule
)

KINDS = {cls.__struct_config__.tag: cls for cls in get_args(Rule)}
"""Rule classes by ``kind``."""


class RulesError(ValueError):
    """The rules file is unreadable or invalid; the message names the rule and the field."""


class _RulesFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    schema_version: Literal[1]
    rules: list[dict[str, Any]]


def load_rules(path: Path | None = None) -> list[Rule]:
    """The rules of a file, or the shipped default rules when ``path`` is None."""
    if path is None:
        text = resources.files("streams.alerts").joinpath(DEFAULT_RULES).read_text("utf-8")
        return parse_rules(text, f"bundled:{DEFAULT_RULES}")
    try:
        text = Path(path).read_text("utf-8")
    except OSError as exc:
        raise RulesError(f"rules file {path}: {exc.strerror}") from exc
    return parse_rules(text, str(path))


def parse_rules(text: str, source: str = "<text>") -> list[Rule]:
    """The rules of a rules file's text; ``source`` names it in errors."""
    try:
        raw = msgspec.convert(yaml.safe_load(text), _RulesFile)
    except (yaml.YAMLError, msgspec.ValidationError) as exc:
        raise RulesError(f"rules file {source}: {exc}") from exc
    rules: list[Rule] = []
    for i, item in enumerate(raw.rules, start=1):
        name = item.get("name")
        where = f"rules file {source}: rule {name if isinstance(name, str) else f'#{i}'!r}"
        if item.get("kind") not in KINDS:
            expected = ", ".join(KINDS)
            raise RulesError(
                f"{where}: field 'kind': {item.get('kind')!r} is not one of {expected}"
            )
        try:
            rule = msgspec.convert(item, Rule, dec_hook=_decode)
        except msgspec.ValidationError as exc:
            raise RulesError(f"{where}: {_field_first(str(exc))}") from None
        if any(r.name == rule.name for r in rules):
            raise RulesError(f"{where}: field 'name': duplicate rule name")
        rules.append(rule)
    return rules


def _decode(type_: type, obj: object) -> object:
    if type_ is Duration:
        return Duration.parse(obj)
    raise NotImplementedError


def _field_first(message: str) -> str:
    """msgspec's "problem - at `$.path`" as "field 'path': problem"."""
    problem, sep, path = message.rpartition(" - at `$.")
    return f"field {path.rstrip('`')!r}: {problem}" if sep else message


def _water_class(label: str) -> WaterClass | None:
    try:
        return WaterClass.parse(label)
    except ValueError:
        return None
