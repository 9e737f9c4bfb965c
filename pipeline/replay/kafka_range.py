"""Reading partitions of Kafka topics between two offsets, in offset order, without consumer groups.

Tansu 0.6 answers ListOffsets wrongly (latest: too low, docs/influxdb.md "Tansu end offsets"; by
time: the partition's first offset, bench/tansu_offsets_for_times.py). So ends come from the high
watermark of fetch responses, which it reports correctly, and ``offsets_for_times`` is only a
lower bound to seek to: callers filter by event time anyway, so an answer that is too early costs
reading time, never data.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from pipeline.kafka.admin import BrokerUnavailable
from pipeline.kafka.config import kafka_python_config
from pipeline.settings import Settings

QUIET_S = 1.0  # a partition that returned nothing for this long has nothing beyond its position
BUFFERED = 20_000  # records buffered per partition before it is paused


@dataclass(frozen=True, slots=True)
class Record:
    partition: int
    offset: int
    ts_ms: int
    key: bytes | None
    value: bytes


class RangeReader:
    """Partitions of topics read by manual assignment; use as a context manager."""

    def __init__(self, settings: Settings, timeout: float = 10.0) -> None:
        self.bootstrap = settings.kafka_bootstrap
        try:
            self.consumer = KafkaConsumer(
                **kafka_python_config(settings),
                client_id="envmon-replay",
                enable_auto_commit=False,
                max_poll_records=5000,
                fetch_max_bytes=16 * 1024 * 1024,
                max_partition_fetch_bytes=4 * 1024 * 1024,
                bootstrap_timeout_ms=round(timeout * 1000),
                request_timeout_ms=max(2000, round(timeout * 1000)),
            )
        except KafkaError as exc:
            raise BrokerUnavailable(
                f"no Kafka broker answered at {self.bootstrap} within {timeout:g} s ({exc})"
            ) from None
        self._buffers: dict[TopicPartition, deque[Record]] = {}
        self._ends: dict[TopicPartition, int] = {}

    def __enter__(self) -> RangeReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.consumer.close()

    def partitions(self, topic: str) -> list[TopicPartition]:
        return [
            TopicPartition(topic, p)
            for p in sorted(self.consumer.partitions_for_topic(topic) or ())
        ]

    def starts_at(self, tps: list[TopicPartition], ts_ms: int) -> dict[TopicPartition, int | None]:
        """``offsets_for_times``: the first offset with a timestamp >= ``ts_ms`` (None: none)."""
        found = self.consumer.offsets_for_times({tp: ts_ms for tp in tps})
        return {tp: None if found.get(tp) is None else found[tp].offset for tp in tps}

    def open(self, starts: dict[TopicPartition, int | None]) -> None:
        """Assign ``starts``' partitions, positioned at their offsets (None: at the end)."""
        self.consumer.assign(list(starts))
        for tp, offset in starts.items():
            if offset is None:
                self.consumer.seek_to_end(tp)
            else:
                self.consumer.seek(tp, offset)
        self._buffers = {tp: deque() for tp in starts}

    def ends(self, timeout: float = 30.0) -> dict[TopicPartition, int]:
        """The end of every assigned partition now (after :meth:`open`), from fetch responses;
        records fetched meanwhile stay buffered."""
        tps = list(self._buffers)
        ends: dict[TopicPartition, int] = {}
        quiet: dict[TopicPartition, float] = {tp: time.monotonic() for tp in tps}
        deadline = time.monotonic() + timeout
        while len(ends) < len(tps):
            got = self._poll([tp for tp in tps if tp not in ends])
            for tp in tps:
                if tp in ends:
                    continue
                highwater = self.consumer.highwater(tp)
                if tp in got:
                    quiet[tp] = time.monotonic()
                if highwater is not None:
                    ends[tp] = highwater
                elif time.monotonic() - quiet[tp] >= QUIET_S:
                    ends[tp] = self.position(tp)
            if time.monotonic() > deadline:
                raise BrokerUnavailable(
                    f"Kafka at {self.bootstrap}: no fetch answer in {timeout:g} s"
                )
        self._ends = ends
        return ends

    def position(self, tp: TopicPartition) -> int:
        """The offset of the next record :meth:`records` yields."""
        buffered = self._buffers[tp]
        return buffered[0].offset if buffered else self.consumer.position(tp)

    def _poll(self, wanted: Iterable[TopicPartition]) -> set[TopicPartition]:
        wanted = set(wanted)
        full = [tp for tp, b in self._buffers.items() if len(b) >= BUFFERED and tp not in wanted]
        self.consumer.pause(*full)
        self.consumer.resume(*[tp for tp in self._buffers if tp not in full])
        got = set()
        for tp, records in self.consumer.poll(timeout_ms=200).items():
            self._buffers[tp].extend(
                Record(r.partition, r.offset, r.timestamp, r.key, r.value or b"") for r in records
            )
            got.add(tp)
        return got

    def records(self, tp: TopicPartition, end: int) -> Iterator[Record]:
        """The records of ``tp`` before offset ``end``, in offset order, from its position."""
        buffered = self._buffers[tp]
        while True:
            while buffered:
                record = buffered.popleft()
                if record.offset >= end:
                    return
                yield record
            if self.consumer.position(tp) >= end:
                return
            self._poll([tp])

    def tail(self, tp: TopicPartition, offset: int) -> list[Record]:
        """Every record of ``tp`` from ``offset`` to its end now (for checking a target)."""
        self.open({tp: offset})
        return list(self.records(tp, self.ends()[tp]))


def read_range(settings: Settings, topics: Iterable[str], from_ms: int) -> Iterator[Record]:
    """Every record of ``topics`` from ``offsets_for_times(from_ms)`` (a lower bound) to the
    end now, partition by partition."""
    with RangeReader(settings) as reader:
        tps = [tp for topic in topics for tp in reader.partitions(topic)]
        if not tps:
            return
        reader.open(reader.starts_at(tps, from_ms))
        ends = reader.ends()
        for tp in tps:
            yield from reader.records(tp, ends[tp])
