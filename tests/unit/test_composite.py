"""Composite air-quality index and the HJ 663 percentile (pipeline.standards.composite)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.standards.composite import (
    COMPOSITE_KEYS,
    composite_index,
    percentile,
    round_half_up,
)
from pipeline.standards.tables import load_table

# The published worked example: 21/35 + 39/70 + 9/60 + 15/40 + 192/160 + 0.7/4 = 3.06
WORKED = {"pm25": 21, "pm10": 39, "so2": 9, "no2": 15, "o3": 192, "co": 0.7}


def test_worked_example_is_3_06() -> None:
    result = composite_index(WORKED)
    # by hand: PM2.5 21/35 = 0.6, PM10 39/70 = 0.557143, SO2 9/60 = 0.15, NO2 15/40 = 0.375,
    # O3 192/160 = 1.2, CO 0.7/4 = 0.175; sum = 3.057143 -> 3.06
    assert result.indices == pytest.approx(
        {"so2": 0.15, "no2": 0.375, "pm10": 39 / 70, "pm25": 0.6, "co": 0.175, "o3": 1.2}
    )
    assert result.composite == pytest.approx(3.0571428571)
    assert result.composite_rounded == 3.06
    assert result.primary == ("o3",)
    assert result.table == "composite_gb3095_2012"
    assert list(result.indices) == list(COMPOSITE_KEYS)


def test_to_dict_is_json_ready() -> None:
    d = composite_index(WORKED).to_dict()
    assert set(d) == {"indices", "composite", "composite_rounded", "primary", "table"}
    assert d["primary"] == ["o3"]
    json.dumps(d)


def test_ties_share_primary() -> None:
    # PM2.5 35/35 = NO2 40/40 = 1.0, the largest
    stats = {"so2": 6, "no2": 40, "pm10": 35, "pm25": 35, "co": 1.0, "o3": 80}
    assert composite_index(stats).primary == ("no2", "pm25")


def test_round_half_up() -> None:
    assert round_half_up(2.675, 2) == 2.68  # round() gives 2.67 (binary 2.67499...)
    assert round_half_up(3.0549999, 2) == 3.05
    assert round_half_up(3.055, 2) == 3.06


def test_revised_denominator_sets_are_separate_tables() -> None:
    # GB 3095-2026 transition: PM10 60, PM2.5 30; final: SO2 20, NO2 30, PM10 50, PM2.5 25
    # (their use in rankings is unverified)
    stats = {"so2": 20, "no2": 30, "pm10": 60, "pm25": 30, "co": 4, "o3": 160}
    transition = composite_index(stats, "composite_gb3095_2026_transition")
    assert transition.indices["pm10"] == transition.indices["pm25"] == 1.0
    final = composite_index({**stats, "pm10": 50, "pm25": 25}, "composite_gb3095_2026_final")
    assert final.composite == 6.0  # every I_i = 1
    assert final.table == "composite_gb3095_2026_final"


def test_every_table_weights_all_ones_over_the_six_keys() -> None:
    for name in (
        "composite_gb3095_2012",
        "composite_gb3095_2026_transition",
        "composite_gb3095_2026_final",
    ):
        pollutants = load_table(name)["pollutants"]
        assert tuple(pollutants) == COMPOSITE_KEYS
        assert {p["weight"] for p in pollutants.values()} == {1}
    denominators = [
        p["denominator"] for p in load_table("composite_gb3095_2012")["pollutants"].values()
    ]
    assert denominators == [60, 40, 70, 35, 4, 160]


@pytest.mark.parametrize(
    ("stats", "message"),
    [
        ({k: v for k, v in WORKED.items() if k != "co"}, "missing co"),
        ({**WORKED, "o3": None}, "missing o3"),
        ({**WORKED, "pm25": -1}, "pm25"),
        ({**WORKED, "nox": 30}, "nox"),
    ],
)
def test_invalid_statistics_raise(stats: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        composite_index(stats)


def test_percentile_hj663_check_value() -> None:
    # sorted 2 3 4 4 5 8; k = 1 + 5 * 0.9 = 5.5; X(5) + (X(6) - X(5)) * 0.5 = 5 + 3 * 0.5
    assert percentile([3, 4, 8, 2, 5, 4], 90) == 6.5


def test_percentile_edges() -> None:
    assert percentile([3, 1, 2], 0) == 1
    assert percentile([3, 1, 2], 100) == 3
    assert percentile([3, 1, 2], 50) == 2
    assert percentile([7.5], 95) == 7.5
    # k = 1 + 3 * 0.95 = 3.85 -> 3 + (4 - 3) * 0.85
    assert percentile([1, 2, 3, 4], 95) == pytest.approx(3.85)


@pytest.mark.parametrize(
    ("values", "p"), [([], 50), ([1.0], -1), ([1.0], 100.5), ([1.0, float("nan")], 50)]
)
def test_percentile_rejects(values: list[float], p: float) -> None:
    with pytest.raises(ValueError):
        percentile(values, p)


values = st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=50)
p = st.floats(min_value=0, max_value=100)


@given(values, p)
def test_percentile_lies_between_min_and_max(xs: list[float], q: float) -> None:
    assert min(xs) <= percentile(xs, q) <= max(xs)


@given(values, p, p)
def test_percentile_is_monotone_in_p(xs: list[float], a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert percentile(xs, low) <= percentile(xs, high)


@given(values, p)
def test_percentile_ignores_input_order(xs: list[float], q: float) -> None:
    assert percentile(xs, q) == percentile(list(reversed(xs)), q)


@given(st.fixed_dictionaries({k: st.floats(min_value=0, max_value=1e4) for k in COMPOSITE_KEYS}))
def test_composite_is_the_sum_of_indices(stats: dict[str, float]) -> None:
    result = composite_index(stats)
    assert result.composite == pytest.approx(sum(result.indices.values()))
    assert max(result.indices.values()) == result.indices[result.primary[0]]
