"""Alerts (告警): a timeline of alert states, counts by rule, severity and district, time to
resolve, and acknowledgements."""

from __future__ import annotations

from dashboards import panels, styles
from dashboards.boards import ALERTS
from dashboards.context import Context
from dashboards.influxql import Query
from dashboards.panels import Board, Column

UID = ALERTS
NEW_ALERTS = """FROM "alert" WHERE "state" = 'firing' AND $timeFilter"""


def build(ctx: Context) -> Board:
    say = ctx.say
    board = Board(UID, say("告警", "Alerts"), say)
    board.add(
        panels.timeline(
            say("告警状态时间线", "Alert states over time"),
            [
                Query(
                    "A",
                    """SELECT last("state") FROM "alert" WHERE $timeFilter
                    GROUP BY time($__interval), "rule", "subject" fill(none)""",
                    alias="$tag_rule · $tag_subject",
                )
            ],
            mappings=styles.alert_state_mappings(say),
        )
    )
    for tag, zh, en in (
        ("rule", "按规则", "by rule"),
        ("severity", "按级别", "by severity"),
        ("district", "按区", "by district"),
    ):
        board.add(
            panels.bars(
                say(f"新告警数{zh}", f"New alerts {en}"),
                [
                    Query(
                        "A",
                        f"""SELECT count("alert_id") {NEW_ALERTS} GROUP BY "{tag}" """,
                        alias=f"$tag_{tag}",
                    )
                ],
                unit="short",
                w=8,
            )
        )
    board.add(
        panels.big_number(
            say("平均恢复时长", "Mean time to resolve"),
            [
                Query(
                    "A",
                    """SELECT (mean("ended_ms") - mean("started_ms")) / 1000 AS "resolve_s"
                    FROM "alert" WHERE "state" = 'resolved' AND $timeFilter""",
                )
            ],
            unit="s",
            w=6,
            h=8,
        )
    )
    board.add(
        panels.grid(
            say("已恢复告警的持续时间", "Time to resolve per alert"),
            [
                Query(
                    "A",
                    """SELECT ("ended_ms" - "started_ms") / 1000 AS "duration_s", "alert_id"
                    FROM "alert" WHERE "state" = 'resolved' AND $timeFilter
                    GROUP BY "rule", "subject", "severity" """,
                    table=True,
                )
            ],
            columns={
                "rule": Column(say("规则", "Rule")),
                "subject": Column(say("对象", "Subject")),
                "severity": Column(say("级别", "Severity")),
                "duration_s": Column(say("持续时间", "Duration")),
                "alert_id": Column(hidden=True),
            },
            unit="s",
            w=18,
            h=8,
        )
    )
    board.add(
        panels.bars(
            say("确认数（按规则）", "Acknowledgements by rule"),
            [
                Query(
                    "A",
                    """SELECT count("alert_id") FROM "alert_ack" WHERE $timeFilter
                    GROUP BY "rule" """,
                    alias="$tag_rule",
                )
            ],
            unit="short",
            w=8,
        )
    )
    board.add(
        panels.grid(
            say("告警确认", "Acknowledgements"),
            [
                Query(
                    "A",
                    """SELECT "alert_id", "by", "note" FROM "alert_ack" WHERE $timeFilter
                    GROUP BY "rule", "severity" """,
                    table=True,
                )
            ],
            columns={
                "Time": Column(say("时间", "Time")),
                "rule": Column(say("规则", "Rule")),
                "severity": Column(say("级别", "Severity")),
                "alert_id": Column(say("告警", "Alert")),
                "by": Column(say("确认人", "By")),
                "note": Column(say("备注", "Note")),
            },
            keep_time=True,
            w=16,
        )
    )
    return board
