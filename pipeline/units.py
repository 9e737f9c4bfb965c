"""Units of measured values: the envmon schema unit of each value key (DESIGN.md "Messages"), the
spellings of units envmon knows, and the factors between the known multiples.

Used wherever a source states the unit it sends (HJ 212 device map, file-feed column headers):
a value is converted to its schema unit or refused, never guessed.
"""

from __future__ import annotations

SCHEMA_UNITS: dict[str, str] = {
    **dict.fromkeys(("pm25", "pm10", "so2", "no2", "o3"), "ug/m3"),
    "co": "mg/m3",
    "ph": "pH",
    "temp": "C",
    **dict.fromkeys(("do", "codmn", "cod", "bod5", "nh3n", "tp", "tn"), "mg/L"),
    "cond": "uS/cm",
    "turb": "NTU",
}
# lower case, without blanks and °, µ/μ as u, ³ as 3 -> the unit
_SPELLINGS = {
    "ug/m3": "ug/m3",
    "ng/m3": "ng/m3",
    "mg/m3": "mg/m3",
    "mg/l": "mg/L",
    "ug/l": "ug/L",
    "us/cm": "uS/cm",
    "ms/cm": "mS/cm",
    "c": "C",
    "ph": "pH",
    "ntu": "NTU",
}
# (sent, schema) -> factor; identical units convert with 1
_FACTORS = {
    ("ng/m3", "ug/m3"): 0.001,
    ("mg/m3", "ug/m3"): 1000.0,
    ("ng/m3", "mg/m3"): 1e-6,
    ("ug/m3", "mg/m3"): 0.001,
    ("ug/L", "mg/L"): 0.001,
    ("mS/cm", "uS/cm"): 1000.0,
}


def canonical_unit(unit: str) -> str | None:
    """``µg/m³``, ``μg/m3``, ``ug/m3`` -> ``ug/m3``; None for a unit envmon does not know."""
    key = unit.lower().replace("µ", "u").replace("μ", "u").replace("³", "3").replace("°", "")
    return _SPELLINGS.get(key.replace(" ", ""))


class UnitError(ValueError):
    """A unit envmon does not know, or one that is no multiple of the value's schema unit."""


def unit_factor(unit: str, key: str) -> float:
    """Multiply a value sent in ``unit`` by this to get value key ``key`` in its schema unit;
    UnitError when ``unit`` is unknown or no multiple of the schema unit."""
    sent, wanted = canonical_unit(unit), SCHEMA_UNITS[key]
    if sent is None:
        raise UnitError(f"unknown unit {unit!r}")
    if sent == wanted:
        return 1.0
    if (sent, wanted) not in _FACTORS:
        raise UnitError(f"unit {sent} cannot be converted to {key}'s unit {wanted}")
    return _FACTORS[sent, wanted]
