"""Pipeline health (数据管道运行状况): readings per second through the sink, consumer lag, dead
letters by reason, sink write latency and notifier deliveries, for one namespace."""

from __future__ import annotations

from dashboards import panels, styles
from dashboards.boards import PIPELINE
from dashboards.context import Context
from dashboards.influxql import Query
from dashboards.panels import Board

UID = PIPELINE
NS = """"namespace" =~ /^$namespace$/ AND $timeFilter"""
SINK = f"""FROM "pipeline" WHERE "kind" = 'sink' AND {NS}"""
NOTIFIER_FIELDS = ("delivered", "failed", "retried", "suppressed")  # cumulative counters
DEAD_LETTERS = """SELECT sum("count") FROM "deadletter" WHERE $timeFilter"""
DELIVERIES = ", ".join(f'non_negative_difference(last("{f}")) AS "{f}"' for f in NOTIFIER_FIELDS)


def build(ctx: Context) -> Board:
    say = ctx.say
    board = Board(
        UID, say("数据管道运行状况", "Pipeline health"), say, time_from="now-1h", refresh="10s"
    )
    board.variable("namespace", say("命名空间", "Namespace"), "pipeline", "namespace")
    sink_counters = (  # field, title, colour from 1 on
        ("paused", say("写入暂停", "Sink paused"), "red"),
        ("outages", say("InfluxDB 中断次数", "InfluxDB outages"), "orange"),
    )
    return board.add(
        panels.time_series(
            say("每秒读取记录", "Records read per second"),
            Query(
                f"""SELECT non_negative_derivative(last("records_read"), 1s) AS "read",
                non_negative_derivative(last("points_written"), 1s) AS "points written"
                {SINK} GROUP BY time($__interval), "host" fill(none)""",
                alias="$col · $tag_host",
            ),
            unit="cps",
        ),
        panels.time_series(
            say("消费延迟", "Consumer lag"),
            Query(
                f"""SELECT last("lag") FROM "pipeline" WHERE "kind" = 'lag' AND {NS}
                GROUP BY time($__interval), "group", "topic" fill(none)""",
                alias="$tag_group · $tag_topic",
            ),
            unit="short",
            thresholds=styles.steps((None, "green"), (10_000, "yellow"), (100_000, "red")),
        ),
        panels.time_series(
            say("死信（按原因）", "Dead letters by reason"),
            Query(
                f"""{DEAD_LETTERS} GROUP BY time($__interval), "reason" fill(none)""",
                alias="$tag_reason",
            ),
            unit="short",
            bars=True,
            w=16,
        ),
        panels.bars_by(say("死信合计", "Dead letters in range"), DEAD_LETTERS, "reason"),
        panels.time_series(
            say("写入延迟", "Sink write latency"),
            Query(
                f"""SELECT mean("write_latency_ms") AS "mean",
                max("write_latency_max_ms") AS "max" {SINK}
                GROUP BY time($__interval), "host" fill(none)""",
                alias="$col · $tag_host",
            ),
            unit="ms",
            thresholds=styles.steps((None, "green"), (1000, "yellow"), (5000, "red")),
        ),
        *(
            panels.big_number(
                title,
                Query(
                    f'SELECT last("{field}") AS "{field}" {SINK} GROUP BY "host"', alias="$tag_host"
                ),
                thresholds=styles.steps((None, "green"), (1, colour)),
                w=6,
                h=8,
            )
            for field, title, colour in sink_counters
        ),
        panels.time_series(
            say("通知投递", "Notifier deliveries"),
            Query(
                f"""SELECT {DELIVERIES} FROM "notifier" WHERE {NS}
                GROUP BY time($__interval), "channel" fill(none)""",
                alias="$tag_channel · $col",
            ),
            unit="short",
            bars=True,
        ),
        panels.time_series(
            say("待投递通知", "Notifications pending"),
            Query(
                f"""SELECT last("pending") AS "pending" FROM "notifier" WHERE {NS}
                GROUP BY time($__interval), "channel" fill(none)""",
                alias="$tag_channel",
            ),
            unit="short",
        ),
    )
