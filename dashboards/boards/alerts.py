"""Alerts (告警): a timeline of alert states, counts by rule, severity and district, time to
resolve, and acknowledgements."""

from __future__ import annotations

from dashboards import panels, styles
from dashboards.boards import ALERTS
from dashboards.context import Context
from dashboards.influxql import Query
from dashboards.panels import Board, Column

UID = ALERTS
NEW_ALERTS = """SELECT count("alert_id") FROM "alert" WHERE "state" = 'firing' AND $timeFilter"""
RESOLVED = """FROM "alert" WHERE "state" = 'resolved' AND $timeFilter"""
ACKS = """FROM "alert_ack" WHERE $timeFilter"""
NEW_ALERTS_BY = (  # tag, zh, en
    ("rule", "按规则", "by rule"),
    ("severity", "按级别", "by severity"),
    ("district", "按区", "by district"),
)


def build(ctx: Context) -> Board:
    say = ctx.say
    return Board(UID, say("告警", "Alerts"), say).add(
        panels.timeline(
            say("告警状态时间线", "Alert states over time"),
            Query(
                """SELECT last("state") FROM "alert" WHERE $timeFilter
                GROUP BY time($__interval), "rule", "subject" fill(none)""",
                alias="$tag_rule · $tag_subject",
            ),
            mappings=styles.alert_state_mappings(say),
        ),
        *(
            panels.bars_by(say(f"新告警数{zh}", f"New alerts {en}"), NEW_ALERTS, tag)
            for tag, zh, en in NEW_ALERTS_BY
        ),
        panels.big_number(
            say("平均恢复时长", "Mean time to resolve"),
            Query(
                f'SELECT (mean("ended_ms") - mean("started_ms")) / 1000 AS "resolve_s" {RESOLVED}'
            ),
            unit="s",
            w=6,
            h=8,
        ),
        panels.grid(
            say("已恢复告警的持续时间", "Time to resolve per alert"),
            Query(
                f"""SELECT ("ended_ms" - "started_ms") / 1000 AS "duration_s", "alert_id"
                {RESOLVED} GROUP BY "rule", "subject", "severity" """,
                table=True,
            ),
            columns={
                **panels.labelled(say, "rule", "subject", "severity"),
                "duration_s": Column(say("持续时间", "Duration")),
                "alert_id": Column(hidden=True),
            },
            unit="s",
            w=18,
        ),
        panels.bars_by(
            say("确认数（按规则）", "Acknowledgements by rule"),
            f'SELECT count("alert_id") {ACKS}',
            "rule",
        ),
        panels.grid(
            say("告警确认", "Acknowledgements"),
            Query(
                f'SELECT "alert_id", "by", "note" {ACKS} GROUP BY "rule", "severity"', table=True
            ),
            columns={
                **panels.labelled(say, "Time", "rule", "severity"),
                "alert_id": Column(say("告警", "Alert")),
                "by": Column(say("确认人", "By")),
                "note": Column(say("备注", "Note")),
            },
            keep_time=True,
            w=16,
        ),
    )
