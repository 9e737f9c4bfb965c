"""US EPA AQI (EPA-454/B-24-002): TAD worked examples, Table 6 boundaries, truncation, rules."""

from __future__ import annotations

import math
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction
from itertools import pairwise

import pytest

from pipeline.standards.aqi import compute_aqi, sub_index
from pipeline.standards.tables import load_table

TABLE = load_table("us_epa_2024")
# Independent of the table file: 25 °C, 1 atm (ppb = ug/m3 * 24.45 / MW).
MW = {"O3": 48.00, "NO2": 46.01, "SO2": 64.07, "CO": 28.01}


def to_input(pollutant: str, native: float) -> float:
    """Native Table 6 units (O3/CO ppm, SO2/NO2 ppb, PM ug/m3) -> envmon units (ug/m3, CO mg/m3)."""
    if pollutant in ("O3",):
        return native * 1000 * MW["O3"] / 24.45
    if pollutant in ("SO2", "NO2", "CO"):  # ppb -> ug/m3; CO ppm -> mg/m3 (same factor)
        return native * MW[pollutant] / 24.45
    return native


def expected_index(row: str, value: float) -> int | None:
    """Truncate, Equation 1 in exact fractions, round half up; 301-500 slope beyond 500."""
    spec = TABLE["rows"][row]
    c = Fraction(Decimal(repr(value)).quantize(Decimal(1).scaleb(-spec["truncate"]), ROUND_DOWN))
    segments = [[Fraction(Decimal(repr(x))) for x in seg] for seg in spec["segments"]]
    if c < segments[0][0] or (c > segments[-1][1] and segments[-1][3] != 500):
        return None
    lo, hi, ilo, ihi = next(s for s in reversed(segments) if s[0] <= c)
    return math.floor((ihi - ilo) / (hi - lo) * (c - lo) + ilo + Fraction(1, 2))


# --- TAD worked examples (§IV) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "value", "index"),
    [
        ("O3_8h", 0.07853333, 126),  # truncated to 0.078: 101 + 49 / 0.014 * 0.007 = 125.5 -> 126
        ("O3_8h", 0.078, 126),
        ("O3_8h", 0.072, 105),  # 101 + 49 / 14 = 104.5: half up, not half even
        ("PM2.5_24h", 35.9, 102),
        ("CO_8h", 8.4, 90),
        # The TAD prints 148 for this example, but Equation 1 gives 147.487, which rounds to the
        # nearest integer (the TAD's own rule) as 147; 148 would need rounding up.
        ("O3_1h", 0.162, 147),
        ("O3_1h", 0.104, None),  # below 0.125 ppm: blank cell, disregarded
    ],
)
def test_tad_sub_index_examples(row: str, value: float, index: int | None) -> None:
    assert sub_index("epa", row, value) == index


def test_tad_multi_pollutant_example_in_envmon_units() -> None:
    conc = {"o3_8h": to_input("O3", 0.078), "pm25": 35.9, "co": to_input("CO", 8.4)}
    result = compute_aqi(conc, "day", "epa")
    assert result.iaqi == {"o3_8h": 126, "pm25": 102, "co": 90}
    assert (result.aqi, result.primary, result.exceeding) == (126, ("o3_8h",), ())
    assert (result.level, result.category_en, result.color) == (
        3,
        "Unhealthy for Sensitive Groups",
        "#FF7E00",
    )
    assert result.category_zh == "对敏感人群不健康"


def test_tad_ozone_1h_and_8h_examples() -> None:
    both = compute_aqi({"o3": to_input("O3", 0.162), "o3_8h": to_input("O3", 0.078)}, "hour", "epa")
    assert (both.aqi, both.primary, both.iaqi) == (147, ("o3",), {"o3": 147, "o3_8h": 126})
    low = compute_aqi({"o3": to_input("O3", 0.104), "o3_8h": to_input("O3", 0.078)}, "hour", "epa")
    assert (low.aqi, low.iaqi) == (126, {"o3_8h": 126})


# --- Table 6 boundaries --------------------------------------------------------------------------


def segment_cases() -> list[tuple[str, int]]:
    return [(row, i) for row, spec in TABLE["rows"].items() for i in range(len(spec["segments"]))]


@pytest.mark.parametrize(("row", "i"), segment_cases())
def test_every_segment_boundary(row: str, i: int) -> None:
    spec = TABLE["rows"][row]
    segments, unit = spec["segments"], Decimal(1).scaleb(-spec["truncate"])
    lo, hi, ilo, ihi = segments[i]

    def step(x: float, units: str) -> float:  # x + units * unit, in decimal arithmetic
        return float(Decimal(repr(x)) + Decimal(units) * unit)

    assert sub_index("epa", row, lo) == ilo
    assert sub_index("epa", row, hi) == ihi
    assert sub_index("epa", row, step(hi, "0.9")) == ihi  # truncated back to hi
    if i == 0 and lo > 0:
        assert sub_index("epa", row, step(lo, "-1")) is None  # blank cell below the table
    elif i > 0:
        assert sub_index("epa", row, step(lo, "-1")) == segments[i - 1][3]
    above = sub_index("epa", row, step(hi, "1"))
    assert above == expected_index(row, step(hi, "1"))
    if i + 1 < len(segments):
        assert above == segments[i + 1][2]
    mid = round((lo + hi) / 2, spec["truncate"])
    assert sub_index("epa", row, mid) == expected_index(row, mid)


KEYS = {  # Table 6 row -> (report, input key) in envmon units
    "O3_8h": ("day", "o3_8h"),
    "O3_1h": ("day", "o3"),
    "PM2.5_24h": ("day", "pm25"),
    "PM10_24h": ("day", "pm10"),
    "CO_8h": ("day", "co"),
    "SO2_1h": ("hour", "so2"),
    "NO2_1h": ("day", "no2"),
}


@pytest.mark.parametrize(("row", "i"), [c for c in segment_cases() if c[0] in KEYS])
def test_boundaries_survive_the_unit_conversion(row: str, i: int) -> None:
    report, key = KEYS[row]
    lo, hi, ilo, ihi = TABLE["rows"][row]["segments"][i]
    pollutant = row.split("_")[0]
    for native, index in ((lo, ilo), (hi, ihi)):
        result = compute_aqi({key: to_input(pollutant, native)}, report, "epa")  # type: ignore[arg-type]
        assert result.iaqi == {key: index}


@pytest.mark.parametrize(
    ("row", "value", "index"),
    [
        ("PM2.5_24h", 9.0, 50),
        ("PM2.5_24h", 9.05, 50),  # truncated to 9.0, not rounded to 9.1
        ("PM2.5_24h", 9.1, 51),
        ("PM2.5_24h", 35.45, 100),
        ("PM2.5_24h", 325.4, 500),
        ("PM2.5_24h", 400.0, 649),  # beyond 500: 301 + 199 * 174.5 / 99.9 = 648.6
        ("PM10_24h", 54.9, 50),
        ("PM10_24h", 55, 51),
        ("NO2_1h", 100, 100),
        ("NO2_1h", 101, 101),
        ("SO2_1h", 304, 200),
        ("SO2_1h", 305, None),  # 1-h SO2 does not define AQI > 200
        ("SO2_24h", 304, None),
        ("SO2_24h", 700, 348),  # 301 + 199 * 95 / 399 = 348.4
        ("O3_8h", 0.200, 300),
        ("O3_8h", 0.201, None),  # footnote 2: use the 1-h value
        ("O3_1h", 0.405, 301),
        ("CO_8h", 50.4, 500),
    ],
)
def test_hand_computed_indices(row: str, value: float, index: int | None) -> None:
    assert sub_index("epa", row, value) == index


# --- Special rules -------------------------------------------------------------------------------


def so2(ppb: float) -> float:
    return to_input("SO2", ppb)


@pytest.mark.parametrize(
    ("conc", "iaqi"),
    [
        ({"so2": so2(304)}, {"so2": 200}),
        ({"so2": so2(305)}, {"so2": 200}),  # no 24-h value: fixed at 200
        ({"so2": so2(305), "so2_24h": so2(200)}, {"so2": 200}),  # 24-h < 305 ppb: fixed at 200
        ({"so2": so2(305), "so2_24h": so2(305)}, {"so2_24h": 201}),
        ({"so2": so2(400), "so2_24h": so2(700)}, {"so2_24h": 348}),
        ({"so2": so2(100), "so2_24h": so2(700)}, {"so2": 112}),  # 101 + 49 * 24 / 109 = 111.8
    ],
)
def test_so2_hourly_rules(conc: dict[str, float], iaqi: dict[str, int]) -> None:
    assert compute_aqi(conc, "hour", "epa").iaqi == iaqi


def test_so2_daily_mean_at_or_above_305_ppb_uses_the_24h_rows() -> None:
    assert compute_aqi({"so2": so2(700)}, "day", "epa").iaqi == {"so2": 348}
    assert compute_aqi({"so2": so2(304)}, "day", "epa").iaqi == {"so2": 200}


def test_o3_8h_above_0_200_ppm_uses_the_1h_value() -> None:
    conc = {"o3_8h": to_input("O3", 0.250), "o3": to_input("O3", 0.405)}
    assert compute_aqi(conc, "hour", "epa").iaqi == {"o3": 301}
    assert compute_aqi({"o3_8h": to_input("O3", 0.250)}, "day", "epa").aqi is None


def test_hourly_pm_prefers_the_24h_average() -> None:
    assert compute_aqi({"pm25": 35.9}, "hour", "epa").iaqi == {"pm25": 102}
    both = compute_aqi({"pm25": 35.9, "pm25_24h": 9.0, "pm10": 600}, "hour", "epa")
    assert both.iaqi == {"pm25_24h": 50, "pm10": 496}  # 301 + 199 * 175 / 179 = 495.6
    assert compute_aqi({"pm25": 35.9, "pm25_24h": None}, "hour", "epa").iaqi == {"pm25": 102}


def test_above_500_is_extrapolated_and_hazardous() -> None:
    result = compute_aqi({"pm25": 400.0}, "day", "epa")
    assert (result.aqi, result.level, result.category_en, result.color) == (
        649,
        6,
        "Hazardous",
        "#7E0023",
    )


@pytest.mark.parametrize(
    ("pm25", "level", "en", "zh", "color"),
    [
        (9.0, 1, "Good", "优", "#00E400"),
        (9.1, 2, "Moderate", "良", "#FFFF00"),
        (35.5, 3, "Unhealthy for Sensitive Groups", "对敏感人群不健康", "#FF7E00"),
        (55.5, 4, "Unhealthy", "不健康", "#FF0000"),
        (125.5, 5, "Very Unhealthy", "非常不健康", "#8F3F97"),
        (225.5, 6, "Hazardous", "危险", "#7E0023"),
    ],
)
def test_categories(pm25: float, level: int, en: str, zh: str, color: str) -> None:
    result = compute_aqi({"pm25": pm25}, "day", "epa")
    assert (result.level, result.category_en, result.category_zh, result.color) == (
        level,
        en,
        zh,
        color,
    )


def test_primary_and_exceeding() -> None:
    at_50 = compute_aqi({"pm25": 9.0, "pm10": 54}, "day", "epa")
    assert (at_50.aqi, at_50.primary) == (50, ())
    tie = compute_aqi({"pm25": 35.4, "pm10": 154}, "day", "epa")
    assert (tie.aqi, tie.primary, tie.exceeding) == (100, ("pm25", "pm10"), ())


def test_table_rows_are_contiguous_at_the_truncation_precision() -> None:
    for spec in TABLE["rows"].values():
        unit = Decimal(1).scaleb(-spec["truncate"])
        segments = spec["segments"]
        for (_, hi, _, ihi), (lo, _, ilo, _) in pairwise(segments):
            assert Decimal(repr(lo)) - Decimal(repr(hi)) == unit and ilo == ihi + 1
