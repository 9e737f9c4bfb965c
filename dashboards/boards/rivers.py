"""Rivers (河流断面): sections on a map coloured by water class, class against target, parameter
series against the GB 3838-2002 class limits for one section (variable ``section``), the CWQI
ranking and the history of readings worse than the target."""

from __future__ import annotations

from grafana_foundation_sdk.models.dashboard import DataTransformerConfig

from dashboards import panels, styles
from dashboards.boards import RIVERS
from dashboards.context import Context
from dashboards.influxql import Query
from dashboards.panels import Board, Column
from dashboards.text import Say

UID = RIVERS
MG_L = "suffix: mg/L"
PARAMETERS = {  # key: (zh, en, unit): GB 3838-2002 Table 1 items automatic stations measure
    "do": ("溶解氧", "Dissolved oxygen", MG_L),
    "codmn": ("高锰酸盐指数", "Permanganate index", MG_L),
    "nh3n": ("氨氮", "Ammonia nitrogen", MG_L),
    "tp": ("总磷", "Total phosphorus", MG_L),
    "ph": ("pH 值", "pH", "none"),
}
SECTION = """"station" =~ /^$section$/ AND $timeFilter"""


def _latest_class(say: Say) -> Query:
    name = say.pick("name_zh", "name_en")
    return Query(
        f"""SELECT last("class_num") AS "class_num", last("water_class") AS "class",
        last("target_class") AS "target", last("failing") AS "failing", last("{name}") AS "name"
        FROM "water_quality" WHERE $timeFilter GROUP BY "station" """,
        table=True,
    )


def _sites(fields: str) -> Query:
    return Query(
        f"""SELECT {fields} FROM "site" WHERE "kind" = 'water' GROUP BY "station" """,
        table=True,
    )


def build(ctx: Context) -> Board:
    say = ctx.say
    board = Board(UID, say("河流断面水质", "Rivers"), say)
    board.variable("section", say("断面", "Section"), "water_quality", "station")
    to_section = panels.link_to(say("断面详情", "Section details"), RIVERS, "section", "station")
    return board.add(
        panels.site_map(
            say("断面水质类别地图", "Sections by water class"),
            _latest_class(say),
            _sites('last("lat") AS "lat", last("lon") AS "lon"'),
            centre=ctx.centre,
            layer=say("断面", "Sections"),
            colour_field="class_num",
            label_field="name",
            thresholds=styles.water_class_thresholds(),
            mappings=styles.water_class_mappings(),
            transformations=panels.join_sites("station"),
            links=[to_section],
            h=13,
        ),
        panels.grid(
            say("水质类别与目标", "Class vs target"),
            _latest_class(say),
            _sites('last("target_num") AS "target_num"'),
            transformations=[
                *panels.join_sites("station"),
                DataTransformerConfig(
                    id_val="calculateField",
                    options={
                        "mode": "binary",
                        "binary": {"left": "class_num", "operator": "-", "right": "target_num"},
                        "alias": "over_target",
                    },
                ),
            ],
            columns={
                "station": Column(hidden=True),
                "name": Column(say("断面", "Section")),
                "class": Column(say("类别", "Class")),
                **panels.labelled(say, "target", "failing"),
                "over_target": Column(
                    say("超出目标级数", "Classes over target"),
                    thresholds=styles.steps((None, "green"), (1, "red")),
                ),
                "class_num": Column(hidden=True),
                "target_num": Column(hidden=True),
            },
            links=[to_section],
            h=13,
        ),
        *(
            panels.time_series(
                say(f"{zh}（$section）", f"{en} ($section)"),
                Query(
                    f"""SELECT mean("{key}") AS "{key}" FROM "water_quality" WHERE {SECTION}
                    GROUP BY time($__interval) fill(none)"""
                ),
                unit=unit,
                thresholds=styles.class_limit_thresholds(key),
                w=8,
            )
            for key, (zh, en, unit) in PARAMETERS.items()
        ),
        panels.ranking_table(
            say,
            say("断面 CWQI 排名（月累计）", "Sections by CWQI (month to date)"),
            "section_cwqi_mtd",
            "CWQI",
            None,
        ),
        panels.grid(
            say("超标记录", "Exceedance history"),
            Query(
                f"""SELECT "water_class" AS "class", "target_class" AS "target",
                "failing" AS "failing", "class_num" AS "class_num" FROM "water_quality"
                WHERE "failing" != '' AND {SECTION} GROUP BY "station" """,
                table=True,
            ),
            columns={
                "Time": Column(say("时间", "Time")),
                "station": Column(say("断面", "Section")),
                "class_num": Column(
                    say("类别", "Class"), thresholds=styles.water_class_thresholds()
                ),
                "class": Column(hidden=True),
                **panels.labelled(say, "target", "failing"),
            },
            mappings=styles.water_class_mappings(),
            keep_time=True,
        ),
    )
