"""Publishes simulator records: envelopes per station for bulk work, single messages when paced.

An envelope's readings must strictly increase in time, so a duplicate or out-of-order reading
(faults on purpose) is sent on its own after its station's envelope; malformed records go out as
their raw bytes. Every message is keyed by station id, which keeps each station's order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from pipeline.messages import encode_envelope, encode_reading
from pipeline.registry import StationKind
from pipeline.sources.simulator import MalformedMessage, Record, SimReading
from pipeline.topics import Topics

Send = Callable[[str, bytes, bytes], None]


@dataclass
class PublishCounts:
    readings: int = 0
    messages: int = 0
    malformed: int = 0


class Publisher:
    def __init__(self, topics: Topics, send: Send, envelopes: bool) -> None:
        self.topics = topics
        self.send = send
        self.envelopes = envelopes
        self.counts = PublishCounts()

    def topic_of(self, kind: StationKind) -> str:
        return self.topics.air_readings if kind is StationKind.AIR else self.topics.water_readings

    def publish(self, records: list[Record]) -> None:
        if not self.envelopes:
            for record in records:
                self._single(record)
            return
        batches: dict[str, list[SimReading]] = defaultdict(list)
        stragglers: list[Record] = []
        for record in records:
            if isinstance(record, MalformedMessage):
                stragglers.append(record)
                continue
            batch = batches[record.station]
            if batch and record.ts_ms <= batch[-1].ts_ms:
                stragglers.append(record)
            else:
                batch.append(record)
        for station, batch in batches.items():
            self._send(batch[0].kind, station, encode_envelope(station, batch), len(batch))
        for record in stragglers:
            self._single(record)

    def _single(self, record: Record) -> None:
        if isinstance(record, MalformedMessage):
            self.counts.malformed += 1
            self._send(record.kind, record.station, record.raw, 0)
        else:
            self._send(record.kind, record.station, encode_reading(record), 1)

    def _send(self, kind: StationKind, station: str, payload: bytes, readings: int) -> None:
        self.send(self.topic_of(kind), station.encode(), payload)
        self.counts.messages += 1
        self.counts.readings += readings
