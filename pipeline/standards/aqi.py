"""Air Quality Index: HJ 633-2012, HJ 633-2026 (China) and the US EPA AQI (EPA-454/B-24-002).

Pure and table-driven: breakpoints, levels, colours and edition rules live in
``tables/hj633_2012.yaml``, ``tables/hj633_2026.yaml`` and ``tables/us_epa_2024.yaml``; this module
only applies them.

Inputs are ug/m3 (CO mg/m3), by report:

- ``hour``: so2 no2 co o3 (1-h means), o3_8h (8-h moving mean), pm10 pm25 (1-h means),
  pm10_24h pm25_24h so2_24h (24-h moving means);
- ``day``: so2 no2 co pm10 pm25 (24-h means), o3 (daily max 1-h), o3_8h (daily max 8-h).

None and NaN are missing (NA) and skipped. A key the report does not know, a negative, infinite or
absurd (>= 1e9) value raises ValueError naming the key. Keys an edition does not use (the tables'
``null`` indicators, e.g. o3_8h in the HJ 633-2026 real-time report) are accepted and ignored.

HJ 633: IAQI by formula (1) rounded up (§6.2 "全部进位取整数"; a 1e-9 guard absorbs float error,
so PM2.5 75 -> 100 exactly); AQI = max IAQI (formula (2)); IAQI 500 above the top breakpoint (a
convention: the standard stops at 500). HJ 633-2026 first rounds inputs (§4.2.2, GB/T 8170
half-even: integers, CO 1 decimal). SO2 1-h and O3 8-h above 800 follow the tables'
``*_above_top`` rules; under HJ 633-2012 note (2) the SO2 IAQI from the 24-h average is reported
under the key ``so2_24h``. Primary pollutants: the keys with the highest IAQI when AQI > 50
(§4.4.2, ties -> all). Exceeding pollutants: IAQI > 100, HJ 633-2012 only.

EPA (TAD §IV): gases converted to ppm/ppb at 25 °C, truncated per row, Equation 1, rounded half up;
above 500 extrapolated with the 301-500 segment; the same primary rule (the TAD's "main pollutant").
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from math import ceil
from typing import Any, Literal, Protocol

from pipeline.standards.tables import load_table

STANDARDS = ("hj633", "hj633-2012", "hj633-2026", "epa")
_TABLES = {"hj633-2012": "hj633_2012", "hj633-2026": "hj633_2026", "epa": "us_epa_2024"}
_CEIL_GUARD = 1e-9  # HJ: an IAQI within 1e-9 above an integer is that integer (float error)
_TRUNC_GUARD = 1e-6  # EPA: the same for truncation, in units of the last kept digit
_MAX_CONC = 1e9  # rejected from here on: 1e9 ug/m3 is about the density of air itself


@dataclass(frozen=True, slots=True)
class AqiResult:
    """One AQI: ``iaqi`` per input key that produced an index; ``standard`` is the edition used."""

    aqi: int | None
    level: int | None
    category_zh: str | None
    category_en: str | None
    color: str | None
    primary: tuple[str, ...]
    exceeding: tuple[str, ...]
    iaqi: dict[str, int]
    standard: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (tuples become lists)."""
        return {
            "aqi": self.aqi,
            "level": self.level,
            "category_zh": self.category_zh,
            "category_en": self.category_en,
            "color": self.color,
            "primary": list(self.primary),
            "exceeding": list(self.exceeding),
            "iaqi": dict(self.iaqi),
            "standard": self.standard,
        }


class _Row(Protocol):
    def index(self, c: float) -> int | None: ...


_EXTRAPOLATE = object()


def _beyond_top(top_iaqi: int, extrapolate: bool) -> object:
    """A row's index above its last breakpoint: 500 (cap) or _EXTRAPOLATE (last segment's slope)
    for rows reaching IAQI 500; None for the others (the edition's *_above_top rule decides)."""
    if top_iaqi != 500:
        return None
    return _EXTRAPOLATE if extrapolate else 500


class _HjRow:
    """HJ 633 Table 1 (2012) / Table 3 (2026) row: formula (1), rounded up (§6.2)."""

    __slots__ = ("_beyond", "_bps", "_segs", "_top")

    def __init__(self, concs: Sequence[float], iaqis: Sequence[int], extrapolate: bool) -> None:
        top, top_iaqi = concs[-1], iaqis[len(concs) - 1]
        segs = [
            (lo, ilo, (ihi - ilo) / (hi - lo))
            for lo, hi, ilo, ihi in zip(concs, concs[1:], iaqis, iaqis[1:], strict=False)
        ]
        # A last segment starting at the top breakpoint: exact there, the last slope beyond it.
        self._segs = (*segs, (top, top_iaqi, segs[-1][2]))
        self._bps = tuple(concs)
        self._top, self._beyond = top, _beyond_top(top_iaqi, extrapolate)

    def index(self, c: float) -> int | None:
        """IAQI of ``c`` (table units); None above a row that stops below IAQI 500."""
        if c > self._top and self._beyond is not _EXTRAPOLATE:
            return self._beyond
        lo, ilo, slope = self._segs[bisect_right(self._bps, c) - 1]
        return ceil(ilo + slope * (c - lo) - _CEIL_GUARD)


class _RoundedHjRow(_HjRow):
    """HJ 633-2026 row: the input is rounded first (§4.2.2), so the IAQI of every rounded value up
    to the top breakpoint is computed once, at import."""

    __slots__ = ("_lut", "_scale", "_size", "_units")

    def __init__(
        self, concs: Sequence[float], iaqis: Sequence[int], decimals: int, extrapolate: bool
    ) -> None:
        super().__init__(concs, iaqis, extrapolate)
        self._units, self._scale = _half_even_units(decimals), 10**decimals
        exact = super().index
        self._lut = tuple(exact(n / self._scale) for n in range(round(concs[-1] * self._scale) + 1))
        self._size = len(self._lut)

    def index(self, c: float) -> int | None:
        n = self._units(c)
        return self._lut[n] if n < self._size else super().index(n / self._scale)


class _EpaRow:
    """EPA TAD Table 6 row: truncate, Equation 1 in exact integers, round half up."""

    __slots__ = ("_beyond", "_los", "_scale", "_segs", "_top")

    def __init__(
        self, segments: Sequence[Sequence[float]], decimals: int, scale: float, extrapolate: bool
    ) -> None:
        unit = 10**decimals
        self._segs = tuple(
            (round(lo * unit), round(hi * unit), ilo, ihi) for lo, hi, ilo, ihi in segments
        )
        self._los = tuple(seg[0] for seg in self._segs)
        self._top, self._beyond = self._segs[-1][1], _beyond_top(self._segs[-1][3], extrapolate)
        self._scale = scale * unit

    def index(self, c: float) -> int | None:
        """AQI of ``c`` (``scale`` converts it to the row unit); None in a blank cell of Table 6."""
        u = int(c * self._scale + _TRUNC_GUARD)  # truncated, in units of the last kept digit
        if u < self._los[0]:
            return None
        if u > self._top and self._beyond is not _EXTRAPOLATE:
            return self._beyond
        lo, hi, ilo, ihi = self._segs[bisect_right(self._los, u) - 1]
        return ilo + (2 * (ihi - ilo) * (u - lo) + hi - lo) // (2 * (hi - lo))


# Above-top rule: conc -> (key reported, index or None).
_Rule = Callable[[Mapping[str, float | None]], tuple[str, int | None]]
_Index = Callable[[float], int | None]
_Spec = tuple[_Index | None, str | None, _Rule | None]  # (row index, "unless" key, above-top rule)


class _Edition:
    """One edition compiled from its table: rows, per-report plans, levels by AQI."""

    __slots__ = ("exceeding", "levels", "name", "plans", "rows")

    def __init__(self, name: str) -> None:
        table = load_table(_TABLES[name])
        rules = table["rules"]
        if rules["above_top_iaqi_500"] not in ("cap", "extrapolate"):
            raise ValueError(f"{name}: above_top_iaqi_500 must be 'cap' or 'extrapolate'")
        extrapolate = rules["above_top_iaqi_500"] == "extrapolate"
        self.name = name
        if "breakpoints" in table:
            self.rows = _hj_rows(table, extrapolate)
            plan_rows = self.rows
        else:
            self.rows = _epa_rows(table, extrapolate, native=True)
            plan_rows = _epa_rows(table, extrapolate, native=False)
        self.plans = {
            report: _plan(report, indicators, plan_rows, rules)
            for report, indicators in table["indicators"].items()
        }
        self.levels = _levels_by_aqi(table["levels"])
        self.exceeding: bool = rules["exceeding_pollutants"]

    def result(self, iaqi: dict[str, int]) -> AqiResult:
        """AQI = max IAQI, level, primary (AQI > 50) and exceeding (IAQI > 100) pollutants."""
        if not iaqi:
            return AqiResult(None, None, None, None, None, (), (), iaqi, self.name)
        aqi = max(iaqi.values())
        level, zh, en, color = self.levels[aqi if aqi <= 500 else 500]
        primary = tuple([k for k, v in iaqi.items() if v == aqi]) if aqi > 50 else ()
        exceeding = tuple([k for k, v in iaqi.items() if v > 100]) if self.exceeding else ()
        return AqiResult(aqi, level, zh, en, color, primary, exceeding, iaqi, self.name)


def _half_even_units(decimals: int) -> Callable[[float], int]:
    """GB/T 8170 rounding (四舍六入五成双) of the value as written (its repr), in units of the
    last kept decimal: 5.15 -> 52 for one decimal."""
    if decimals == 0:
        return round  # exact: a float written "n.5" is exactly n + 0.5, and round() is half-even
    scale = 10**decimals

    def units(c: float) -> int:
        t = c * scale
        n = round(t)
        if abs(abs(t - n) - 0.5) > 1e-6:  # clearly not a tie: the float product is exact enough
            return n
        return int(Decimal(repr(c)).scaleb(decimals).quantize(Decimal(1), ROUND_HALF_EVEN))

    return units


def _pollutant(row: str) -> str:
    return row.rsplit("_", 1)[0]


def _hj_rows(table: dict[str, Any], extrapolate: bool) -> dict[str, _Row]:
    rounding = table["rules"]["concentration_rounding"]
    decimals = rounding["decimals"] if rounding else {}
    if rounding and rounding["method"] != "half_even":
        raise ValueError(f"unsupported concentration rounding {rounding['method']!r}")
    levels = table["iaqi_levels"]
    return {
        name: _RoundedHjRow(concs, levels, decimals[_pollutant(name)], extrapolate)
        if decimals
        else _HjRow(concs, levels, extrapolate)
        for name, concs in table["breakpoints"].items()
    }


def _epa_rows(table: dict[str, Any], extrapolate: bool, native: bool) -> dict[str, _Row]:
    """Table 6 rows taking native units (ppm/ppb/ug/m3) or envmon's ug/m3 (CO mg/m3)."""
    molar_volume = table["conversion"]["molar_volume"]
    weights = table["conversion"]["molecular_weights"]

    def scale(name: str, unit: str) -> float:
        if native or unit == "ug/m3":
            return 1.0
        pollutant = _pollutant(name)
        to_ugm3 = 1000.0 if table["input_units"][pollutant] == "mg/m3" else 1.0
        return to_ugm3 * molar_volume / weights[pollutant] / (1000.0 if unit == "ppm" else 1.0)

    return {
        name: _EpaRow(row["segments"], row["truncate"], scale(name, row["unit"]), extrapolate)
        for name, row in table["rows"].items()
    }


def _plan(
    report: str, indicators: dict[str, Any], rows: dict[str, _Row], rules: dict[str, Any]
) -> dict[str, _Spec]:
    """Input key -> (row, unless, above-top rule) for one report of one edition."""
    plan: dict[str, _Spec] = {}
    for key, spec in indicators.items():
        if spec is None:
            plan[key] = (None, None, None)
            continue
        row, unless = (spec, None) if isinstance(spec, str) else (spec["row"], spec["unless"])
        rule_name = rules.get(f"{row.lower()}_above_top")
        rule = _above_top_rule(rule_name, key, report, rows, row) if rule_name else None
        plan[key] = (rows[row].index, unless, rule)
    return plan


def _above_top_rule(name: str, key: str, report: str, rows: dict[str, _Row], row: str) -> _Rule:
    """Rules for a value above its row: use_24h[_else_N], use_1h, iaqi_N (see the tables)."""
    base, _, otherwise = name.partition("_else_")
    fallback = int(otherwise) if otherwise else None
    if base == "use_24h":
        # Hourly, the 24-h companion of "so2" is "so2_24h"; daily, the value is already a 24-h mean.
        companion_key = f"{key}_24h" if report == "hour" else key
        companion_row = rows[f"{_pollutant(row)}_24h"]

        def use_24h(conc: Mapping[str, float | None]) -> tuple[str, int | None]:
            c = conc.get(companion_key)
            value = companion_row.index(c) if _present(companion_key, c) else None  # type: ignore[arg-type]
            return (companion_key, value) if value is not None else (key, fallback)

        return use_24h
    if base == "use_1h":  # the 1-h indicator gives the O3 index on its own
        return lambda conc: (key, None)
    if base.startswith("iaqi_"):
        fixed = int(base.removeprefix("iaqi_"))
        return lambda conc: (key, fixed)
    raise ValueError(f"unknown above-top rule {name!r}")


def _levels_by_aqi(levels: list[dict[str, Any]]) -> tuple[tuple[int, str, str, str], ...]:
    """(level, category_zh, category_en, hex) for AQI 0..500; bounds are inclusive."""

    def level_of(aqi: int) -> tuple[int, str, str, str]:
        for lv in levels:
            if lv["aqi_min"] <= aqi and (lv["aqi_max"] is None or aqi <= lv["aqi_max"]):
                return lv["level"], lv["category_zh"], lv["category_en"], lv["hex"]
        raise ValueError(f"no level for AQI {aqi}")

    return tuple(level_of(aqi) for aqi in range(501))


def _present(key: str, c: float | None) -> bool:
    """False for missing values (None, NaN); ValueError for negative, infinite or absurd ones."""
    if c is None or c != c:
        return False
    if not 0.0 <= c < _MAX_CONC:
        raise ValueError(f"{key}: concentration must be >= 0 and < {_MAX_CONC:g}, got {c}")
    return True


_EDITIONS = {name: _Edition(name) for name in _TABLES}
# In UTC: comparing a UTC ``at`` (the usual case) then skips the offset arithmetic (~15x faster).
_HJ2026_FROM = datetime.fromisoformat(
    load_table("hj633_2026")["standard"]["effective_from"]
).astimezone(UTC)


def resolve_edition(standard: str, at: datetime | None = None) -> str:
    """The edition for ``standard`` at time ``at`` (timezone-aware).

    "hj633" is HJ 633-2012 before 2026-03-01T00:00+08:00 and HJ 633-2026 from then on (the
    effective_from of tables/hj633_2026.yaml); ``at=None`` means now, i.e. HJ 633-2026, and a
    naive ``at`` raises ValueError. An explicit edition ("hj633-2012", "hj633-2026", "epa")
    ignores ``at``.
    """
    if standard == "hj633":
        if at is None:
            return "hj633-2026"
        if at.tzinfo is None:
            raise ValueError(f"at must be timezone-aware, got {at.isoformat()}")
        return "hj633-2012" if at < _HJ2026_FROM else "hj633-2026"
    if standard in _EDITIONS:
        return standard
    raise ValueError(f"unknown standard {standard!r}; allowed: {', '.join(STANDARDS)}")


def compute_aqi(
    conc: Mapping[str, float | None],
    report: Literal["hour", "day"],
    standard: str = "hj633",
    at: datetime | None = None,
) -> AqiResult:
    """AQI of one hourly or daily set of concentrations (see the module docstring)."""
    edition = _EDITIONS[resolve_edition(standard, at)]
    plan = edition.plans.get(report)
    if plan is None:
        raise ValueError(f"unknown report {report!r}; allowed: hour, day")
    iaqi: dict[str, int] = {}
    for key, c in conc.items():
        spec = plan.get(key)
        if spec is None:
            raise ValueError(f"unknown {report} key {key!r}; allowed: {', '.join(plan)}")
        if c is None or not (0.0 <= c < _MAX_CONC or _present(key, c)):  # NaN skipped, else raises
            continue
        index, unless, rule = spec
        if index is None or (unless is not None and _present(unless, conc.get(unless))):
            continue
        value = index(c)
        if value is None and rule is not None:
            key, value = rule(conc)
        if value is not None:
            iaqi[key] = value
    return edition.result(iaqi)


def sub_index(standard: str, row: str, value: float | None) -> int | None:
    """Index of one table row, e.g. ``sub_index("epa", "O3_8h", 0.078) == 126``.

    Units are the table's: HJ ug/m3 (CO mg/m3, HJ 633-2026 rounding applied), EPA ppm/ppb/ug/m3
    (truncation applied). No edition rules; None when missing or in a blank cell.
    """
    rows = _EDITIONS[resolve_edition(standard, None)].rows
    if row not in rows:
        raise ValueError(f"unknown row {row!r} for {standard}; allowed: {', '.join(rows)}")
    return rows[row].index(value) if _present(row, value) else None  # type: ignore[arg-type]
