"""Properties of the AQI engine over every row of every table (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.standards.aqi import compute_aqi, sub_index
from pipeline.standards.tables import load_table

HJ = {"hj633-2012": "hj633_2012", "hj633-2026": "hj633_2026"}
LEVELS = {1: (0, 50), 2: (51, 100), 3: (101, 150), 4: (151, 200), 5: (201, 300), 6: (301, None)}
HOUR_KEYS = ("so2", "no2", "co", "o3", "o3_8h", "pm10", "pm25", "pm10_24h", "pm25_24h", "so2_24h")
DAY_KEYS = ("so2", "no2", "co", "pm10", "pm25", "o3", "o3_8h")


def rows() -> list[tuple[str, str, float, bool]]:
    """(edition, row, top concentration, row reaches IAQI 500) for every table row."""
    hj = [
        (edition, row, concs[-1], len(concs) == len(load_table(name)["iaqi_levels"]))
        for edition, name in HJ.items()
        for row, concs in load_table(name)["breakpoints"].items()
    ]
    epa = [
        ("epa", row, spec["segments"][-1][1], spec["segments"][-1][3] == 500)
        for row, spec in load_table("us_epa_2024")["rows"].items()
    ]
    return hj + epa


@pytest.mark.parametrize(("edition", "row", "top", "to_500"), rows())
@given(data=st.data())
def test_index_is_non_decreasing(edition: str, row: str, top: float, to_500: bool, data) -> None:
    # Rows ending below 500 stop at their top (edition rules take over); others run past it.
    limit = top * 1.5 if to_500 else top
    a, b = sorted(data.draw(st.floats(0, limit), label=f"c{i}") for i in range(2))
    low, high = sub_index(edition, row, a), sub_index(edition, row, b)
    if low is not None:  # None only in a blank cell below the row (EPA O3 1-h, SO2 24-h)
        assert high is not None and low <= high
    if high is not None:  # HJ caps at 500; EPA extrapolates beyond it
        assert high >= 0 and (edition == "epa" or high <= 500)


concentrations = st.one_of(st.none(), st.floats(0, 3000, allow_subnormal=False))


@given(
    report=st.sampled_from(("hour", "day")),
    standard=st.sampled_from(("hj633-2012", "hj633-2026", "epa")),
    values=st.lists(concentrations, min_size=len(HOUR_KEYS), max_size=len(HOUR_KEYS)),
)
def test_result_is_consistent(report: str, standard: str, values: list[float | None]) -> None:
    keys = HOUR_KEYS if report == "hour" else DAY_KEYS
    result = compute_aqi(dict(zip(keys, values, strict=False)), report, standard)  # type: ignore[arg-type]
    assert result.standard == standard
    if not result.iaqi:
        assert (result.aqi, result.level, result.primary, result.exceeding) == (None, None, (), ())
        return
    assert result.aqi == max(result.iaqi.values())
    low, high = LEVELS[result.level]
    assert low <= result.aqi and (high is None or result.aqi <= high)
    top = [k for k, v in result.iaqi.items() if v == result.aqi]
    assert result.primary == (tuple(top) if result.aqi > 50 else ())
    exceeding = [k for k, v in result.iaqi.items() if v > 100] if standard == "hj633-2012" else []
    assert result.exceeding == tuple(exceeding)
    assert set(result.iaqi) <= set(keys)
