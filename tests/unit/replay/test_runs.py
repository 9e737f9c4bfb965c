"""The sink's handling of replay namespaces: the run tag and the replay database/bucket."""

from __future__ import annotations

from pipeline.settings import Settings
from pipeline.sinks.lineprotocol import encode
from pipeline.sinks.points import Route, Target
from pipeline.sinks.runs import influx_target, tagged


def test_replay_points_get_the_run_tag_and_live_points_do_not() -> None:
    line = encode("air aqi", {"scope": "station", "subject": "S 1"}, {"aqi": 50}, 1)
    routes = {"t": Route(Target.RESULTS, lambda raw: [line])}
    assert tagged(routes, "env")["t"].convert(b"") == [line]
    tagged_line = tagged(routes, "replay-what if")["t"].convert(b"")[0]
    assert tagged_line == r"air\ aqi,scope=station,subject=S\ 1,run=what\ if aqi=50i 1"


def test_replay_namespaces_write_into_the_replay_database() -> None:
    live = Settings(namespace="env", influx_database="envmon", influx_bucket="envmon")
    assert influx_target(live) == live
    replay = influx_target(live.model_copy(update={"namespace": "replay-x"}))
    assert (replay.influx_database, replay.influx_bucket) == ("envmon_replay", "envmon_replay")
