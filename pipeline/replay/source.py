"""Where a replay reads: Kafka partitions by time range, or archive files. Both give the same
streams — one per source topic partition (``air/3``), records in offset order — so a replay from
either source sends the same messages.

A source is planned once (:meth:`plan`: the bounds of every stream, saved in the checkpoint so a
resumed replay reads exactly the same records) and opened at the checkpoint's positions.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from kafka import TopicPartition

from pipeline.archive.files import SUFFIX, ArchiveError, parse_name, read_records
from pipeline.archive.writer import local_day
from pipeline.replay.kafka_range import RangeReader, Record
from pipeline.settings import Settings
from pipeline.topics import Topics

READING_KINDS = ("air", "water")
Bounds = dict[str, Any]  # per stream, JSON-able


def stream_key(kind: str, partition: int) -> str:
    return f"{kind}/{partition}"


def kind_of(stream: str) -> str:
    return stream.partition("/")[0]


class ReplaySource(Protocol):
    def plan(self) -> dict[str, Bounds]:
        """The streams and their bounds (records beyond them are not replayed)."""

    def open(
        self, plan: dict[str, Bounds], positions: dict[str, int]
    ) -> dict[str, Iterator[Record]]:
        """Every stream's records from its position (an offset) to its bound."""

    def close(self) -> None: ...


class KafkaSource:
    """The readings topics of ``namespace``: from ``offsets_for_times(from_ms)`` to their ends at
    planning time."""

    def __init__(self, settings: Settings, namespace: str, from_ms: int) -> None:
        self.topics = Topics(namespace)
        self.from_ms = from_ms
        self.reader = RangeReader(settings)
        self._kinds = {self.topics.air_readings: "air", self.topics.water_readings: "water"}

    def plan(self) -> dict[str, Bounds]:
        tps = [tp for topic in self._kinds for tp in self.reader.partitions(topic)]
        if not tps:
            return {}
        self.reader.open(self.reader.starts_at(tps, self.from_ms))
        starts = {tp: self.reader.position(tp) for tp in tps}
        ends = self.reader.ends()
        return {
            stream_key(self._kinds[tp.topic], tp.partition): {"start": starts[tp], "end": ends[tp]}
            for tp in tps
        }

    def open(
        self, plan: dict[str, Bounds], positions: dict[str, int]
    ) -> dict[str, Iterator[Record]]:
        tps = {stream: self._tp(stream) for stream in plan}
        self.reader.open({tp: positions[s] for s, tp in tps.items()})
        return {s: self.reader.records(tp, plan[s]["end"]) for s, tp in tps.items()}

    def _tp(self, stream: str) -> TopicPartition:
        kind, _, partition = stream.partition("/")
        topic = self.topics.air_readings if kind == "air" else self.topics.water_readings
        return TopicPartition(topic, int(partition))

    def close(self) -> None:
        self.reader.consumer.close()


class ArchiveSource:
    """The archive files of ``namespace`` for the days of [from_ms, to_ms) and the day before
    (an envelope is filed under its first reading's day)."""

    def __init__(self, root: Path, namespace: str, from_ms: int, to_ms: int, tz: ZoneInfo) -> None:
        self.directory = root / namespace
        self.first_day = local_day(from_ms, tz) - timedelta(days=1)
        self.last_day = local_day(to_ms - 1, tz)

    def plan(self) -> dict[str, Bounds]:
        if not self.directory.is_dir():
            raise ArchiveError(f"archive directory {self.directory} does not exist")
        streams: dict[str, Bounds] = {}
        for day_dir in sorted(self.directory.iterdir()):
            for path in sorted(day_dir.glob(f"*{SUFFIX}")) if day_dir.is_dir() else ():
                parsed = parse_name(path)
                if parsed is None or parsed[1] not in READING_KINDS:
                    continue
                day, kind, partition = parsed
                if self.first_day <= day <= self.last_day:
                    files = streams.setdefault(stream_key(kind, partition), {"files": {}})["files"]
                    files[str(path.relative_to(self.directory))] = path.stat().st_size
        if not streams:
            raise ArchiveError(
                f"no archive files for {self.first_day + timedelta(days=1)} to {self.last_day} "
                f"in {self.directory}"
            )
        return dict(sorted(streams.items()))

    def open(
        self, plan: dict[str, Bounds], positions: dict[str, int]
    ) -> dict[str, Iterator[Record]]:
        return {stream: self._records(bounds, positions[stream]) for stream, bounds in plan.items()}

    def _records(self, bounds: Bounds, position: int) -> Iterator[Record]:
        files = [
            read_records(self.directory / name, size) for name, size in bounds["files"].items()
        ]
        for r in heapq.merge(*files, key=lambda r: r.o):
            if r.o >= position:
                yield Record(r.p, r.o, r.t, r.key, r.value)

    def close(self) -> None:
        pass


def start_positions(plan: dict[str, Bounds]) -> dict[str, int]:
    return {stream: bounds.get("start", 0) for stream, bounds in plan.items()}
