"""Surface-water class by the single-factor method (单因子评价法).

Limits: GB 3838-2002 Table 1; assessment: 《地表水环境质量评价办法（试行）》 环办〔2011〕22号.
Every number lives in ``tables/gb3838_2002.yaml``; this module only applies it:

- upper-limit items: the smallest class k with value <= limit_k (inclusive; where classes share a
  limit the better one wins); above the Class V limit -> 劣V.
- DO (lower limit): the smallest class k with value >= limit_k (5.0 -> III, 4.99 -> IV); < 2 -> 劣V.
- pH: 6..9 inclusive -> Class I (never worsens the class); outside -> 劣V (implementation
  convention, not spelled out in the standard).
- TP uses the lake/reservoir limits when ``lake``; TN is assessed for lakes only (for rivers the key
  is accepted and ignored).

The overall class is the worst per-parameter class. A class from the automatic-station subset is
indicative only: the official class uses 21 items.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from enum import IntEnum
from typing import Any

from pipeline.standards.tables import load_table

MULTIPLE_DECIMALS = 4  # 超标倍数 is reported to 4 decimals; float noise beyond that is meaningless
TABLE = "gb3838_2002"
WATER_KEYS = ("ph", "do", "codmn", "cod", "bod5", "nh3n", "tp", "tn")
"""The automatic-station keys (mg/L, pH unitless). The other Table 1 items are accepted under
the table's keys: cu zn fluoride se as hg cd cr6 pb cyanide volatile_phenol petroleum las sulfide.
"""

_ROMAN = str.maketrans({"Ⅰ": "I", "Ⅱ": "II", "Ⅲ": "III", "Ⅳ": "IV", "Ⅴ": "V"})


class WaterClass(IntEnum):
    """GB 3838-2002 classes I..V, plus 劣V (worse than V: a value above every class limit)."""

    I = 1  # noqa: E741 - the standard's own name
    II = 2
    III = 3
    IV = 4
    V = 5
    WORSE_THAN_V = 6

    @property
    def label(self) -> str:
        """ "I".."V" or "劣V"."""
        return "劣V" if self is WaterClass.WORSE_THAN_V else self.name

    @classmethod
    def parse(cls, text: str) -> WaterClass:
        """From "I".."V", "劣V" (Unicode Roman numerals too) or "1".."6"."""
        by_text = {c.label: c for c in cls} | {str(c.value): c for c in cls}
        try:
            return by_text[text.strip().translate(_ROMAN)]
        except KeyError:
            raise ValueError(f"unknown water class {text!r}; expected I..V, 劣V or 1..6") from None


@dataclass(frozen=True, slots=True)
class Exceedance:
    """A parameter worse than the target class, against the target class limit.

    ``multiple`` is 超标倍数 (C - S) / S for upper-limit items; for DO it is (S - C) / S, the
    fraction short of the limit (envmon convention; Shenzhen reports use S - C); None for pH, whose
    ``limit`` is the violated bound (6 or 9).
    """

    key: str
    value: float
    limit: float
    multiple: float | None


@dataclass(frozen=True, slots=True)
class WaterResult:
    water_class: WaterClass
    per_parameter: dict[str, WaterClass]
    deciding: tuple[str, ...]
    """Every key at the overall (worst) class."""
    failing: tuple[Exceedance, ...]
    """Keys worse than the target class; empty without a target."""

    def to_dict(self) -> dict[str, Any]:
        status = load_table(TABLE)["status"][self.water_class.label]
        return {
            "class": self.water_class.label,
            "class_num": int(self.water_class),
            "per_parameter": {k: c.label for k, c in self.per_parameter.items()},
            "deciding": list(self.deciding),
            "failing": [asdict(e) for e in self.failing],
            "status_zh": status["zh"],
            "status_en": status["en"],
        }


def classify_water(
    values: Mapping[str, float | None], lake: bool = False, target: WaterClass | None = None
) -> WaterResult:
    """Class of one sample or period mean (GB 3838-2002 Table 1, single-factor method).

    None values are skipped. Raises ValueError for an unknown key, a negative or non-finite value,
    or when no value can be assessed.
    """
    params = load_table(TABLE)["parameters"]
    present = checked_values(values, params)
    per_parameter = {
        key: cls
        for key, spec in params.items()
        if key in present and (cls := _class_of(present[key], spec, lake)) is not None
    }
    if not per_parameter:
        raise ValueError("no assessable water-quality value (all missing, or TN for a river)")
    worst = max(per_parameter.values())
    failing = tuple(
        _exceedance(key, present[key], params[key], lake, target)
        for key, cls in per_parameter.items()
        if target is not None and cls > target
    )
    return WaterResult(
        water_class=worst,
        per_parameter=per_parameter,
        deciding=tuple(k for k, c in per_parameter.items() if c == worst),
        failing=failing,
    )


def checked_values(
    values: Mapping[str, float | None], known: Mapping[str, Any]
) -> dict[str, float]:
    """The non-None values; ValueError naming an unknown key or a negative/non-finite value."""
    present: dict[str, float] = {}
    for key, value in values.items():
        if key not in known:
            raise ValueError(f"unknown water-quality key {key!r}")
        if value is None:
            continue
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{key}: {value} is not a finite non-negative number")
        present[key] = float(value)
    return present


def class_limits(parameter: str, lake: bool) -> Sequence[float] | None:
    """GB 3838-2002 Class I..V limits of ``parameter`` (table key); None when the item is not
    assessed for this water body type (or has a range, like pH)."""
    return _limits(load_table(TABLE)["parameters"][parameter], lake)


def _limits(spec: Mapping[str, Any], lake: bool) -> Sequence[float] | None:
    """Class I..V limits, or None when the item is not assessed for this water body type."""
    limits = spec.get("limits")
    return limits.get("lake" if lake else "river") if isinstance(limits, dict) else limits


def _class_of(value: float, spec: Mapping[str, Any], lake: bool) -> WaterClass | None:
    if spec["kind"] == "range":
        low, high = spec["range"]
        return WaterClass.I if low <= value <= high else WaterClass.WORSE_THAN_V
    limits = _limits(spec, lake)
    if limits is None:
        return None
    upper = spec["kind"] == "upper"
    return next(
        (
            WaterClass(k)
            for k, limit in enumerate(limits, start=1)
            if (value <= limit if upper else value >= limit)
        ),
        WaterClass.WORSE_THAN_V,
    )


def _exceedance(
    key: str, value: float, spec: Mapping[str, Any], lake: bool, target: WaterClass
) -> Exceedance:
    if spec["kind"] == "range":
        low, high = spec["range"]
        return Exceedance(key, value, float(low if value < low else high), None)
    limit = float(_limits(spec, lake)[target - 1])  # type: ignore[index]  # assessed: not None
    excess = value - limit if spec["kind"] == "upper" else limit - value
    return Exceedance(key, value, limit, round(excess / limit, MULTIPLE_DECIMALS))
