"""What a replay sends, slice by slice of event time (pure: the same input, the same messages).

Each source stream (a topic partition, records in offset order) is read as far as the slice's
end: a record belongs to the slice of its first selected reading. A record is decoded with the
stream agents' decoder; its readings outside [from, to) or of stations not asked for are left out.
A record the decoder rejects is sent as its raw bytes, in its place (it rides along with the
stream's event time, and is sent when that is inside the range), so the agents dead-letter it
again. Messages are keyed by station and each station's readings keep their order.

When not paced, each station's consecutive readings in a slice go out as one envelope; a reading
not later than the one before it (a duplicate, an out-of-order reading) starts a new envelope
after it, and a rejected record ends the envelope before it — so an envelope never changes what
the agents accept. When paced, every reading goes out on its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pipeline.messages import Decoder, Reading, Reject, encode_envelope, encode_reading
from pipeline.registry import Registry, StationKind
from pipeline.replay.kafka_range import Record


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to send: its kind (``air``/``water``), source partition, key and value."""

    kind: str
    partition: int
    key: bytes
    value: bytes
    readings: int


@dataclass(frozen=True)
class Selection:
    from_ms: int
    to_ms: int
    stations: frozenset[str] | None = None

    def wants(self, station: str) -> bool:
        return self.stations is None or station in self.stations


@dataclass
class _Head:
    record: Record
    readings: list[Reading[Any]] | None  # None: rejected, sent raw
    time_ms: int | None  # of its first selected reading; None for a raw record


class Stream:
    """One source stream, read ahead by one record; ``position`` is the next offset to read."""

    def __init__(
        self, kind: str, records: Iterator[Record], position: int, decoder: Decoder[Any]
    ) -> None:
        self.kind, self.position = kind, position
        self._records, self._decoder = records, decoder
        self._head: _Head | None = None
        self.clock_ms: int | None = None  # event time of the last selected reading

    def peek(self, selection: Selection) -> _Head | None:
        while self._head is None:
            record = next(self._records, None)
            if record is None:
                return None
            self._head = self._select(record, selection)
            if self._head is None:  # nothing selected: consumed
                self.position = record.offset + 1
        return self._head

    def _select(self, record: Record, selection: Selection) -> _Head | None:
        decoded = self._decoder.decode(record.value)
        if isinstance(decoded, Reject):
            station = (record.key or b"").decode("utf-8", "replace")
            now = self.clock_ms if self.clock_ms is not None else record.ts_ms
            inside = selection.from_ms <= now < selection.to_ms and selection.wants(station)
            return _Head(record, None, None) if inside else None
        readings = [
            r
            for r in decoded
            if selection.from_ms <= r.ts_ms < selection.to_ms and selection.wants(r.station)
        ]
        return _Head(record, readings, readings[0].ts_ms) if readings else None

    def take(self) -> _Head:
        head, self._head = self._head, None
        assert head is not None
        self.position = head.record.offset + 1
        if head.time_ms is not None and head.readings:
            self.clock_ms = head.readings[-1].ts_ms
        return head


@dataclass
class _Run:
    kind: str
    partition: int
    station: str
    readings: list[Reading[Any]] = field(default_factory=list)


def decoders(registry: Registry) -> dict[str, Decoder[Any]]:
    return {
        "air": Decoder(StationKind.AIR, registry),
        "water": Decoder(StationKind.WATER, registry),
    }


def build_slice(
    streams: dict[str, Stream], selection: Selection, end_ms: int, envelopes: bool
) -> list[Outgoing]:
    """The messages of the slice ending at ``end_ms``: every stream (in key order) read up to
    its first selected reading at or after ``end_ms``."""
    out: list[Outgoing | _Run] = []
    for stream in (streams[key] for key in sorted(streams)):
        runs: dict[str, _Run] = {}
        while (head := stream.peek(selection)) is not None:
            if head.time_ms is not None and head.time_ms >= end_ms:
                break
            stream.take()
            record = head.record
            if head.readings is None:
                station = (record.key or b"").decode("utf-8", "replace")
                runs.pop(station, None)
                out.append(
                    Outgoing(stream.kind, record.partition, record.key or b"", record.value, 0)
                )
                continue
            for reading in head.readings:
                if not envelopes:
                    value = encode_reading(reading)
                    out.append(
                        Outgoing(stream.kind, record.partition, reading.station.encode(), value, 1)
                    )
                    continue
                run = runs.get(reading.station)
                if run is None or reading.ts_ms <= run.readings[-1].ts_ms:
                    run = runs[reading.station] = _Run(
                        stream.kind, record.partition, reading.station
                    )
                    out.append(run)
                run.readings.append(reading)
    return [_outgoing(item) for item in out]


def _outgoing(item: Outgoing | _Run) -> Outgoing:
    if isinstance(item, Outgoing):
        return item
    value = encode_envelope(item.station, item.readings)
    return Outgoing(item.kind, item.partition, item.station.encode(), value, len(item.readings))
