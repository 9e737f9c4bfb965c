"""Colours, thresholds and value mappings taken from the standards tables, so a dashboard shows
the colours the standard prints and a revised table changes the dashboards with it."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders.dashboard import ThresholdsConfig
from grafana_foundation_sdk.models.dashboard import (
    Threshold,
    ThresholdsMode,
    ValueMap,
    ValueMappingResult,
)

from dashboards.text import Say
from pipeline.standards.tables import load_table

AQI_TABLE = "hj633_2026"  # HJ 633-2026 Table 1: the same six levels and colours as HJ 633-2012
WATER_TABLE = "gb3838_2002"
WATER_CLASSES = ("I", "II", "III", "IV", "V", "劣V")


def steps(*pairs: tuple[float | None, str]) -> ThresholdsConfig:
    """Absolute thresholds; the first pair's value is None (the base colour)."""
    return (
        ThresholdsConfig()
        .mode(ThresholdsMode.ABSOLUTE)
        .steps([Threshold(value=value, color=color) for value, color in pairs])
    )


def _aqi_levels() -> list[dict[str, Any]]:
    return load_table(AQI_TABLE)["levels"]


def aqi_thresholds() -> ThresholdsConfig:
    """AQI (and IAQI) coloured by level: HJ 633-2026 Table 1 ranges and Appendix colours."""
    levels = _aqi_levels()
    return steps((None, levels[0]["hex"]), *((lv["aqi_min"], lv["hex"]) for lv in levels[1:]))


def aqi_level_thresholds() -> ThresholdsConfig:
    """The level number 1..6 coloured as its AQI range."""
    levels = _aqi_levels()
    return steps((None, levels[0]["hex"]), *((lv["level"], lv["hex"]) for lv in levels[1:]))


def aqi_level_mappings(say: Say) -> list[ValueMap]:
    """Level number -> category name (优 Excellent …) in the level's colour."""
    return [
        ValueMap(
            {
                str(lv["level"]): ValueMappingResult(
                    text=say(lv["category_zh"], lv["category_en"]), color=lv["hex"], index=i
                )
                for i, lv in enumerate(_aqi_levels())
            }
        )
    ]


def _class_colours() -> list[str]:
    colours = load_table(WATER_TABLE)["display_colours"]
    return [colours[label]["hex"] for label in WATER_CLASSES]


def water_class_thresholds() -> ThresholdsConfig:
    """``class_num`` 1..6 (I..劣V) in the assessment colours of GB 3838-2002's table file."""
    colours = _class_colours()
    return steps((None, colours[0]), *((n, c) for n, c in enumerate(colours[1:], start=2)))


def water_class_mappings() -> list[ValueMap]:
    """``class_num`` -> class label (I … 劣V) in its colour."""
    colours = _class_colours()
    return [
        ValueMap(
            {
                str(n): ValueMappingResult(text=label, color=colours[n - 1], index=n - 1)
                for n, label in enumerate(WATER_CLASSES, start=1)
            }
        )
    ]


def class_limit_thresholds(key: str) -> ThresholdsConfig:
    """A parameter's GB 3838-2002 Table 1 class limits (rivers) as thresholds: the colour of a
    value is that of its class. Grafana colours a value equal to a limit as the next step,
    while the standard counts it in the better class (limits are inclusive)."""
    spec = load_table(WATER_TABLE)["parameters"][key]
    colours = _class_colours()
    if spec["kind"] == "range":  # pH: 6-9 for every class, outside is 劣V (a convention)
        low, high = spec["range"]
        return steps((None, colours[5]), (low, colours[0]), (high, colours[5]))
    limits = spec["limits"]
    limits = limits["river"] if isinstance(limits, dict) else limits
    if spec["kind"] == "lower":  # DO: higher is better; below the class V limit is 劣V
        pairs = [(limit, colours[4 - i]) for i, limit in enumerate(reversed(limits))]
        return steps((None, colours[5]), *pairs)
    above: dict[float, str] = {}  # a limit shared by two classes starts the class after both
    for i, limit in enumerate(limits):
        above[limit] = colours[i + 1]
    return steps((None, colours[0]), *above.items())


ALERT_STATE_COLOURS = {
    "firing": "red",
    "escalated": "dark-red",
    "flapping": "orange",
    "resolved": "green",
}


def alert_state_mappings(say: Say) -> list[ValueMap]:
    names = {
        "firing": ("告警", "firing"),
        "escalated": ("升级", "escalated"),
        "flapping": ("抖动", "flapping"),
        "resolved": ("已恢复", "resolved"),
    }
    return [
        ValueMap(
            {
                state: ValueMappingResult(text=say(*names[state]), color=colour, index=i)
                for i, (state, colour) in enumerate(ALERT_STATE_COLOURS.items())
            }
        )
    ]
