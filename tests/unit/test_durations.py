"""``parse_duration``: the one reader of durations in settings files and on command lines."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.timeutil import DURATION_UNITS_S, parse_duration

DEFAULT_UNITS = ("ms", "s", "m", "h", "d")


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        (0, 0.0),
        (30, 30.0),
        (2.5, 2.5),
        ("250ms", 0.25),
        ("90s", 90.0),
        ("15m", 900.0),
        ("2h", 7200.0),
        ("1d", 86_400.0),
        (" 1.5h ", 5400.0),
    ],
)
def test_durations(raw: object, seconds: float) -> None:
    assert parse_duration(raw) == seconds


def test_weeks_only_when_asked() -> None:
    assert parse_duration("2w", DURATION_UNITS_S) == 1_209_600.0
    with pytest.raises(ValueError, match="bad duration '2w'"):
        parse_duration("2w")


@pytest.mark.parametrize(
    "raw", ["soon", "", "90", "-1s", "1 h", "1H", "1.h", ".5h", -1, -0.5, True, None, [1]]
)
def test_bad_durations_name_the_value(raw: object) -> None:
    with pytest.raises(ValueError, match=r"bad duration .*expected seconds, or e\.g\. 90s"):
        parse_duration(raw)


@pytest.mark.parametrize("raw", ["1.5h", 2.5, "0.0s"])
def test_whole_counts_only_without_fractions(raw: object) -> None:
    assert parse_duration(raw) >= 0
    with pytest.raises(ValueError, match="bad duration"):
        parse_duration(raw, fractions=False)


def test_units_restrict_what_is_read() -> None:
    assert parse_duration("3h", ("h",)) == 10_800.0
    with pytest.raises(ValueError):
        parse_duration("3m", ("h",))


@given(st.integers(0, 10**9), st.sampled_from(DEFAULT_UNITS), st.sampled_from(["", " ", "\t"]))
def test_count_times_unit(count: int, unit: str, blank: str) -> None:
    text = f"{blank}{count}{unit}{blank}"
    seconds = parse_duration(text)
    assert seconds == count * DURATION_UNITS_S[unit]
    assert parse_duration(text, fractions=False) == seconds
    if unit == "s":
        assert parse_duration(count) == seconds


@given(st.integers(0, 10**6), st.integers(0, 10**6), st.sampled_from(DEFAULT_UNITS))
def test_longer_text_longer_duration(a: int, b: int, unit: str) -> None:
    """Monotone in the count, and the units keep their order (1 ms < 1 s < 1 m < 1 h < 1 d)."""
    assert (parse_duration(f"{a}{unit}") <= parse_duration(f"{b}{unit}")) == (a <= b)
    ranked = [parse_duration(f"1{u}") for u in DEFAULT_UNITS]
    assert ranked == sorted(ranked)
