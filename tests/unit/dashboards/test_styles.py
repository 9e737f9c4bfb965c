"""Colours and thresholds come from the standards tables."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.cog.encoder import JSONEncoder

from dashboards import styles
from dashboards.text import Say
from pipeline.standards.tables import load_table


def steps(config: Any) -> list[tuple[float | None, str]]:
    built = JSONEncoder().default(config.build())
    return [(s.value, s.color) for s in built["steps"]]


def test_aqi_levels_and_colours_are_hj633s() -> None:
    assert steps(styles.aqi_thresholds()) == [
        (None, "#00E400"),
        (51, "#FFFF00"),
        (101, "#FF7E00"),
        (151, "#FF0000"),
        (201, "#99004C"),
        (301, "#7E0023"),
    ]
    mapping = styles.aqi_level_mappings(Say("en"))[0].options
    assert mapping["3"].text == "Lightly polluted" and mapping["3"].color == "#FF7E00"


def test_class_limits_are_gb3838_table_1() -> None:
    colours = [load_table("gb3838_2002")["display_colours"][c]["hex"] for c in styles.WATER_CLASSES]
    # NH3-N (upper limits 0.15 0.5 1.0 1.5 2.0): above a limit is the next class
    assert steps(styles.class_limit_thresholds("nh3n")) == [
        (None, colours[0]),
        (0.15, colours[1]),
        (0.5, colours[2]),
        (1.0, colours[3]),
        (1.5, colours[4]),
        (2.0, colours[5]),
    ]
    # DO is a lower limit: 7.5 and more is class I, below 2 is 劣V
    assert steps(styles.class_limit_thresholds("do")) == [
        (None, colours[5]),
        (2, colours[4]),
        (3, colours[3]),
        (5, colours[2]),
        (6, colours[1]),
        (7.5, colours[0]),
    ]
    # COD: classes I and II share 15 mg/L, so above 15 is class III
    assert steps(styles.class_limit_thresholds("cod"))[:2] == [(None, colours[0]), (15, colours[2])]
    assert steps(styles.class_limit_thresholds("tp"))[1] == (0.02, colours[1])  # river limits


def test_water_class_numbers_map_to_labels() -> None:
    options = styles.water_class_mappings()[0].options
    assert [options[str(n)].text for n in range(1, 7)] == list(styles.WATER_CLASSES)
