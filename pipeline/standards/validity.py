"""Data-validity rules for ambient air statistics (数据统计的有效性规定).

GB 3095-2012 §6 Table 4 (污染物浓度数据有效性的最低要求) and, for the O3 daily maximum 8-h mean,
HJ 663-2013; numbers in ``tables/gb3095_validity_<year>.yaml``. The GB 3095-2026 table repeats the
2012 numbers, unverified (the 2026 validity rules were not read).

Each function takes the slots of one averaging period in time order, ``None`` marking a missing
or invalid value, and returns the mean (or maximum) of the valid values, or ``None`` when the
period has fewer valid values than the edition requires. Values are assumed already range-checked.
Hours and days are local clock time (Asia/Shanghai).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from statistics import fmean
from typing import Any

from pipeline.standards.tables import load_table

EDITIONS = {"gb3095-2012": "gb3095_validity_2012", "gb3095-2026": "gb3095_validity_2026"}
"""Edition -> table, oldest first."""


def edition_for(at: datetime) -> str:
    """The GB 3095 edition in force at ``at`` (timezone-aware): gb3095-2026 from
    2026-03-01T00:00+08:00, else gb3095-2012 (also for times before 2016)."""
    if at.tzinfo is None:
        raise ValueError(f"{at.isoformat()} has no timezone")
    edition = next(iter(EDITIONS))
    for name, table in EDITIONS.items():
        if datetime.fromisoformat(load_table(table)["effective_from"]) <= at:
            edition = name
    return edition


def hourly_mean(samples: Sequence[float], minutes: float, edition: str) -> float | None:
    """1-h mean of SO2, NO2, CO, O3, NOx: the mean of ``samples`` if they cover at least 45 minutes
    of the clock hour (``minutes`` = sampling time covered, 0..60), else None."""
    if not 0 <= minutes <= 60:
        raise ValueError(f"minutes={minutes} is outside 0..60")
    if minutes < _rule(edition, "hourly_mean")["min_minutes"]:
        return None
    if not samples:
        raise ValueError(f"{minutes} minutes of sampling but no samples")
    return fmean(samples)


def daily_mean(hourly: Sequence[float | None], edition: str) -> float | None:
    """24-h mean of SO2, NO2, CO, PM10, PM2.5, NOx from the 24 clock hours of a natural day
    (at least 20 valid hours)."""
    rule = _rule(edition, "daily_mean")
    return _mean_if_enough(_slots(hourly, rule["slots"], "hourly"), rule["min_valid"])


def o3_8h_moving(hourly_last8: Sequence[float | None], edition: str) -> float | None:
    """O3 8-h moving mean ending at the last of 8 consecutive hours (at least 6 valid)."""
    rule = _rule(edition, "o3_8h_moving")
    return _mean_if_enough(_slots(hourly_last8, rule["slots"], "hourly"), rule["min_valid"])


def o3_daily_max_8h(
    moving_8h: Sequence[float | None], edition: str, limit: float | None = None
) -> float | None:
    """O3 daily maximum 8-h mean (HJ 663-2013) from the 17 8-h means ending 08:00, 09:00 .. 24:00,
    i.e. the windows 0-8 .. 16-24 of the natural day. Valid with at least 14 of them; with fewer,
    still valid when ``limit`` (the applicable O3 8-h limit, e.g. grade II 160 μg/m³) is given and
    the maximum exceeds it."""
    rule = _rule(edition, "o3_daily_max_8h")
    valid = [v for v in _slots(moving_8h, rule["slots"], "8-h") if v is not None]
    if not valid:
        return None
    highest = max(valid)
    exceeding = rule["valid_when_exceeding"] and limit is not None and highest > limit
    return highest if len(valid) >= rule["min_valid"] or exceeding else None


def monthly_mean(daily: Sequence[float | None], month: int, edition: str) -> float | None:
    """Mean of a calendar month's daily values (at least 27 valid, 25 in February)."""
    if len(daily) > 31:
        raise ValueError(f"{len(daily)} daily values for one month")
    return _mean_if_enough(daily, _monthly_minimum(month, edition))


def annual_valid_days(daily: Mapping[date, float | None], edition: str) -> list[float] | None:
    """The valid daily values of one calendar year in date order, or None when the year is
    incomplete (fewer than 324 valid days, or a month below its monthly minimum). Feed the result to
    the annual mean or to ``composite.percentile``."""
    if len({d.year for d in daily}) > 1:
        raise ValueError("daily values span more than one calendar year")
    valid = {d: v for d, v in sorted(daily.items()) if v is not None}
    per_month = [sum(d.month == m for d in valid) for m in range(1, 13)]
    complete = len(valid) >= _rule(edition, "annual_mean")["min_valid"] and all(
        n >= _monthly_minimum(m, edition) for m, n in enumerate(per_month, start=1)
    )
    return list(valid.values()) if complete else None


def annual_mean(daily: Mapping[date, float | None], edition: str) -> float | None:
    """Annual mean of SO2, NO2, PM10, PM2.5, NOx (completeness as in ``annual_valid_days``)."""
    valid = annual_valid_days(daily, edition)
    return None if valid is None else fmean(valid)


def _rule(edition: str, name: str) -> dict[str, Any]:
    try:
        table = EDITIONS[edition]
    except KeyError:
        raise ValueError(
            f"unknown GB 3095 edition {edition!r}; expected one of {', '.join(EDITIONS)}"
        ) from None
    return load_table(table)["rules"][name]


def _slots(values: Sequence[float | None], slots: int, what: str) -> Sequence[float | None]:
    if len(values) != slots:
        raise ValueError(f"expected {slots} {what} slots, got {len(values)}")
    return values


def _monthly_minimum(month: int, edition: str) -> int:
    if not 1 <= month <= 12:
        raise ValueError(f"month={month} is outside 1..12")
    rule = _rule(edition, "monthly_mean")
    return rule["min_valid_february"] if month == 2 else rule["min_valid"]


def _mean_if_enough(values: Sequence[float | None], min_valid: int) -> float | None:
    valid = [v for v in values if v is not None]
    return fmean(valid) if valid and len(valid) >= min_valid else None
