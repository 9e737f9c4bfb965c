"""The sink writes acknowledgements: measurement ``alert_ack`` from ``{ns}.alert-acks``."""

from __future__ import annotations

from collections import Counter

import msgspec

from pipeline.messages.notify import AlertAck
from pipeline.registry import Registry
from pipeline.sinks.points import NS_PER_MS, Target, routes
from pipeline.topics import Topics
from tests.unit.test_lineprotocol import parse


def test_sink_reads_acks_into_alert_ack_points() -> None:
    topics = Topics("t")
    route = routes(topics, Registry.load(), Counter())[topics.alert_acks]
    ack = AlertAck(
        alert_id="a1b2",
        by="王工",
        note='说 "好"',
        ack_ms=1_764_208_800_123,
        source="link",
        rule="pm25_hourly",
        severity="critical",
    )
    [line] = route.convert(msgspec.json.encode(ack))
    name, tags, fields, ts = parse(line)
    assert route.target is Target.RESULTS
    assert (name, ts) == ("alert_ack", 1_764_208_800_123 * NS_PER_MS)
    assert tags == {"rule": "pm25_hourly", "severity": "critical"}
    assert fields == {"alert_id": "a1b2", "by": "王工", "note": '说 "好"', "source": "link"}


def test_ack_from_the_command_line_without_rule() -> None:
    topics = Topics("t")
    route = routes(topics, Registry.load(), Counter())[topics.alert_acks]
    ack = AlertAck(alert_id="x", by="ops", ack_ms=1_764_208_800_000)
    name, tags, fields, _ = parse(route.convert(msgspec.json.encode(ack))[0])
    assert (name, tags, fields["by"], fields["source"]) == ("alert_ack", {}, "ops", "cli")
