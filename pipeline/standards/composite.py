"""Ambient air quality composite index (环境空气质量综合指数) and the HJ 663 percentile.

城市环境空气质量排名技术规定 (2018): I_i = C_i / S_i and I_sum = Σ w_i·I_i over SO2, NO2,
PM10, PM2.5, CO and O3 (weights all 1 in every shipped table, i.e. the plain sum). Denominators and
weights live in ``tables/composite_<set>.yaml``; only ``composite_gb3095_2012`` is confirmed in
ranking use, the GB 3095-2026 sets are unverified alternatives.

C_i are period statistics (HJ 663-2013): means of daily means for SO2, NO2, PM10, PM2.5 (μg/m³);
the 95th percentile of daily means for CO (mg/m³); the 90th percentile of the daily maximum 8-h
means for O3 (μg/m³). Any rounding of C_i (GB/T 8170) is the caller's choice.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pipeline.standards.tables import load_table

DEFAULT_TABLE = "composite_gb3095_2012"
COMPOSITE_KEYS = ("so2", "no2", "pm10", "pm25", "co", "o3")


@dataclass(frozen=True, slots=True)
class CompositeResult:
    indices: dict[str, float]
    """Single-pollutant indices I_i = C_i / S_i (unweighted, unrounded)."""
    composite: float
    """Σ w_i·I_i, unrounded; rank on this."""
    composite_rounded: float
    """``composite`` to 2 decimals, half up (display)."""
    primary: tuple[str, ...]
    """Pollutant(s) with the largest I_i."""
    table: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "indices": dict(self.indices),
            "composite": self.composite,
            "composite_rounded": self.composite_rounded,
            "primary": list(self.primary),
            "table": self.table,
        }


def composite_index(stats: Mapping[str, float], table: str = DEFAULT_TABLE) -> CompositeResult:
    """Composite index of one period's statistics C_i (keys as in COMPOSITE_KEYS).

    Raises ValueError naming a missing or unknown key or a negative/non-finite value.
    """
    pollutants = load_table(table)["pollutants"]
    unknown = sorted(set(stats) - set(pollutants))
    if unknown:
        raise ValueError(f"unknown pollutant key(s): {', '.join(unknown)}")
    indices: dict[str, float] = {}
    for key, spec in pollutants.items():
        value = stats.get(key)
        if value is None:
            raise ValueError(f"missing {key}: all of {', '.join(pollutants)} are needed")
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{key}: {value} is not a finite non-negative number")
        indices[key] = value / spec["denominator"]
    total = math.fsum(pollutants[k]["weight"] * i for k, i in indices.items())
    largest = max(indices.values())
    return CompositeResult(
        indices=indices,
        composite=total,
        composite_rounded=round_half_up(total, 2),
        primary=tuple(k for k, i in indices.items() if i == largest),
        table=table,
    )


def round_half_up(value: float, places: int) -> float:
    """Round half up on the shortest decimal form of ``value`` (2.675 -> 2.68, unlike round())."""
    step = Decimal(1).scaleb(-places)
    return float(Decimal(repr(value)).quantize(step, rounding=ROUND_HALF_UP))


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile per HJ 663-2013 (== numpy 'linear', Excel PERCENTILE.INC).

    Sort ascending X(1)..X(n); k = 1 + (n - 1)·p/100; s = int(k);
    m_p = X(s) + (X(s+1) - X(s))·(k - s).
    """
    if not values:
        raise ValueError("percentile of no values")
    if not all(math.isfinite(v) for v in values):
        raise ValueError("percentile of a non-finite value")
    if not 0 <= p <= 100:
        raise ValueError(f"percentile p={p} is outside 0..100")
    x = sorted(values)
    k = 1 + (len(x) - 1) * p / 100
    s = int(k)
    if s >= len(x):
        return x[-1]
    return x[s - 1] + (x[s] - x[s - 1]) * (k - s)
