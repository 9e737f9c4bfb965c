"""City Water Quality Index CWQI (城市水质指数).

城市地表水环境质量排名技术规定（试行） (2017), numbers in ``tables/cwqi_2017.yaml``:
CWQI_i = C_i / S_i(III) with the GB 3838-2002 Class III limit; DO: 5 / C; pH: (7 - pH) / 1 when
pH <= 7, else (pH - 7) / 2; TP: 0.2 for rivers, 0.05 for lakes/reservoirs. The index is the sum
over the parameters present. Automatic stations measure a subset, so an index over fewer than the
21 items is partial (``CwqiResult.partial``) and not comparable with the official one. Smaller is
better.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import fmean
from typing import Any

from pipeline.standards.tables import load_table
from pipeline.standards.water import checked_values

TABLE = "cwqi_2017"


@dataclass(frozen=True, slots=True)
class CwqiResult:
    indices: dict[str, float]
    """Single indices CWQI_i of the parameters present (unrounded)."""
    cwqi: float

    @property
    def partial(self) -> bool:
        """True when fewer than all 21 items were indexed."""
        return len(self.indices) < len(load_table(TABLE)["parameters"])

    def to_dict(self) -> dict[str, Any]:
        return {"indices": dict(self.indices), "cwqi": self.cwqi, "partial": self.partial}


def cwqi(values: Mapping[str, float | None], lake: bool = False) -> CwqiResult:
    """CWQI of one section from its period-mean concentrations (mg/L; pH unitless).

    None values and TN are skipped. Raises ValueError for an unknown key, a negative or non-finite
    value, DO of 0 (the reciprocal is undefined), or when nothing can be indexed.
    """
    params = _params()
    present = checked_values(values, _known())
    indices = {
        key: _single_index(key, present[key], spec, lake)
        for key, spec in params.items()
        if key in present
    }
    if not indices:
        raise ValueError("no CWQI parameter has a value")
    return CwqiResult(indices, sum(indices.values()))


def city_cwqi(sections: Sequence[Mapping[str, float | None]], lake: bool = False) -> CwqiResult:
    """City CWQI: average each parameter over the sections that have it, then index and sum.

    All sections must be of one kind (rivers, or lakes/reservoirs with ``lake``); combining the two
    is not verified and not done here.
    """
    checked = [checked_values(section, _known()) for section in sections]
    keys = {key for section in checked for key in section}
    means = {key: fmean(s[key] for s in checked if key in s) for key in keys}
    return cwqi(means, lake)


def _params() -> dict[str, Any]:
    return load_table(TABLE)["parameters"]


def _known() -> set[str]:
    return set(_params()) | set(load_table(TABLE)["excluded"])


def _single_index(key: str, value: float, spec: Mapping[str, Any], lake: bool) -> float:
    formula = spec["formula"]
    if formula == "ph":
        neutral = spec["neutral"]
        low, high = spec["range"]
        return (
            (neutral - value) / (neutral - low)
            if value <= neutral
            else (value - neutral) / (high - neutral)
        )
    standard = spec["standard"]
    if isinstance(standard, dict):
        standard = standard["lake" if lake else "river"]
    if formula == "reciprocal":
        if value == 0:
            raise ValueError(f"{key}: 0 has no CWQI (the index is {standard} / C)")
        return standard / value
    return value / standard
