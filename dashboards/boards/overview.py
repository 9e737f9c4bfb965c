"""City overview (城市概览): stations on a map coloured by AQI level, the city AQI and its primary
pollutant, the district ranking with rank changes, AQI by district over time, active alerts."""

from __future__ import annotations

from dashboards import panels, styles
from dashboards.boards import AIR_STATION, OVERVIEW
from dashboards.context import Context
from dashboards.influxql import Query
from dashboards.panels import FROM_MAPPINGS, Board, Column

UID = OVERVIEW
CITY_HOUR = """FROM "air_aqi" WHERE "scope" = 'city' AND "report" = 'hour' AND $timeFilter"""


def build(ctx: Context) -> Board:
    say = ctx.say
    name = say.pick("name_zh", "name_en")
    return Board(UID, say("城市空气质量概览", "City overview"), say).add(
        panels.site_map(
            say("站点 AQI 地图", "Stations by AQI level"),
            Query(
                f"""SELECT last("aqi") AS "aqi", last("level") AS "level",
                last("{name}") AS "name" FROM "air_aqi" WHERE "scope" = 'station'
                AND "report" = 'hour' AND $timeFilter GROUP BY "subject" """,
                table=True,
            ),
            Query(
                """SELECT last("lat") AS "lat", last("lon") AS "lon" FROM "site"
                WHERE "kind" = 'air' GROUP BY "station" """,
                table=True,
            ),
            centre=ctx.centre,
            layer=say("空气站", "Air stations"),
            colour_field="aqi",
            label_field="name",
            thresholds=styles.aqi_thresholds(),
            transformations=panels.join_sites("subject"),
            links=[
                panels.link_to(
                    say("站点详情", "Station details"), AIR_STATION, "station", "subject"
                )
            ],
            h=14,
        ),
        *panels.aqi_summary(say, CITY_HOUR, say("城市 AQI", "City AQI"), h=7),
        panels.ranking_table(
            say,
            say("区排名（小时 AQI）", "District ranking (hourly AQI)"),
            "district_aqi_hour",
            "AQI",
            styles.aqi_thresholds(),
            h=7,
        ),
        panels.time_series(
            say("各区 AQI", "AQI by district"),
            Query(
                """SELECT mean("aqi") FROM "air_aqi" WHERE "scope" = 'district'
                AND "report" = 'hour' AND $timeFilter
                GROUP BY time($__interval), "subject" fill(none)""",
                alias="$tag_subject",
            ),
            unit="none",
            thresholds=styles.aqi_thresholds(),
            h=9,
        ),
        panels.grid(
            say("当前告警", "Active alerts"),
            Query(
                f"""SELECT last("active") AS "active", last("state") AS "state",
                last("value") AS "value", last("threshold") AS "threshold",
                last("{say.pick("message_zh", "message_en")}") AS "message"
                FROM "alert" WHERE $timeFilter GROUP BY "rule", "subject" """,
                table=True,
            ),
            transformations=[panels.only_rows("active", 1)],
            mappings=styles.alert_state_mappings(say),
            columns={
                **panels.labelled(say, "rule", "subject"),
                "state": Column(say("状态", "State"), colour=FROM_MAPPINGS),
                **panels.labelled(say, "value", "threshold", "message"),
                "active": Column(hidden=True),
            },
            h=9,
        ),
    )
