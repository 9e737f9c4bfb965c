"""HJ 633-2012 and HJ 633-2026 AQI: breakpoints, rounding, edition rules and edition selection."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from itertools import pairwise

import pytest

from pipeline.standards.aqi import STANDARDS, compute_aqi, resolve_edition, sub_index
from pipeline.standards.tables import load_table

CST = timezone(timedelta(hours=8))
EDITIONS = {"hj633-2012": "hj633_2012", "hj633-2026": "hj633_2026"}


def expected_iaqi(edition: str, row: str, c: float) -> int:
    """Formula (1) in exact fractions, rounded up (§6.2); 2026 inputs rounded first (§4.2.2)."""
    table = load_table(EDITIONS[edition])
    concs, levels = table["breakpoints"][row], table["iaqi_levels"]
    x = Fraction(Decimal(repr(c)))
    if edition == "hj633-2026":
        places = Decimal(1).scaleb(-1 if row.startswith("CO") else 0)
        x = Fraction(Decimal(repr(c)).quantize(places, ROUND_HALF_EVEN))
    if x > concs[-1]:
        return 500
    i = max(i for i, bp in enumerate(concs[:-1]) if bp <= x)
    lo, hi, ilo, ihi = concs[i], concs[i + 1], levels[i], levels[i + 1]
    return math.ceil(Fraction(ihi - ilo, 1) / (hi - lo) * (x - lo) + ilo)


def boundary_cases() -> list[tuple[str, str, int, float]]:
    """(edition, row, index of the breakpoint, breakpoint) for every breakpoint of every row."""
    return [
        (edition, row, i, bp)
        for edition, name in EDITIONS.items()
        for row, concs in load_table(name)["breakpoints"].items()
        for i, bp in enumerate(concs)
    ]


@pytest.mark.parametrize(("edition", "row", "i", "bp"), boundary_cases())
def test_every_breakpoint_at_below_and_above(edition: str, row: str, i: int, bp: float) -> None:
    table = load_table(EDITIONS[edition])
    levels, concs = table["iaqi_levels"], table["breakpoints"][row]
    # 2026 rounds inputs: step by one unit of the kept precision; 2012 uses small steps.
    step = Decimal(("0.1" if row.startswith("CO") else "1") if edition == "hj633-2026" else "0.01")
    below, above = float(bp - step), float(bp + step)
    assert sub_index(edition, row, bp) == levels[i]
    if i > 0:
        iaqi_below = sub_index(edition, row, below)
        assert iaqi_below == expected_iaqi(edition, row, below)
        assert levels[i - 1] < iaqi_below <= levels[i]
    iaqi_above = sub_index(edition, row, above)
    if i < len(concs) - 1:
        assert iaqi_above == expected_iaqi(edition, row, above)
        assert levels[i] < iaqi_above <= levels[i + 1]
    else:  # beyond the table: IAQI 500 by convention, or the edition rule (rows ending below 500)
        assert iaqi_above == (500 if levels[i] == 500 else None)


@pytest.mark.parametrize(
    ("edition", "row", "c", "iaqi"),
    [
        # hand-computed: ceil(IAQI_Lo + (IAQI_Hi - IAQI_Lo) / (BP_Hi - BP_Lo) * (C - BP_Lo))
        ("hj633-2012", "PM2.5_24h", 0, 0),
        ("hj633-2012", "PM2.5_24h", 35, 50),
        ("hj633-2012", "PM2.5_24h", 35.1, 51),  # 50.125
        ("hj633-2012", "PM2.5_24h", 75, 100),  # exact, not 101
        ("hj633-2012", "PM2.5_24h", 75.1, 101),  # 100.125 -> ceiling
        ("hj633-2012", "PM2.5_24h", 115, 150),
        # exact integers inside a segment, where a plain float ceil would give one more
        ("hj633-2012", "PM2.5_24h", 4.9, 7),  # 50 / 35 * 4.9 = 7
        ("hj633-2012", "CO_24h", 2.2, 55),  # 50 + 25 * 0.2
        ("hj633-2012", "O3_1h", 160.8, 51),  # 50 + 50 / 40 * 0.8
        ("hj633-2012", "PM10_24h", 352.1, 203),  # 200 + 100 / 70 * 2.1
        ("hj633-2012", "PM2.5_24h", 500, 500),
        ("hj633-2012", "PM2.5_24h", 501, 500),  # cap
        ("hj633-2012", "PM10_24h", 150, 100),
        ("hj633-2012", "PM10_24h", 151, 101),  # 100.5
        ("hj633-2012", "SO2_24h", 700, 185),  # 150 + 50 * 225 / 325 = 184.6
        ("hj633-2012", "SO2_1h", 800, 200),
        ("hj633-2012", "SO2_1h", 801, None),  # note (2): not computed from the 1-h row
        ("hj633-2012", "O3_8h", 800, 300),
        ("hj633-2012", "O3_8h", 801, None),
        ("hj633-2012", "O3_1h", 1200, 500),
        ("hj633-2012", "CO_1h", 5.04, 51),  # no input rounding under 2012: 50.4 -> 51
        ("hj633-2012", "CO_24h", 4, 100),
        ("hj633-2012", "NO2_1h", 1200, 200),
        ("hj633-2026", "PM2.5_24h", 60, 100),
        ("hj633-2026", "PM2.5_24h", 60.4, 100),  # rounds to 60
        ("hj633-2026", "PM2.5_24h", 60.5, 100),  # half-even: 60
        ("hj633-2026", "PM2.5_24h", 61, 101),  # 100 + 50 / 55 = 100.9
        ("hj633-2026", "PM2.5_24h", 61.5, 102),  # half-even: 62 -> 101.8
        ("hj633-2026", "PM2.5_24h", 59.5, 100),  # half-even: 60
        ("hj633-2026", "PM2.5_24h", 58.5, 96),  # half-even: 58 -> 50 + 23 * 2 = 96
        ("hj633-2026", "PM2.5_24h", 75, 114),  # 100 + 15 * 50 / 55 = 113.6
        ("hj633-2026", "PM10_24h", 120, 100),
        ("hj633-2026", "PM10_24h", 150, 112),  # 100 + 30 * 50 / 130 = 111.5
        ("hj633-2026", "CO_1h", 5.04, 50),  # rounds to 5.0
        ("hj633-2026", "CO_1h", 5.05, 50),  # half-even: 5.0
        ("hj633-2026", "CO_1h", 5.06, 51),  # 5.1
        ("hj633-2026", "CO_1h", 5.15, 52),  # half-even: 5.2
        ("hj633-2026", "CO_1h", 5.25, 52),  # half-even: 5.2
        ("hj633-2026", "CO_1h", 0.35, 4),  # half-even on the written value: 0.4 (not 0.3)
        ("hj633-2026", "SO2_1h", 800.4, 200),  # rounds to 800
    ],
)
def test_hand_computed_iaqi(edition: str, row: str, c: float, iaqi: int | None) -> None:
    assert sub_index(edition, row, c) == iaqi


def test_pm_breakpoints_changed_in_2026() -> None:
    assert sub_index("hj633-2012", "PM2.5_24h", 60) == 82  # 50 + 25 * 50 / 40 = 81.25
    assert sub_index("hj633-2026", "PM2.5_24h", 60) == 100
    assert sub_index("hj633-2012", "PM10_24h", 120) == 85
    assert sub_index("hj633-2026", "PM10_24h", 120) == 100


# --- Edition rules -------------------------------------------------------------------------------


def aqi(conc: dict[str, float | None], report: str, edition: str) -> tuple[int | None, dict]:
    result = compute_aqi(conc, report, edition)  # type: ignore[arg-type]
    return result.aqi, result.iaqi


def test_so2_1h_above_800_2012_uses_the_24h_average() -> None:
    assert aqi({"so2": 800, "so2_24h": 700}, "hour", "hj633-2012") == (200, {"so2": 200})
    assert aqi({"so2": 801, "so2_24h": 700}, "hour", "hj633-2012") == (185, {"so2_24h": 185})
    assert aqi({"so2": 801, "so2_24h": 3000}, "hour", "hj633-2012") == (500, {"so2_24h": 500})
    assert aqi({"so2": 801}, "hour", "hj633-2012") == (None, {})
    assert aqi({"so2": 801, "so2_24h": None}, "hour", "hj633-2012") == (None, {})
    assert aqi({"so2_24h": 700}, "hour", "hj633-2012") == (None, {})  # companion only


def test_so2_1h_above_800_2026_is_200() -> None:
    assert aqi({"so2": 800}, "hour", "hj633-2026") == (200, {"so2": 200})
    assert aqi({"so2": 801, "so2_24h": 10}, "hour", "hj633-2026") == (200, {"so2": 200})
    assert aqi({"so2": 5000}, "hour", "hj633-2026") == (200, {"so2": 200})


@pytest.mark.parametrize("report", ["hour", "day"])
def test_o3_8h_above_800_2012_uses_the_1h_iaqi(report: str) -> None:
    assert aqi({"o3_8h": 800, "o3": 300}, report, "hj633-2012") == (300, {"o3_8h": 300, "o3": 150})
    assert aqi({"o3_8h": 801, "o3": 300}, report, "hj633-2012") == (150, {"o3": 150})
    assert aqi({"o3_8h": 801}, report, "hj633-2012") == (None, {})


def test_o3_8h_above_800_2026_is_300() -> None:
    assert aqi({"o3_8h": 800}, "day", "hj633-2026") == (300, {"o3_8h": 300})
    assert aqi({"o3_8h": 801}, "day", "hj633-2026") == (300, {"o3_8h": 300})


def test_realtime_pm_2012_uses_the_24h_moving_average() -> None:
    conc = {"pm25": 300, "pm10": 600, "pm25_24h": 50, "pm10_24h": 100}
    assert aqi(conc, "hour", "hj633-2012") == (75, {"pm25_24h": 69, "pm10_24h": 75})


def test_realtime_pm_2026_uses_the_1h_value_with_daily_breakpoints() -> None:
    conc = {"pm25": 61, "pm10": 120, "pm25_24h": 300, "pm10_24h": 600}
    assert aqi(conc, "hour", "hj633-2026") == (101, {"pm25": 101, "pm10": 100})


def test_realtime_2026_ignores_o3_8h() -> None:
    assert aqi({"o3": 160, "o3_8h": 700}, "hour", "hj633-2026") == (50, {"o3": 50})


def test_daily_o3_1h_counts_in_2012_only() -> None:
    conc = {"o3": 400, "o3_8h": 100, "pm25": 35}
    assert aqi(conc, "day", "hj633-2012") == (200, {"o3": 200, "o3_8h": 50, "pm25": 50})
    assert aqi(conc, "day", "hj633-2026") == (50, {"o3_8h": 50, "pm25": 50})


def test_daily_uses_the_24h_rows() -> None:
    conc = {"so2": 150, "no2": 80, "co": 4, "pm10": 150, "pm25": 75}
    result = compute_aqi(conc, "day", "hj633-2012")
    assert result.iaqi == dict.fromkeys(conc, 100)
    assert result.primary == tuple(conc)  # a five-way tie
    assert result.exceeding == ()  # IAQI exactly 100 does not exceed


def test_exceeding_pollutants_2012_only() -> None:
    conc = {"pm25_24h": 75.1, "pm10_24h": 150, "no2": 1200}
    r2012 = compute_aqi(conc, "hour", "hj633-2012")
    assert r2012.exceeding == ("pm25_24h", "no2")
    assert r2012.primary == ("no2",)
    conc_2026 = {"pm25": 300, "no2": 1200}
    assert compute_aqi(conc_2026, "hour", "hj633-2026").exceeding == ()


# --- Primary pollutants and levels ---------------------------------------------------------------


def test_primary_only_above_50() -> None:
    at_50 = compute_aqi({"pm25_24h": 35, "pm10_24h": 50}, "hour", "hj633-2012")
    assert (at_50.aqi, at_50.primary) == (50, ())
    at_51 = compute_aqi({"pm25_24h": 35, "pm10_24h": 51}, "hour", "hj633-2012")
    assert (at_51.aqi, at_51.primary) == (51, ("pm10_24h",))


def test_primary_ties_list_all() -> None:
    result = compute_aqi({"pm25": 60, "pm10": 120, "no2": 10}, "hour", "hj633-2026")
    assert result.primary == ("pm25", "pm10")


@pytest.mark.parametrize(
    ("pm10", "aqi", "level", "zh", "en", "color"),
    [  # PM10 24-h, HJ 633-2012: slope 1, then 0.5 up to 350, then 100/70 and 100/80
        (0, 0, 1, "优", "Excellent", "#00E400"),
        (50, 50, 1, "优", "Excellent", "#00E400"),
        (51, 51, 2, "良", "Good", "#FFFF00"),
        (150, 100, 2, "良", "Good", "#FFFF00"),
        (151, 101, 3, "轻度污染", "Lightly polluted", "#FF7E00"),
        (250, 150, 3, "轻度污染", "Lightly polluted", "#FF7E00"),
        (251, 151, 4, "中度污染", "Moderately polluted", "#FF0000"),
        (350, 200, 4, "中度污染", "Moderately polluted", "#FF0000"),
        (350.7, 201, 5, "重度污染", "Heavily polluted", "#99004C"),
        (420, 300, 5, "重度污染", "Heavily polluted", "#99004C"),
        (420.8, 301, 6, "严重污染", "Severely polluted", "#7E0023"),
        (600, 500, 6, "严重污染", "Severely polluted", "#7E0023"),
        (601, 500, 6, "严重污染", "Severely polluted", "#7E0023"),
    ],
)
def test_levels_and_colours(
    pm10: float, aqi: int, level: int, zh: str, en: str, color: str
) -> None:
    result = compute_aqi({"pm10": pm10}, "day", "hj633-2012")
    assert (result.aqi, result.level, result.category_zh) == (aqi, level, zh)
    assert (result.category_en, result.color) == (en, color)


# --- Edition selection ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "edition"),
    [
        (datetime(2026, 2, 28, 23, 59, 59, tzinfo=CST), "hj633-2012"),
        (datetime(2026, 3, 1, 0, 0, tzinfo=CST), "hj633-2026"),
        (datetime(2026, 2, 28, 15, 59, 59, tzinfo=UTC), "hj633-2012"),
        (datetime(2026, 2, 28, 16, 0, tzinfo=UTC), "hj633-2026"),  # == 2026-03-01T00:00+08:00
        (datetime(2020, 1, 1, tzinfo=UTC), "hj633-2012"),
        (None, "hj633-2026"),
    ],
)
def test_resolve_hj633_by_event_time(at: datetime | None, edition: str) -> None:
    assert resolve_edition("hj633", at) == edition


def test_explicit_editions_ignore_the_time() -> None:
    late = datetime(2027, 1, 1, tzinfo=UTC)
    assert resolve_edition("hj633-2012", late) == "hj633-2012"
    assert resolve_edition("hj633-2026", datetime(2020, 1, 1, tzinfo=UTC)) == "hj633-2026"
    assert resolve_edition("epa", late) == "epa"
    assert STANDARDS == ("hj633", "hj633-2012", "hj633-2026", "epa")


def test_compute_aqi_follows_the_event_time() -> None:
    conc = {"pm25": 61, "pm25_24h": 35}
    before = compute_aqi(conc, "hour", at=datetime(2026, 2, 28, 15, 59, 59, tzinfo=UTC))
    after = compute_aqi(conc, "hour", at=datetime(2026, 2, 28, 16, 0, tzinfo=UTC))
    assert (before.standard, before.aqi, before.iaqi) == ("hj633-2012", 50, {"pm25_24h": 50})
    assert (after.standard, after.aqi, after.iaqi) == ("hj633-2026", 101, {"pm25": 101})
    assert compute_aqi(conc, "hour").standard == "hj633-2026"


def test_unknown_standard_names_the_allowed_values() -> None:
    with pytest.raises(ValueError, match=r"'hj633-2020'.*hj633, hj633-2012, hj633-2026, epa"):
        resolve_edition("hj633-2020", None)


def test_naive_time_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        resolve_edition("hj633", datetime(2026, 3, 1))


# --- Input handling ------------------------------------------------------------------------------


def test_missing_values_are_skipped() -> None:
    result = compute_aqi({"pm25": None, "pm10": math.nan, "no2": 100}, "hour", "hj633-2026")
    assert (result.aqi, result.iaqi) == (50, {"no2": 50})


def test_no_iaqi_gives_an_empty_result() -> None:
    result = compute_aqi({"pm25": None}, "day", "hj633-2012")
    assert result.to_dict() == {
        "aqi": None,
        "level": None,
        "category_zh": None,
        "category_en": None,
        "color": None,
        "primary": [],
        "exceeding": [],
        "iaqi": {},
        "standard": "hj633-2012",
    }


@pytest.mark.parametrize(
    ("conc", "report", "message"),
    [
        ({"pm2.5": 10}, "hour", "'pm2.5'"),
        ({"pm25_24h": 10}, "day", "'pm25_24h'"),  # an hourly-only key in a daily report
        ({"no2": -1}, "hour", "no2"),
        ({"pm10": -0.1}, "hour", "pm10"),  # checked even where the edition ignores the key
        ({"so2": 900, "so2_24h": -5}, "hour", "so2_24h"),
        ({"co": math.inf}, "day", "co"),
        ({"pm25": 1e300}, "day", "pm25"),
    ],
)
def test_invalid_input_names_the_key(conc: dict, report: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compute_aqi(conc, report, "hj633-2012")  # type: ignore[arg-type]


def test_unknown_report() -> None:
    with pytest.raises(ValueError, match="'week'"):
        compute_aqi({}, "week")  # type: ignore[arg-type]


def test_to_dict_is_json_ready() -> None:
    result = compute_aqi({"pm25_24h": 75.1, "pm10_24h": 10}, "hour", "hj633-2012")
    assert json.loads(json.dumps(result.to_dict())) == {
        "aqi": 101,
        "level": 3,
        "category_zh": "轻度污染",
        "category_en": "Lightly polluted",
        "color": "#FF7E00",
        "primary": ["pm25_24h"],
        "exceeding": ["pm25_24h"],
        "iaqi": {"pm25_24h": 101, "pm10_24h": 10},
        "standard": "hj633-2012",
    }


# --- Data files ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", EDITIONS.values())
def test_rule_summaries_match_the_indicator_maps(name: str) -> None:
    table = load_table(name)
    rules, hour, day = table["rules"], table["indicators"]["hour"], table["indicators"]["day"]
    pm_keys = {k for k, row in hour.items() if row and row.startswith("PM")}
    hourly = rules["realtime_pm_source"] == "hourly"
    assert pm_keys == ({"pm10", "pm25"} if hourly else {"pm10_24h", "pm25_24h"})
    assert (day["o3"] == "O3_1h") is rules["daily_o3_1h"]


@pytest.mark.parametrize("name", EDITIONS.values())
def test_breakpoints_increase_and_levels_cover_0_to_500(name: str) -> None:
    table = load_table(name)
    for concs in table["breakpoints"].values():
        assert concs[0] == 0 and all(a < b for a, b in pairwise(concs))
    bounds = [(lv["aqi_min"], lv["aqi_max"]) for lv in table["levels"]]
    assert bounds == [(0, 50), (51, 100), (101, 150), (151, 200), (201, 300), (301, None)]
