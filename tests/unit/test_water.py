"""GB 3838-2002 single-factor water class (pipeline.standards.water)."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.standards.tables import load_table
from pipeline.standards.water import (
    TABLE,
    WATER_KEYS,
    Exceedance,
    WaterClass,
    classify_water,
)

I, II, III, IV, V, WORSE = (  # noqa: E741 - the standard's class names
    WaterClass.I,
    WaterClass.II,
    WaterClass.III,
    WaterClass.IV,
    WaterClass.V,
    WaterClass.WORSE_THAN_V,
)

# GB 3838-2002 Table 1 limits [I..V], typed from the reference (independent of the YAML table).
UPPER_LIMITS = [
    ("codmn", False, [2, 4, 6, 10, 15]),
    ("cod", False, [15, 15, 20, 30, 40]),
    ("bod5", False, [3, 3, 4, 6, 10]),
    ("nh3n", False, [0.15, 0.5, 1.0, 1.5, 2.0]),
    ("tp", False, [0.02, 0.1, 0.2, 0.3, 0.4]),
    ("tp", True, [0.01, 0.025, 0.05, 0.1, 0.2]),
    ("tn", True, [0.2, 0.5, 1.0, 1.5, 2.0]),
]
DO_LIMITS = [7.5, 6, 5, 3, 2]


def class_of(key: str, value: float, lake: bool = False) -> WaterClass:
    return classify_water({key: value}, lake=lake).per_parameter[key]


def above(x: float) -> float:
    return math.nextafter(x, math.inf)


def below(x: float) -> float:
    return math.nextafter(x, -math.inf)


def boundary_cases(limits: list[float]) -> list[tuple[float, WaterClass, WaterClass]]:
    """(limit, class at and just inside it, class just outside); shared limits -> better class."""
    return [
        (
            limit,
            WaterClass(limits.index(limit) + 1),
            WaterClass(limits.index(limit) + 1 + limits.count(limit)),
        )
        for limit in dict.fromkeys(limits)
    ]


@pytest.mark.parametrize(("key", "lake", "limits"), UPPER_LIMITS)
def test_upper_limit_boundaries_are_inclusive(key: str, lake: bool, limits: list[float]) -> None:
    for limit, inside, outside in boundary_cases(limits):
        assert class_of(key, limit, lake) == inside, (key, limit)
        assert class_of(key, below(limit), lake) == inside, (key, limit)
        assert class_of(key, above(limit), lake) == outside, (key, limit)


def test_shared_limits_take_the_better_class() -> None:
    assert class_of("cod", 15) == I
    assert class_of("cod", 15.01) == III
    assert class_of("bod5", 3) == I
    assert class_of("bod5", 3.5) == III
    assert class_of("codmn", 0) == I
    assert class_of("nh3n", 2.5) == WORSE


def test_do_is_a_lower_bound() -> None:
    for k, limit in enumerate(DO_LIMITS, start=1):
        assert class_of("do", limit) == WaterClass(k)
        assert class_of("do", above(limit)) == WaterClass(k)
        assert class_of("do", below(limit)) == WaterClass(k + 1)
    assert class_of("do", 5.0) == III
    assert class_of("do", 4.99) == IV
    assert class_of("do", 1.99) == WORSE
    assert class_of("do", 12) == I


def test_tp_river_and_lake_limits_differ() -> None:
    assert class_of("tp", 0.1) == II
    assert class_of("tp", 0.1, lake=True) == IV


def test_ph_range_does_not_worsen_the_class() -> None:
    for ph in (6, 7, 9, above(6), below(9)):
        assert class_of("ph", ph) == I
    for ph in (below(6), above(9), 0, 14):
        assert class_of("ph", ph) == WORSE
    assert classify_water({"ph": 7.2, "codmn": 5}).water_class == III


def test_tn_is_assessed_for_lakes_only() -> None:
    river = classify_water({"tn": 5.0, "codmn": 1.0})
    assert river.water_class == I
    assert "tn" not in river.per_parameter
    assert classify_water({"tn": 5.0, "codmn": 1.0}, lake=True).water_class == WORSE
    with pytest.raises(ValueError, match="no assessable"):
        classify_water({"tn": 5.0})


def test_other_table_1_items_are_accepted() -> None:
    result = classify_water({"hg": 0.0001, "cu": 0.02, "as": 0.05, "volatile_phenol": 0.05})
    assert result.per_parameter == {"cu": II, "as": I, "hg": III, "volatile_phenol": V}
    assert result.water_class == V


def test_overall_class_and_deciding_keys() -> None:
    result = classify_water({"do": 8, "nh3n": 1.2, "codmn": 7, "ph": 7.5, "tp": None})
    assert result.water_class == IV
    assert result.per_parameter == {"ph": I, "do": I, "codmn": IV, "nh3n": IV}
    assert result.deciding == ("codmn", "nh3n")  # table order, every key at the worst class
    assert result.failing == ()  # no target


def test_failing_multiples_against_the_target_limit() -> None:
    result = classify_water(
        {"nh3n": 2.5, "do": 4.0, "ph": 9.5, "cod": 18, "tp": 0.1, "codmn": 6},
        target=III,
    )
    assert result.water_class == WORSE
    by_key = {e.key: e for e in result.failing}
    assert set(by_key) == {
        "nh3n",
        "do",
        "ph",
    }  # cod 18 is III, tp 0.1 (river) is II, codmn 6 is III
    # NH3-N: (2.5 - 1.0) / 1.0 = 1.5
    assert by_key["nh3n"] == Exceedance("nh3n", 2.5, 1.0, pytest.approx(1.5))
    # DO: (5 - 4) / 5 = 0.2 (fraction short of the Class III lower bound)
    assert by_key["do"] == Exceedance("do", 4.0, 5, pytest.approx(0.2))
    # pH: the violated bound, no multiple
    assert by_key["ph"] == Exceedance("ph", 9.5, 9, None)
    assert classify_water({"ph": 5.5}, target=I).failing == (Exceedance("ph", 5.5, 6, None),)


def test_failing_uses_the_target_class_and_water_body() -> None:
    # COD 18 vs target II (limit 15): (18 - 15) / 15 = 0.2
    (cod,) = classify_water({"cod": 18}, target=II).failing
    assert (cod.limit, cod.multiple) == (15, pytest.approx(0.2))
    # lake TP 0.1 vs target II (lake limit 0.025): (0.1 - 0.025) / 0.025 = 3
    (tp,) = classify_water({"tp": 0.1}, lake=True, target=II).failing
    assert (tp.limit, tp.multiple) == (0.025, pytest.approx(3.0))
    assert classify_water({"tp": 0.1}, target=II).failing == ()  # river: 0.1 is II
    assert classify_water({"nh3n": 9}, target=WORSE).failing == ()


def test_to_dict_is_json_ready() -> None:
    d = classify_water({"nh3n": 2.5, "do": 6.5}, target=III).to_dict()
    assert d == {
        "class": "劣V",
        "class_num": 6,
        "per_parameter": {"do": "II", "nh3n": "劣V"},
        "deciding": ["nh3n"],
        "failing": [{"key": "nh3n", "value": 2.5, "limit": 1.0, "multiple": 1.5}],
        "status_zh": "重度污染",
        "status_en": "heavily polluted",
    }
    json.dumps(d, ensure_ascii=False)
    assert classify_water({"codmn": 3}).to_dict()["status_zh"] == "优"
    assert classify_water({"codmn": 5}).to_dict()["status_en"] == "good"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"nh3n": -0.1}, "nh3n"),
        ({"do": math.nan}, "do"),
        ({"temperature": 20.0}, "temperature"),
        ({}, "no assessable"),
        ({"do": None, "ph": None}, "no assessable"),
    ],
)
def test_invalid_input_raises(values: dict[str, float | None], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        classify_water(values)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I", I),
        ("III", III),
        (" V ", V),
        ("劣V", WORSE),
        ("Ⅲ", III),
        ("劣Ⅴ", WORSE),
        ("1", I),
        ("6", WORSE),
    ],
)
def test_parse_water_class(text: str, expected: WaterClass) -> None:
    assert WaterClass.parse(text) is expected


@pytest.mark.parametrize("text", ["VI", "0", "7", "", "iii"])
def test_parse_rejects_unknown_text(text: str) -> None:
    with pytest.raises(ValueError, match=repr(text)):
        WaterClass.parse(text)


def test_labels() -> None:
    assert [c.label for c in WaterClass] == ["I", "II", "III", "IV", "V", "劣V"]


def test_water_keys_are_in_the_table() -> None:
    assert set(WATER_KEYS) <= set(load_table(TABLE)["parameters"])


# --- properties ----------------------------------------------------------------------------------

UPPER_KEYS = [k for k, spec in load_table(TABLE)["parameters"].items() if spec["kind"] == "upper"]
concentration = st.floats(min_value=0, max_value=1e4, allow_nan=False)
samples = st.dictionaries(
    st.sampled_from(sorted(load_table(TABLE)["parameters"])), concentration, min_size=1
)


@given(samples, st.booleans())
def test_overall_class_is_the_worst_parameter(values: dict[str, float], lake: bool) -> None:
    if not lake and set(values) == {"tn"}:
        return
    result = classify_water(values, lake=lake)
    assert result.water_class == max(result.per_parameter.values())
    assert result.deciding and all(
        result.per_parameter[k] == result.water_class for k in result.deciding
    )


@given(st.sampled_from(UPPER_KEYS), st.booleans(), concentration, concentration)
def test_upper_limit_class_is_monotone(key: str, lake: bool, a: float, b: float) -> None:
    if key == "tn" and not lake:
        return
    low, high = sorted((a, b))
    assert class_of(key, low, lake) <= class_of(key, high, lake)


@given(concentration, concentration)
def test_do_class_is_antitone(a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert class_of("do", low) >= class_of("do", high)


@given(samples, st.booleans(), st.sampled_from(list(WaterClass)))
def test_failing_is_exactly_the_keys_worse_than_target(
    values: dict[str, float], lake: bool, target: WaterClass
) -> None:
    if not lake and set(values) == {"tn"}:
        return
    result = classify_water(values, lake=lake, target=target)
    assert [e.key for e in result.failing] == [
        k for k, c in result.per_parameter.items() if c > target
    ]
    assert all(e.multiple is None or e.multiple > 0 for e in result.failing)
