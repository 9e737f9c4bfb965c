"""Air station (空气站): one station (variable ``station``): concentrations, IAQI per pollutant,
AQI, the 8-h and 24-h moving averages, and the readings quality control flagged."""

from __future__ import annotations

from dashboards import panels, styles
from dashboards.boards import AIR_STATION
from dashboards.context import Context
from dashboards.influxql import Query
from dashboards.panels import Board

UID = AIR_STATION
UG = {"pm25": "PM2.5", "pm10": "PM10", "so2": "SO2", "no2": "NO2", "o3": "O3"}  # μg/m³
POLLUTANTS = UG | {"co": "CO"}  # CO in mg/m³
IAQI = {f"iaqi_{key}": label for key, label in POLLUTANTS.items()}
MOVING = {"o3_8h": "O3 8h", "pm25_24h": "PM2.5 24h", "pm10_24h": "PM10 24h", "so2_24h": "SO2 24h"}
READINGS = """FROM "raw"."air_reading" WHERE "station" =~ /^$station$/ AND $timeFilter
GROUP BY time($__interval) fill(none)"""
UG_M3 = "conμgm3"
MG_M3 = "conmgm3"
STATION_HOUR = """FROM "air_aqi" WHERE "scope" = 'station' AND "report" = 'hour'
AND "subject" =~ /^$station$/ AND $timeFilter"""
HOURLY = f"{STATION_HOUR} GROUP BY time(1h) fill(none)"
QC = """FROM "qc" WHERE "station" =~ /^$station$/ AND $timeFilter"""


def _fields(function: str, names: dict[str, str]) -> str:
    return ", ".join(f'{function}("{key}") AS "{label}"' for key, label in names.items())


def build(ctx: Context) -> Board:
    say = ctx.say
    board = Board(UID, say("空气站详情", "Air station"), say)
    board.variable(
        "station", say("站点", "Station"), "air_aqi", "subject", where="\"scope\" = 'station'"
    )
    return board.add(
        *panels.aqi_summary(say, STATION_HOUR, say("小时 AQI", "Hourly AQI"), h=6),
        panels.time_series(
            say("AQI 与分指数", "AQI and IAQI per pollutant"),
            Query(f'SELECT last("aqi") AS "AQI", {_fields("last", IAQI)} {HOURLY}'),
            unit="none",
            thresholds=styles.aqi_thresholds(),
            h=6,
        ),
        panels.time_series(
            say("污染物浓度（分钟）", "Concentrations (readings)"),
            Query(f"SELECT {_fields('mean', UG)} {READINGS}"),
            unit=UG_M3,
            h=9,
        ),
        panels.time_series(
            say("小时均值与滑动平均", "Hourly means, 8-h and 24-h averages"),
            Query(f"SELECT {_fields('last', UG | MOVING)} {HOURLY}"),
            unit=UG_M3,
            h=9,
        ),
        panels.time_series(
            say("一氧化碳", "CO"),
            Query(f'SELECT mean("co") AS "CO" {READINGS}'),
            Query(f'SELECT last("co") AS "CO 1h" {HOURLY}'),
            unit=MG_M3,
        ),
        panels.time_series(
            say("质控标记", "QC flags"),
            Query(
                f"""SELECT count("value") {QC}
                GROUP BY time($__interval), "parameter", "flag" fill(none)""",
                alias="$tag_parameter $tag_flag",
            ),
            unit="short",
            bars=True,
        ),
        panels.grid(
            say("最近的质控标记", "Latest QC-flagged readings"),
            Query(f'SELECT last("value") AS "value" {QC} GROUP BY "parameter", "flag"', table=True),
            columns=panels.labelled(say, "Time", "parameter", "flag", "value"),
            keep_time=True,
        ),
    )
