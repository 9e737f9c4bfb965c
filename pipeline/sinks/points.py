"""Messages -> InfluxDB points (line protocol), one pure function per message kind.

The layout is documented in docs/influxdb.md: a measurement per kind, tags only for bounded sets
(ids of stations, districts, rivers; scope, report, board, rule, severity, reason), numbers and
texts as fields, and the event time as the timestamp, so writing a record again overwrites the
same point. :func:`routes` maps each topic of a namespace to its converter and to where its
points are kept (raw readings apart from results, for their shorter retention).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import msgspec

from pipeline.messages import (
    AlertEvent,
    AqiMessage,
    DeadLetter,
    Decoder,
    QcFlagMessage,
    RankingMessage,
    Reading,
    Reject,
    RejectReason,
    WaterQualityMessage,
)
from pipeline.messages.notify import AlertAck
from pipeline.registry import Registry, Station, StationKind
from pipeline.sinks.lineprotocol import (
    FieldValue,
    LineProtocolError,
    encode,
    field_key,
    field_set,
    float_field_set,
    quoted,
    series,
)
from pipeline.topics import Topics

NS_PER_MS = 1_000_000


class Target(StrEnum):
    """Where InfluxDB keeps a point: raw readings expire, results are kept."""

    RAW = "raw"
    RESULTS = "results"


def reading_series(station: Station) -> str:
    """The series of a station's raw readings (``air_reading`` or ``water_reading``)."""
    if station.kind is StationKind.AIR:
        return series("air_reading", {"station": station.id, "district": station.district})
    tags = {"station": station.id, "district": station.district, "river": station.river}
    return series("water_reading", tags)


def reading(head: str, reading: Reading[Any]) -> str:
    """One raw reading as a point of series ``head`` (:func:`reading_series` of its station):
    its values, ``interval_s`` and a ``{key}_flag`` string per device flag. The bulk of the
    sink's points, so written by hand (a property test holds it to the generic encoder)."""
    body = float_field_set(reading.values)
    interval = f"interval_s={reading.interval_s}i"
    body = f"{body},{interval}" if body else interval
    for key, flag in reading.flags.items():
        body += f",{field_key(key + '_flag')}{quoted(flag)}"
    return f"{head} {body} {reading.ts_ms * NS_PER_MS}"


def aqi(msg: AqiMessage) -> str:
    """The busiest result kind, so its fixed fields are one f-string (the ``int`` fields typed
    by the message schema, strings :func:`quoted`); the pollutant maps go through ``field_set``."""
    head = series(
        "air_aqi",
        {
            "scope": msg.scope,
            "subject": msg.subject,
            "district": msg.district.id if msg.district else None,
            "report": msg.report,
        },
    )
    body = (
        f"aqi={msg.aqi}i,level={msg.level}i,category_zh={quoted(msg.category_zh)},"
        f"category_en={quoted(msg.category_en)},color={quoted(msg.color)},"
        f"primary={quoted(','.join(msg.primary))},exceeding={quoted(','.join(msg.exceeding))},"
        f"standard={quoted(msg.standard)},period={quoted(msg.period_label)},"
        f"valid_stations={msg.valid_stations}i,"
        f"name_zh={quoted(msg.name_zh)},name_en={quoted(msg.name_en)}"
    )
    pollutants = {f"iaqi_{key}": value for key, value in msg.iaqi.items()}
    pollutants.update((key, float(value)) for key, value in msg.concentrations.items())
    if pollutants:
        body += "," + field_set(pollutants)
    return f"{head} {body} {msg.period_start_ms * NS_PER_MS}"


def water_quality(msg: WaterQualityMessage) -> str:
    tags = {"station": msg.station, "district": msg.district.id, "river": msg.river.id}
    fields: dict[str, FieldValue | None] = {
        "class_num": msg.class_num,
        "water_class": msg.water_class,
        "target_class": msg.target_class,
        "cwqi": float(msg.cwqi),
        "failing": ",".join(f.key for f in msg.failing),
        "name_zh": msg.name_zh,
        "name_en": msg.name_en,
    }
    fields.update((f"class_{key}", label) for key, label in msg.per_parameter.items())
    fields.update((key, float(value)) for key, value in msg.values.items())
    return encode("water_quality", tags, fields, msg.ts_ms * NS_PER_MS)


def ranking(msg: RankingMessage) -> list[str]:
    """One point per entry of the board."""
    return [
        encode(
            "ranking",
            {"board": msg.board, "subject": entry.subject},
            {
                "rank": entry.rank,
                "score": float(entry.score),
                "rank_change": entry.rank_change,
                "valid_stations": entry.valid_stations,
                "period": msg.period,
                "name_zh": entry.name_zh,
                "name_en": entry.name_en,
            },
            msg.ts_ms * NS_PER_MS,
        )
        for entry in msg.entries
    ]


def alert(event: AlertEvent) -> str:
    subject = event.subject
    tags = {
        "rule": event.rule,
        "severity": event.severity,
        "scope": subject.scope,
        "subject": subject.id,
        "district": subject.district,
        "river": subject.river,
    }
    fields: dict[str, FieldValue | None] = {
        "state": event.state,
        "active": int(event.state != "resolved"),
        "value": None if event.value is None else float(event.value),
        "threshold": None if event.threshold is None else float(event.threshold),
        "alert_id": event.alert_id,
        "transition_id": event.transition_id,
        "started_ms": event.started_ms,
        "ended_ms": event.ended_ms,
        "name_zh": subject.name_zh,
        "name_en": subject.name_en,
        "message_zh": event.message_zh,
        "message_en": event.message_en,
    }
    return encode("alert", tags, fields, event.event_ms * NS_PER_MS)


def alert_ack(ack: AlertAck) -> str:
    """An acknowledgement (``{ns}.alert-acks``) at its time: who took which alert on."""
    tags = {"rule": ack.rule, "severity": ack.severity}
    fields: dict[str, FieldValue | None] = {
        "alert_id": ack.alert_id,
        "by": ack.by,
        "note": ack.note,
        "source": ack.source,
    }
    return encode("alert_ack", tags, fields, ack.ack_ms * NS_PER_MS)


def qc(msg: QcFlagMessage) -> list[str]:
    """One point per flag of a QC-flagged value (``flag`` is a tag, so a value with two flags
    makes two series at one time)."""
    tags = {"station": msg.station, "district": msg.district.id, "parameter": msg.parameter}
    fields: dict[str, FieldValue | None] = {"value": float(msg.value), "kind": msg.kind}
    return [
        encode("qc", {**tags, "flag": flag}, fields, msg.ts_ms * NS_PER_MS) for flag in msg.flags
    ]


def dead_letter(letter: DeadLetter) -> str:
    """One point per dead letter, so ``count`` sums to the dead letters by reason and source.

    The sub-millisecond digits of the timestamp come from the source offset and partition, so
    dead letters rejected in the same millisecond stay apart and a rewrite still overwrites.
    """
    source = "file" if letter.source_topic.startswith("file:") else letter.source_topic
    sub_ms = (letter.offset % 1000) * 1000 + letter.partition % 1000
    fields: dict[str, FieldValue | None] = {
        "count": 1,
        "detail": letter.detail,
        "field": letter.field,
        "source_topic": letter.source_topic,
        "partition": letter.partition,
        "offset": letter.offset,
        "key": letter.key,
    }
    tags = {"reason": letter.reason.value, "source": source}
    return encode("deadletter", tags, fields, letter.rejected_ms * NS_PER_MS + sub_ms)


class Unconvertible(Exception):
    """A record that yields no points, with the reject that says why.

    ``dead_letter`` is False where another service dead-letters the record (raw readings the
    validating agents reject) or the record is a dead letter itself.
    """

    def __init__(self, reject: Reject, dead_letter: bool = True) -> None:
        super().__init__(f"{reject.reason}: {reject.detail}")
        self.reject = reject
        self.dead_letter = dead_letter


@dataclass(frozen=True, slots=True)
class Route:
    """How the records of one topic become points, and where InfluxDB keeps them."""

    target: Target
    convert: Callable[[bytes], list[str]]


def _results(message_type: type[Any], to_lines: Callable[[Any], list[str]]) -> Route:
    decoder = msgspec.json.Decoder(message_type)
    ours = message_type is not DeadLetter

    def convert(raw: bytes) -> list[str]:
        try:
            message = decoder.decode(raw)
        except msgspec.ValidationError as exc:
            raise Unconvertible(Reject(RejectReason.WRONG_TYPE, None, str(exc)), ours) from None
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise Unconvertible(Reject(RejectReason.MALFORMED_JSON, None, str(exc)), ours) from None
        try:
            return to_lines(message)
        except LineProtocolError as exc:
            reject = Reject(RejectReason.INFLUX_REJECTED, None, str(exc))
            raise Unconvertible(reject, ours) from None

    return Route(Target.RESULTS, convert)


class _Heads(dict[str, str]):
    """Station id -> :func:`reading_series`, made on first use (stations are a bounded set)."""

    def __init__(self, registry: Registry) -> None:
        super().__init__()
        self._stations = registry.stations

    def __missing__(self, station: str) -> str:
        head = self[station] = reading_series(self._stations[station])
        return head


def _readings(kind: StationKind, registry: Registry) -> Route:
    decoder: Decoder[Any] = Decoder(kind, registry)
    heads = _Heads(registry)

    def convert(raw: bytes) -> list[str]:
        readings = decoder.decode(raw)
        if isinstance(readings, Reject):
            raise Unconvertible(readings, dead_letter=False)
        try:
            return [reading(heads[r.station], r) for r in readings]
        except LineProtocolError as exc:
            raise Unconvertible(Reject(RejectReason.INFLUX_REJECTED, None, str(exc))) from None

    return Route(Target.RAW, convert)


def routes(topics: Topics, registry: Registry, seen: Counter[str]) -> dict[str, Route]:
    """The topics the sink reads, each with its route; ``seen`` counts the dead letters
    converted, by reason."""

    def count(letter: DeadLetter) -> list[str]:
        seen[letter.reason.value] += 1
        return [dead_letter(letter)]

    return {
        topics.air_readings: _readings(StationKind.AIR, registry),
        topics.water_readings: _readings(StationKind.WATER, registry),
        topics.air_aqi: _results(AqiMessage, lambda m: [aqi(m)]),
        topics.water_quality: _results(WaterQualityMessage, lambda m: [water_quality(m)]),
        topics.rankings: _results(RankingMessage, ranking),
        topics.alerts: _results(AlertEvent, lambda m: [alert(m)]),
        topics.alert_acks: _results(AlertAck, lambda m: [alert_ack(m)]),
        topics.qc: _results(QcFlagMessage, qc),
        topics.deadletter: _results(DeadLetter, count),
    }
