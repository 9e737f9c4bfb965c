"""Panel factories shared by every board: the envmon data source, numbered panels, units,
thresholds, legends, table joins, maps and links, set the same way everywhere.

A board builds its dashboard with :class:`Board`; each factory takes the bilingual title already
rendered (``say(zh, en)``) and the panel's InfluxQL queries (:class:`dashboards.influxql.Query`),
which it numbers A, B, … in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from string import ascii_uppercase
from typing import Any

from grafana_foundation_sdk.builders import bargauge, geomap, stat, statetimeline, table, timeseries
from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dashboard_builders
from grafana_foundation_sdk.builders.dashboard import ThresholdsConfig
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import geomap as geomap_models
from grafana_foundation_sdk.models.dashboard import (
    DashboardCursorSync,
    DashboardLinkType,
    DataTransformerConfig,
    DynamicConfigValue,
    MatcherConfig,
    ValueMap,
    VariableRefresh,
    VariableSort,
)

from dashboards.influxql import DATASOURCE, Query
from dashboards.styles import aqi_level_mappings, aqi_level_thresholds, aqi_thresholds, steps
from dashboards.text import Say

TAG = "envmon"
FOLDER_UID = "envmon"
TIMEZONE = "Asia/Shanghai"  # hours and days of the Chinese standards (pipeline.timeutil)
GREEN_TO_RED = {"mode": "continuous-GrYlRd"}  # lower is better, no standard thresholds (CWQI)
FROM_MAPPINGS = {"mode": "thresholds"}  # cells take the colour of their value mapping


class Board:
    """One dashboard under construction: numbers its panels and links it to the others."""

    def __init__(
        self, uid: str, title: str, say: Say, *, time_from: str = "now-24h", refresh: str = "1m"
    ) -> None:
        self.say = say
        self._next_id = 1
        self.dashboard = (
            dashboard_builders.Dashboard(title)
            .uid(uid)
            .tags([TAG])
            .timezone(TIMEZONE)
            .time(time_from, "now")
            .refresh(refresh)
            .tooltip(DashboardCursorSync.CROSSHAIR)
            .link(
                dashboard_builders.DashboardLink(say("环境监测看板", "envmon dashboards"))
                .type(DashboardLinkType.DASHBOARDS)
                .tags([TAG])
                .as_dropdown(False)
                .keep_time(True)
                .include_vars(False)
            )
        )

    def row(self, title: str) -> Board:
        self.dashboard.with_row(dashboard_builders.Row(title).id(self._take_id()))
        return self

    def add(self, *panels: Any) -> Board:
        """The panels, in this order (left to right, then down)."""
        for panel in panels:
            self.dashboard.with_panel(panel.id(self._take_id()))
        return self

    def variable(self, name: str, label: str, measurement: str, key: str, where: str = "") -> Board:
        """A single-value variable: the values of tag ``key`` in ``measurement`` (InfluxQL
        ``SHOW TAG VALUES``, optionally ``WHERE where``)."""
        query = f'SHOW TAG VALUES FROM "{measurement}" WITH KEY = "{key}"'
        query += f" WHERE {where}" if where else ""
        self.dashboard.with_variable(
            dashboard_builders.QueryVariable(name)
            .label(label)
            .query(query)
            .definition(query)
            .datasource(DATASOURCE)
            .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
            .sort(VariableSort.ALPHABETICAL_ASC)
            .multi(False)
            .include_all(False)
        )
        return self

    def _take_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1


def _common(
    panel: Any,
    title: str,
    queries: Sequence[Query],
    *,
    unit: str,
    w: int,
    h: int,
    thresholds: ThresholdsConfig | None = None,
    mappings: list[ValueMap] | None = None,
) -> Any:
    """What every panel sets: title, data source, queries (ids A, B, …), unit, size, and
    thresholds and value mappings when given."""
    panel.title(title).datasource(DATASOURCE).span(w).height(h).unit(unit)
    for ref_id, query in zip(ascii_uppercase, queries, strict=False):
        panel.with_target(query.ref_id(ref_id))
    if thresholds is not None:
        panel.thresholds(thresholds)
    if mappings:
        panel.mappings(mappings)
    return panel


def _legend(table_legend: bool = False) -> common_builders.VizLegendOptions:
    legend = (
        common_builders.VizLegendOptions()
        .show_legend(True)
        .placement(common.LegendPlacement.BOTTOM)
        .display_mode(
            common.LegendDisplayMode.TABLE if table_legend else common.LegendDisplayMode.LIST
        )
    )
    return legend.calcs(["lastNotNull", "max"]) if table_legend else legend


def _reduce(fields: str = "") -> common_builders.ReduceDataOptions:
    """The last value of each series (of the ``fields`` matched; empty: the numeric ones)."""
    return common_builders.ReduceDataOptions().calcs(["lastNotNull"]).fields(fields).values(False)


def time_series(
    title: str,
    *queries: Query,
    unit: str,
    thresholds: ThresholdsConfig | None = None,
    bars: bool = False,
    w: int = 12,
    h: int = 8,
) -> timeseries.Panel:
    """A graph over time; ``thresholds`` are drawn as dashed lines with coloured areas (class
    limits, AQI levels)."""
    panel = _common(timeseries.Panel(), title, queries, unit=unit, thresholds=thresholds, w=w, h=h)
    panel.legend(_legend(True))
    panel.tooltip(common_builders.VizTooltipOptions().mode(common.TooltipDisplayMode.MULTI))
    panel.span_nulls(3_600_000).show_points(common.VisibilityMode.AUTO)
    if bars:
        panel.draw_style(common.GraphDrawStyle.BARS).fill_opacity(60).stacking(
            common_builders.StackingConfig().mode(common.StackingMode.NORMAL)
        )
    if thresholds is not None:
        style = common.GraphThresholdsStyleMode.DASHED_AND_AREA
        panel.thresholds_style(common_builders.GraphThresholdsStyleConfig().mode(style))
    return panel


def big_number(
    title: str,
    *queries: Query,
    unit: str = "none",
    thresholds: ThresholdsConfig | None = None,
    mappings: list[ValueMap] | None = None,
    text: bool = False,
    w: int = 4,
    h: int = 5,
) -> stat.Panel:
    """A stat of the last value; ``text`` for string fields (a pollutant, a category)."""
    panel = _common(
        stat.Panel(), title, queries, unit=unit, thresholds=thresholds, mappings=mappings, w=w, h=h
    )
    panel.reduce_options(_reduce(fields="/.*/" if text else ""))
    panel.graph_mode(common.BigValueGraphMode.NONE if text else common.BigValueGraphMode.AREA)
    return panel.color_mode(
        common.BigValueColorMode.BACKGROUND if thresholds else common.BigValueColorMode.NONE
    )


def bars_by(title: str, select: str, tag: str, *, w: int = 8, h: int = 8) -> bargauge.Panel:
    """Horizontal bars of a count (``select``: ``SELECT count(…) FROM … WHERE …``) per value of
    ``tag``, one bar each (alerts by rule, dead letters by reason)."""
    panel = _common(
        bargauge.Panel(),
        title,
        [Query(f'{select} GROUP BY "{tag}"', alias=f"$tag_{tag}")],
        unit="short",
        w=w,
        h=h,
    )
    panel.orientation(common.VizOrientation.HORIZONTAL).reduce_options(_reduce())
    return panel.display_mode(common.BarGaugeDisplayMode.GRADIENT).show_unfilled(True)


@dataclass(frozen=True)
class Column:
    """How a table shows one column of the query result (named as in the query)."""

    label: str | None = None  # display name; None keeps the name
    hidden: bool = False
    thresholds: ThresholdsConfig | None = None  # colours the cell by value
    colour: dict[str, str] | None = None  # a colour scheme instead of thresholds
    cell: str = "color-background"


COLUMN_LABELS = {  # column name -> (zh, en) where the boards' tables show it the same way
    "Time": ("时间", "Time"),
    "rule": ("规则", "Rule"),
    "subject": ("对象", "Subject"),
    "severity": ("级别", "Severity"),
    "value": ("数值", "Value"),
    "threshold": ("阈值", "Threshold"),
    "message": ("内容", "Message"),
    "parameter": ("参数", "Parameter"),
    "flag": ("标记", "Flag"),
    "target": ("目标", "Target"),
    "failing": ("超标参数", "Failing parameters"),
}


def labelled(say: Say, *names: str) -> dict[str, Column]:
    """Columns under their :data:`COLUMN_LABELS` labels, in this order."""
    return {name: Column(say(*COLUMN_LABELS[name])) for name in names}


def grid(
    title: str,
    *queries: Query,
    columns: dict[str, Column],
    transformations: Sequence[DataTransformerConfig] = (),
    unit: str = "none",
    mappings: list[ValueMap] | None = None,
    links: Sequence[dashboard_builders.DashboardLink] = (),
    sort_by: str | None = None,
    keep_time: bool = False,
    w: int = 12,
    h: int = 8,
) -> table.Panel:
    """A table: ``transformations``, then the columns renamed and hidden (and ``Time`` dropped
    unless ``keep_time``); coloured columns get an override each. Overrides match the shown
    name and carry object values only (thresholds, cell options, colour), as the dashboard
    schema requires; ``unit`` and ``mappings`` hold for every column."""
    shown = {name: column.label or name for name, column in columns.items()}
    hidden = {name: True for name, column in columns.items() if column.hidden}
    organize = {
        "excludeByName": hidden | ({} if keep_time else {"Time": True}),
        "renameByName": {name: label for name, label in shown.items() if label != name},
    }
    panel = _common(table.Panel(), title, queries, unit=unit, mappings=mappings, w=w, h=h)
    panel.cell_height(common.TableCellHeight.SM)
    panel.transformations([*transformations, DataTransformerConfig("organize", options=organize)])
    if sort_by:
        panel.sort_by([common_builders.TableSortByFieldState().display_name(shown[sort_by])])
    for name, column in columns.items():
        if column.thresholds is None and column.colour is None:
            continue
        properties = [DynamicConfigValue("custom.cellOptions", {"type": column.cell})]
        if column.thresholds is not None:
            properties.append(DynamicConfigValue("thresholds", column.thresholds.build()))
        if column.colour is not None:
            properties.append(DynamicConfigValue("color", column.colour))
        matcher = MatcherConfig("byNames", {"mode": "include", "names": [shown[name]]})
        panel.with_override(matcher, properties)
    if links:
        panel.data_links(list(links))
    return panel


def timeline(
    title: str, *queries: Query, mappings: list[ValueMap], w: int = 24, h: int = 9
) -> statetimeline.Panel:
    """States over time, one row per series, each value held until the next."""
    panel = _common(statetimeline.Panel(), title, queries, unit="none", mappings=mappings, w=w, h=h)
    panel.merge_values(True).show_value(common.VisibilityMode.AUTO).row_height(0.8)
    return panel.legend(_legend())


def site_map(
    title: str,
    *queries: Query,
    centre: tuple[float, float],
    layer: str,
    colour_field: str,
    label_field: str,
    thresholds: ThresholdsConfig,
    transformations: Sequence[DataTransformerConfig],
    links: Sequence[dashboard_builders.DashboardLink],
    mappings: list[ValueMap] | None = None,
    w: int = 12,
    h: int = 12,
) -> geomap.Panel:
    """Sites as markers at their ``lat``/``lon`` fields, coloured by ``colour_field`` through
    ``thresholds``, labelled with ``label_field``; a click follows ``links``."""
    lat, lon = centre
    marker_style = {
        "color": {"field": colour_field, "fixed": "dark-green"},
        "size": {"fixed": 9, "min": 6, "max": 16},
        "symbol": {"fixed": "img/icons/marker/circle.svg", "mode": "fixed"},
        "opacity": 0.9,
        "text": {"field": label_field, "fixed": "", "mode": "field"},
        "textConfig": {"fontSize": 11, "offsetX": 0, "offsetY": -14, "textAlign": "center"},
    }
    markers = (
        common_builders.MapLayerOptions()
        .type("markers")
        .name(layer)
        .config({"showLegend": True, "style": marker_style})
        .location(
            common_builders.FrameGeometrySource()
            .mode(common.FrameGeometrySourceMode.COORDS)
            .latitude("lat")
            .longitude("lon")
        )
        .tooltip(True)
    )
    panel = _common(
        geomap.Panel(),
        title,
        queries,
        unit="none",
        thresholds=thresholds,
        mappings=mappings,
        w=w,
        h=h,
    )
    panel.view(geomap.MapViewConfig().id("coords").lat(lat).lon(lon).zoom(10))
    panel.basemap(common_builders.MapLayerOptions().type("default").name("Basemap"))
    panel.controls(geomap.ControlsOptions().show_zoom(True).mouse_wheel_zoom(True).show_scale(True))
    panel.tooltip(geomap.TooltipOptions().mode(geomap_models.TooltipMode.DETAILS))
    panel.layers([markers]).transformations(list(transformations))
    return panel.data_links(list(links))


def join_sites(key: str) -> list[DataTransformerConfig]:
    """Join a results table (tag column ``key``) with the ``site`` table (tag ``station``) on
    the station id, so each row has its ``lat``/``lon``; times are dropped (a site's time is
    not a reading's)."""
    return [
        DataTransformerConfig(
            id_val="organize",
            options={"excludeByName": {"Time": True}, "renameByName": {"station": key}},
        ),
        DataTransformerConfig(id_val="joinByField", options={"byField": key, "mode": "inner"}),
    ]


def only_rows(field: str, value: float) -> DataTransformerConfig:
    """Keep the rows whose ``field`` equals ``value`` (InfluxQL has no HAVING)."""
    return DataTransformerConfig(
        id_val="filterByValue",
        options={
            "type": "include",
            "match": "all",
            "filters": [
                {"fieldName": field, "config": {"id": "equal", "options": {"value": value}}}
            ],
        },
    )


def link_to(title: str, uid: str, variable: str, field: str) -> dashboard_builders.DashboardLink:
    """A data link to dashboard ``uid`` with ``var-<variable>`` set from the clicked row's
    ``field``, keeping the time range."""
    url = f"/d/{uid}?var-{variable}=${{__data.fields.{field}}}&${{__url_time_range}}"
    return dashboard_builders.DashboardLink(title).type(DashboardLinkType.LINK).url(url)


def ranking_table(
    say: Say,
    title: str,
    board: str,
    score: str,
    score_thresholds: ThresholdsConfig | None,
    *,
    w: int = 12,
    h: int = 8,
) -> table.Panel:
    """The latest snapshot of a ``ranking`` board in the time range: one row per subject with
    rank, score and rank change (positive = improved, green)."""
    name = say.pick("name_zh", "name_en")
    query = f"""SELECT last("rank") AS "rank", last("score") AS "score",
        last("rank_change") AS "rank_change", last("{name}") AS "name" FROM "ranking"
        WHERE "board" = '{board}' AND $timeFilter GROUP BY "subject" """
    return grid(
        title,
        Query(query, table=True),
        columns={
            "rank": Column(say("排名", "Rank")),
            "name": Column(say("名称", "Name")),
            "score": Column(
                score,
                thresholds=score_thresholds,
                colour=None if score_thresholds else GREEN_TO_RED,
            ),
            "rank_change": Column(
                say("名次变化", "Rank change"),
                thresholds=steps((None, "red"), (0, "text"), (1, "green")),
                cell="color-text",
            ),
            "subject": Column(hidden=True),
        },
        sort_by="rank",
        w=w,
        h=h,
    )


def aqi_summary(say: Say, source: str, aqi_title: str, h: int) -> list[stat.Panel]:
    """Three stats of the latest hourly AQI of ``source`` (``FROM "air_aqi" WHERE …``): the AQI
    and the level in the standard's colours, and the primary pollutant."""
    return [
        big_number(
            aqi_title,
            Query(f'SELECT last("aqi") AS "AQI" {source}'),
            thresholds=aqi_thresholds(),
            h=h,
        ),
        big_number(
            say("空气质量级别", "AQI level"),
            Query(f'SELECT last("level") AS "level" {source}'),
            thresholds=aqi_level_thresholds(),
            mappings=aqi_level_mappings(say),
            h=h,
        ),
        big_number(
            say("首要污染物", "Primary pollutant"),
            Query(f'SELECT last("primary") AS "primary" {source}'),
            text=True,
            h=h,
        ),
    ]
