"""Replay namespaces in the sink: points of ``replay-<id>`` carry the tag ``run=<id>`` and go to
the replay database/bucket (``ENVMON_REPLAY_INFLUX_DATABASE`` / ``_BUCKET``), so live dashboards
stay clean and ``envmon replay drop`` can delete one run's points."""

from __future__ import annotations

from dataclasses import replace

from pipeline.replay.naming import run_of
from pipeline.settings import Settings
from pipeline.sinks.lineprotocol import LineProtocolError, encode
from pipeline.sinks.points import Route


def replay_influx(settings: Settings) -> Settings:
    """``settings`` aimed at the replay database/bucket."""
    return settings.model_copy(
        update={
            "influx_database": settings.replay_influx_database,
            "influx_bucket": settings.replay_influx_bucket,
        }
    )


def influx_target(settings: Settings) -> Settings:
    """``settings`` aimed at the replay database/bucket when its namespace is a replay's."""
    return settings if run_of(settings.namespace) is None else replay_influx(settings)


def run_tag(run: str) -> str:
    """``,run=<id>`` as a line-protocol tag (escaped by the shared encoder)."""
    line = encode("m", {"run": run}, {"f": 1}, 0)
    tag = line[len("m") : _tags_end(line)]
    if not tag:
        raise LineProtocolError(f"replay id {run!r} cannot be a tag value")
    return tag


def tagged(routes: dict[str, Route], namespace: str) -> dict[str, Route]:
    """``routes`` whose points get ``run=<id>`` when ``namespace`` is a replay's."""
    run = run_of(namespace)
    if run is None:
        return routes
    tag = run_tag(run)

    def add_tag(convert):  # type: ignore[no-untyped-def]
        def convert_tagged(raw: bytes) -> list[str]:
            return [_insert(line, tag) for line in convert(raw)]

        return convert_tagged

    return {
        topic: replace(route, convert=add_tag(route.convert)) for topic, route in routes.items()
    }


def _tags_end(line: str) -> int:
    """Where a line's measurement and tags end: its first unescaped space (the encoder escapes
    spaces in names and tags with a backslash and refuses backslashes in values)."""
    i = line.index(" ")
    while line[i - 1] == "\\":
        i = line.index(" ", i + 1)
    return i


def _insert(line: str, tag: str) -> str:
    """The tag appended to the line's tag set."""
    i = _tags_end(line)
    return line[:i] + tag + line[i:]
