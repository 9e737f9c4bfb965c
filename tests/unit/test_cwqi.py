"""City Water Quality Index (pipeline.standards.cwqi)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.standards.cwqi import TABLE, city_cwqi, cwqi
from pipeline.standards.tables import load_table
from pipeline.standards.water import TABLE as GB3838

SECTION = {"ph": 8.0, "do": 4.0, "codmn": 3.0, "nh3n": 0.5, "tp": 0.1}


def test_hand_computed_river_section() -> None:
    result = cwqi(SECTION)
    # pH (8 - 7)/2 = 0.5; DO 5/4 = 1.25; CODMn 3/6 = 0.5; NH3-N 0.5/1 = 0.5; TP 0.1/0.2 = 0.5
    assert result.indices == pytest.approx(
        {"ph": 0.5, "do": 1.25, "codmn": 0.5, "nh3n": 0.5, "tp": 0.5}
    )
    assert result.cwqi == pytest.approx(3.25)
    assert result.partial


def test_lake_uses_the_lake_tp_limit() -> None:
    # TP 0.1 / 0.05 = 2.0 instead of 0.5: 3.25 - 0.5 + 2.0
    assert cwqi(SECTION, lake=True).cwqi == pytest.approx(4.75)


@pytest.mark.parametrize(
    ("ph", "index"), [(6, 1.0), (6.5, 0.5), (7, 0.0), (8, 0.5), (9, 1.0), (10, 1.5)]
)
def test_ph_formula(ph: float, index: float) -> None:
    assert cwqi({"ph": ph}).cwqi == pytest.approx(index)


def test_all_21_items_are_not_partial() -> None:
    params = load_table(TABLE)["parameters"]
    assert len(params) == 21
    full = cwqi(dict.fromkeys(params, 1.0))
    assert not full.partial
    assert full.to_dict()["partial"] is False
    json.dumps(full.to_dict())


def test_denominators_are_the_gb3838_class_iii_limits() -> None:
    water = load_table(GB3838)["parameters"]
    for key, spec in load_table(TABLE)["parameters"].items():
        if spec["formula"] == "ph":
            assert spec["range"] == water[key]["range"]
            continue
        limits = water[key]["limits"]
        standard = spec["standard"]
        if isinstance(limits, dict):
            assert standard == {kind: row[2] for kind, row in limits.items()}, key
        else:
            assert standard == limits[2], key


def test_tn_and_none_are_skipped() -> None:
    assert cwqi({"tn": 3.0, "nh3n": 2.0, "cod": None}).indices == {"nh3n": 2.0}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"do": 0.0}, "do"),
        ({"nh3n": -1.0}, "nh3n"),
        ({"temperature": 20.0}, "temperature"),
        ({"tn": 1.0}, "no CWQI parameter"),
        ({}, "no CWQI parameter"),
    ],
)
def test_invalid_input_raises(values: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cwqi(values)


def test_city_averages_concentrations_before_indexing() -> None:
    sections = [{"do": 2.0, "codmn": 4.0, "nh3n": 1.0}, {"do": 8.0, "codmn": 8.0, "nh3n": None}]
    result = city_cwqi(sections)
    # means: DO 5, CODMn 6, NH3-N 1.0 (one section) -> 5/5 + 6/6 + 1/1 = 3.0
    # (averaging the section DO indices instead would give (2.5 + 0.625)/2 = 1.5625 for DO)
    assert result.indices == pytest.approx({"do": 1.0, "codmn": 1.0, "nh3n": 1.0})
    assert result.cwqi == pytest.approx(3.0)


def test_city_rejects_bad_sections() -> None:
    with pytest.raises(ValueError, match="tp"):
        city_cwqi([{"tp": -0.1}, {"tp": 0.3}])
    with pytest.raises(ValueError):
        city_cwqi([])


concentration = st.floats(min_value=0.01, max_value=1e3)
sections = st.lists(
    st.fixed_dictionaries({"codmn": concentration, "do": concentration, "tp": concentration}),
    min_size=1,
    max_size=10,
)


@given(sections)
def test_city_of_identical_sections_equals_the_section(items: list[dict[str, float]]) -> None:
    section = items[0]
    assert city_cwqi([section] * len(items)).cwqi == pytest.approx(cwqi(section).cwqi)


@given(st.floats(min_value=0, max_value=100), st.floats(min_value=0, max_value=100))
def test_index_grows_with_concentration(a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert cwqi({"cod": low}).cwqi <= cwqi({"cod": high}).cwqi
