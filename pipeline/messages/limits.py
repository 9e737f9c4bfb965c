"""Physical plausibility limits of reading values, in the units of the message schema.

A value outside its limits cannot be a measurement of ambient air or river water in these units:
it is a unit mix-up (ng/m³ sent as μg/m³, ppb as μg/m³), a transmission fault or a broken sensor,
and the reading is rejected (``negative_value`` below zero, ``implausible_value`` otherwise).

The limits are deliberately wider than analysers' certified measuring ranges. An analyser above
its range still reports the value with HJ 212 flag ``T`` (超过测量上限), and envmon stores such
readings and may alert on them (../shared/reference/hj212_2017.md §3); rejecting them here would
silently lose the worst episodes. "End of scale" below means the HJ 633-2012 concentration at
IAQI 500 (Table 1), the highest concentration the Chinese AQI distinguishes.
"""

from __future__ import annotations

from dataclasses import dataclass

_GAS = (
    "envmon rule: one round bound for gases, ≥ 2.6× the HJ 633-2012 end of scale "
    "(SO2 24-h 2620, NO2 1-h 3840, O3 1-h 1200 μg/m³) and far above any ambient record"
)
_PM = (
    "envmon rule: HJ 653-2021 analysers must cover 0–1000 μg/m³, but dust storms have given "
    "hourly PM10 of several thousand μg/m³ (northern China, March 2021); PM2.5 ⊂ PM10, "
    "same bound; still catches ng/m³ sent as μg/m³"
)
_SEWAGE = "envmon rule: about 10× strong raw municipal sewage, impossible in a river"


@dataclass(frozen=True, slots=True)
class Limit:
    low: float
    high: float
    unit: str
    source: str


AIR_LIMITS: dict[str, Limit] = {
    "so2": Limit(0, 10_000, "μg/m³", _GAS),
    "no2": Limit(0, 10_000, "μg/m³", _GAS),
    "co": Limit(0, 500, "mg/m³", "envmon rule: 3.3× the HJ 633-2012 end of scale (1-h 150 mg/m³)"),
    "o3": Limit(0, 10_000, "μg/m³", _GAS),
    "pm10": Limit(0, 10_000, "μg/m³", _PM),
    "pm25": Limit(0, 10_000, "μg/m³", _PM),
}

WATER_LIMITS: dict[str, Limit] = {
    "ph": Limit(0, 14, "", "pH scale of dilute aqueous solutions"),
    "do": Limit(
        0, 25, "mg/L", "envmon rule: saturation is 14.6 mg/L at 0 °C; 25 allows supersaturation"
    ),
    "codmn": Limit(0, 5_000, "mg/L", f"{_SEWAGE}; permanganate index ≤ COD of the same water"),
    "cod": Limit(0, 10_000, "mg/L", f"{_SEWAGE} (COD up to ~1000 mg/L)"),
    "bod5": Limit(0, 5_000, "mg/L", f"{_SEWAGE}; BOD5 ≤ COD of the same water"),
    "nh3n": Limit(0, 1_000, "mg/L", f"{_SEWAGE} (NH3-N up to ~50 mg/L); landfill-leachate level"),
    "tp": Limit(0, 100, "mg/L", f"{_SEWAGE} (TP up to ~10 mg/L)"),
    "tn": Limit(0, 1_000, "mg/L", f"{_SEWAGE}; TN ≥ NH3-N, so the same bound as NH3-N"),
    "temp": Limit(
        -5,
        50,
        "°C",
        "envmon rule: river water freezes near 0 °C (saline slightly lower); 50 °C "
        "leaves margin over the warmest natural surface water",
    ),
    "cond": Limit(
        0, 100_000, "μS/cm", "envmon rule: seawater ~50 000 μS/cm (tidal estuary sections); 2× that"
    ),
    "turb": Limit(0, 4_000, "NTU", "ISO 7027-1 upper end of the attenuation method (4000 FAU)"),
}
