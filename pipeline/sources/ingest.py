"""Runs a file feed into the readings topics: envelopes per station, rejects to the dead letters."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import msgspec

from pipeline.messages import (
    VALUES_TYPES,
    Decoder,
    Reading,
    Reject,
    RejectReason,
    dead_letter_from,
    encode_envelope,
)
from pipeline.registry import Registry, StationKind
from pipeline.sources.filefeed import Row
from pipeline.topics import Topics

Send = Callable[[str, bytes, bytes], None]
ENVELOPE_SIZE = 500


@dataclass
class IngestSummary:
    read: int = 0
    sent: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    ignored_columns: list[str] = field(default_factory=list)
    rejected_lines: list[tuple[int, str, str]] = field(default_factory=list)  # line, reason, detail

    @property
    def reconciles(self) -> bool:
        return self.read == self.sent + sum(self.rejected.values())


class Ingest:
    """Validates rows with the agents' decoder and sends them; call :meth:`finish` at the end."""

    def __init__(self, registry: Registry, topics: Topics, send: Send, source: str) -> None:
        self.registry = registry
        self.topics = topics
        self.send = send
        self.source = source
        self.summary = IngestSummary()
        self._decoders = {kind: Decoder(kind, registry) for kind in StationKind}
        self._pending: dict[str, list[Reading]] = defaultdict(list)

    def feed(self, rows: Iterable[Row], progress: Callable[[int], None] = lambda n: None) -> None:
        for row in rows:
            self.summary.read += 1
            outcome = self._validate(row)
            if isinstance(outcome, Reject):
                self._dead_letter(row, outcome)
            else:
                pending = self._pending[outcome[0].station]
                pending.extend(outcome)
                if len(pending) >= ENVELOPE_SIZE:
                    self._send_station(outcome[0].station)
            progress(1)

    def finish(self) -> IngestSummary:
        for station in list(self._pending):
            self._send_station(station)
        return self.summary

    def _validate(self, row: Row) -> list[Reading] | Reject:
        if row.reject is not None or row.message is None:
            return row.reject or Reject(RejectReason.MALFORMED_ROW, None, "unreadable row")
        station = self.registry.get(row.station or "")
        if station is None:
            detail = f"station {row.station!r} is not in the registry"
            return Reject(RejectReason.UNKNOWN_STATION, "station", detail)
        foreign = [
            k for k in row.value_keys if k not in VALUES_TYPES[station.kind].__struct_fields__
        ]
        if foreign:
            detail = f"{station.kind} station {station.id!r} has no {', '.join(foreign)}"
            return Reject(RejectReason.WRONG_STATION_KIND, foreign[0], detail)
        return self._decoders[station.kind].decode(row.message)

    def _send_station(self, station_id: str) -> None:
        readings = sorted(self._pending.pop(station_id, []), key=lambda r: r.ts_ms)
        station = self.registry.stations[station_id]
        topic = (
            self.topics.air_readings
            if station.kind is StationKind.AIR
            else self.topics.water_readings
        )
        # an envelope's times strictly increase: a repeated time starts the next envelope,
        # so that the agents, not the feed, decide about duplicates
        chunk: list[Reading] = []
        for reading in readings:
            if len(chunk) >= ENVELOPE_SIZE or (chunk and reading.ts_ms <= chunk[-1].ts_ms):
                self._send_envelope(topic, station_id, chunk)
                chunk = []
            chunk.append(reading)
        if chunk:
            self._send_envelope(topic, station_id, chunk)

    def _send_envelope(self, topic: str, station_id: str, chunk: list[Reading]) -> None:
        self.send(topic, station_id.encode(), encode_envelope(station_id, chunk))
        self.summary.sent += len(chunk)

    def _dead_letter(self, row: Row, reject: Reject) -> None:
        letter = dead_letter_from(
            reject,
            row.raw,
            f"file:{self.source}",
            -1,
            row.line,
            row.station,
            int(time.time() * 1000),
        )
        self.send(self.topics.deadletter, (row.station or "").encode(), msgspec.json.encode(letter))
        self.summary.rejected[reject.reason.value] += 1
        self.summary.rejected_lines.append((row.line, reject.reason.value, reject.detail))
