"""GB 3095 data-validity rules (pipeline.standards.validity)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.standards.tables import load_table
from pipeline.standards.validity import (
    EDITIONS,
    annual_mean,
    annual_valid_days,
    daily_mean,
    edition_for,
    hourly_mean,
    monthly_mean,
    o3_8h_moving,
    o3_daily_max_8h,
)

CST = timezone(timedelta(hours=8))
E = "gb3095-2012"


def with_valid(n: int, slots: int, value: float = 10.0) -> list[float | None]:
    return [value] * n + [None] * (slots - n)


def test_edition_switches_at_2026_03_01_beijing_time() -> None:
    assert edition_for(datetime(2026, 2, 28, 23, 59, 59, tzinfo=CST)) == "gb3095-2012"
    assert edition_for(datetime(2026, 3, 1, tzinfo=CST)) == "gb3095-2026"
    assert edition_for(datetime(2026, 2, 28, 16, 0, tzinfo=UTC)) == "gb3095-2026"
    assert edition_for(datetime(2010, 1, 1, tzinfo=CST)) == "gb3095-2012"
    with pytest.raises(ValueError, match="no timezone"):
        edition_for(datetime(2026, 3, 1))


def test_hourly_mean_needs_45_minutes() -> None:
    assert hourly_mean([10, 20], 44, E) is None
    assert hourly_mean([10, 20], 45, E) == 15
    assert hourly_mean([10], 60, E) == 10
    with pytest.raises(ValueError, match=r"0\.\.60"):
        hourly_mean([10], 61, E)
    with pytest.raises(ValueError, match="no samples"):
        hourly_mean([], 50, E)


def test_daily_mean_needs_20_of_24_hours() -> None:
    assert daily_mean(with_valid(19, 24), E) is None
    assert daily_mean(with_valid(20, 24), E) == 10
    assert daily_mean([float(h) for h in range(24)], E) == 11.5
    with pytest.raises(ValueError, match="24"):
        daily_mean(with_valid(20, 23), E)


def test_o3_8h_moving_needs_6_of_8_hours() -> None:
    assert o3_8h_moving(with_valid(5, 8), E) is None
    assert o3_8h_moving(with_valid(6, 8), E) == 10
    assert o3_8h_moving([100, 120, None, 140, 160, None, 180, 200], E) == 150
    with pytest.raises(ValueError, match="8"):
        o3_8h_moving(with_valid(6, 9), E)


def test_o3_daily_max_needs_14_of_17() -> None:
    assert o3_daily_max_8h(with_valid(13, 17), E) is None
    assert o3_daily_max_8h(with_valid(14, 17, 150.0), E) == 150
    assert o3_daily_max_8h([None] * 17, E) is None
    with pytest.raises(ValueError, match="17"):
        o3_daily_max_8h(with_valid(14, 16), E)


def test_o3_daily_max_short_but_exceeding_stays_valid() -> None:
    short = [170.0, *with_valid(12, 16, 120.0)]  # 13 valid, max 170
    assert o3_daily_max_8h(short, E) is None  # no limit given
    assert o3_daily_max_8h(short, E, limit=160) == 170
    assert o3_daily_max_8h(short, E, limit=170) is None  # not above the limit


def test_monthly_mean_needs_27_days_25_in_february() -> None:
    assert monthly_mean(with_valid(26, 31), 1, E) is None
    assert monthly_mean(with_valid(27, 31), 1, E) == 10
    assert monthly_mean(with_valid(24, 28), 2, E) is None
    assert monthly_mean(with_valid(25, 28), 2, E) == 10
    with pytest.raises(ValueError, match="month"):
        monthly_mean(with_valid(27, 31), 13, E)


def year_with(valid_per_month: list[int], year: int = 2025) -> dict[date, float | None]:
    """Daily values of ``year`` with the first n days of each month valid (value = day of year)."""
    days: dict[date, float | None] = {}
    day = date(year, 1, 1)
    while day.year == year:
        days[day] = (
            float(day.timetuple().tm_yday) if day.day <= valid_per_month[day.month - 1] else None
        )
        day += timedelta(days=1)
    return days


def test_annual_needs_324_days_and_every_month() -> None:
    assert annual_valid_days(year_with([27] * 12), E) is not None  # 12 * 27 = 324
    # every month passes (February 25) but 25 + 11 * 27 = 322 < 324
    assert annual_valid_days(year_with([27, 25, *[27] * 10]), E) is None
    # 324 with February at 25 and two months at 28
    assert annual_valid_days(year_with([28, 25, 28, *[27] * 9]), E) is not None
    # 26 + 11 * 31 > 324, but January is short
    assert annual_valid_days(year_with([26, 28, *[31] * 10]), E) is None


def test_annual_mean_and_days() -> None:
    full = year_with([31] * 12)
    assert annual_valid_days(full, E) == [float(d) for d in range(1, 366)]
    assert annual_mean(full, E) == 183
    with pytest.raises(ValueError, match="more than one calendar year"):
        annual_mean({date(2025, 12, 31): 1.0, date(2026, 1, 1): 1.0}, E)


def test_unknown_edition() -> None:
    with pytest.raises(ValueError, match="gb3095-1996"):
        daily_mean(with_valid(24, 24), "gb3095-1996")


def test_2026_rules_are_the_2012_numbers_marked_unverified() -> None:
    def numbers(table: str) -> dict[str, dict[str, object]]:
        rules = load_table(table)["rules"]
        return {
            name: {k: v for k, v in rule.items() if k not in ("verification", "source")}
            for name, rule in rules.items()
        }

    old, new = (load_table(t) for t in EDITIONS.values())
    assert numbers("gb3095_validity_2026") == numbers("gb3095_validity_2012")
    assert "unverified" in new["verification"]
    assert old["edition"] == "gb3095-2012" and new["edition"] == "gb3095-2026"


hours = st.lists(
    st.one_of(st.none(), st.floats(min_value=0, max_value=1e4)), min_size=24, max_size=24
)


@given(hours, st.sampled_from(list(EDITIONS)))
def test_daily_mean_is_valid_exactly_with_20_hours(
    values: list[float | None], edition: str
) -> None:
    valid = [v for v in values if v is not None]
    result = daily_mean(values, edition)
    if len(valid) < 20:
        assert result is None
    else:
        assert result is not None
        assert min(valid) <= result <= max(valid)
