"""Units: spellings, schema units and the factors between known multiples."""

from __future__ import annotations

import pytest

from pipeline.units import SCHEMA_UNITS, UnitError, canonical_unit, unit_factor


def test_unit_spellings() -> None:
    assert {canonical_unit(u) for u in ("µg/m³", "μg/m3", "ug/m3", "UG/M3", "μg / m³")} == {"ug/m3"}
    assert canonical_unit("°C") == canonical_unit("c") == "C"
    assert canonical_unit("furlongs") is None
    assert canonical_unit("") is None


@pytest.mark.parametrize(
    ("unit", "key", "factor"),
    [
        ("μg/m³", "pm25", 1.0),
        ("ng/m3", "pm25", 0.001),
        ("mg/m3", "pm25", 1000.0),
        ("ug/m3", "co", 0.001),
        ("ng/m3", "co", 1e-6),
        ("μg/L", "nh3n", 0.001),
        ("mS/cm", "cond", 1000.0),
        ("pH", "ph", 1.0),
        ("°C", "temp", 1.0),
    ],
)
def test_known_multiples(unit: str, key: str, factor: float) -> None:
    assert unit_factor(unit, key) == factor


@pytest.mark.parametrize(
    ("unit", "key", "message"),
    [
        ("ppm", "so2", "unknown unit 'ppm'"),
        ("mg/L", "ph", "unit mg/L cannot be converted to ph's unit pH"),
        ("μg/L", "co", "unit ug/L cannot be converted to co's unit mg/m3"),
    ],
)
def test_unknown_or_unconvertible_units_are_refused(unit: str, key: str, message: str) -> None:
    with pytest.raises(UnitError, match=f"^{message}$"):
        unit_factor(unit, key)


def test_every_schema_unit_is_a_known_spelling() -> None:
    assert all(canonical_unit(unit) == unit for unit in SCHEMA_UNITS.values())
