"""``envmon archive``: a consumer group writing a namespace's raw readings and dead letters to
daily files, offsets committed only after the files are fsynced.

One aiokafka consumer in group ``envmon-archive-{ns}`` (auto-commit off) reads
``{ns}.air.readings``, ``{ns}.water.readings`` and ``{ns}.deadletter``. Records are buffered per
file (day, kind, source partition); every ``flush_s`` seconds or ``flush_records`` records,
:class:`DailyFiles` appends one zstd frame per file and fsyncs it, and only then are the offsets
committed. On a rebalance the buffer is written and committed before the partitions go; at
shutdown too, and every file is closed. A crash loses nothing: uncommitted records come again
(files: pipeline/archive/files.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener

from pipeline.archive.config import ArchiveConfig
from pipeline.archive.files import ArchivedRecord, encode_line
from pipeline.archive.writer import DailyFiles, event_ms, local_day
from pipeline.kafka.consumer import group_consumer, group_id
from pipeline.settings import Settings
from pipeline.topics import Topics

log = logging.getLogger(__name__)


@dataclass
class ArchiveMetrics:
    """Counters since start, for logs and the health endpoint."""

    namespace: str
    records_archived: int = 0
    flushes: int = 0
    assigned: int = 0
    started: float = field(default_factory=time.time)

    def health(self) -> dict[str, object]:
        return {
            "status": "ok" if self.assigned else "starting",
            "namespace": self.namespace,
            "assigned_partitions": self.assigned,
            "records_archived": self.records_archived,
            "flushes": self.flushes,
            "uptime_s": round(time.time() - self.started, 1),
        }

    def prometheus(self) -> str:
        labels = f'{{namespace="{self.namespace}"}}'
        return (
            f"envmon_archive_records_total{labels} {self.records_archived}\n"
            f"envmon_archive_flushes_total{labels} {self.flushes}\n"
            f"envmon_archive_assigned_partitions{labels} {self.assigned}\n"
        )


Record = ConsumerRecord[bytes, bytes]


class Archiver(ConsumerRebalanceListener):
    """``await Archiver(settings, root, config).run(stop)`` archives until ``stop`` is set."""

    def __init__(self, settings: Settings, root: Path, config: ArchiveConfig) -> None:
        self.settings, self.config = settings, config
        topics = Topics(settings.namespace)
        self.kinds = {topics.air_readings: "air", topics.water_readings: "water"}
        self.kinds[topics.deadletter] = "deadletter"
        self.files = DailyFiles(root, settings.namespace, config.idle_close_s)
        self.metrics = ArchiveMetrics(settings.namespace)
        self._offsets: dict[TopicPartition, int] = {}
        self._buffered = 0
        self._since = time.monotonic()
        self.consumer: AIOKafkaConsumer

    async def run(self, stop: asyncio.Event) -> None:
        session_timeout_ms = self.config.session_timeout_ms
        self.consumer = group_consumer(
            self.settings,
            group_id("archive", self.settings.namespace),
            session_timeout_ms,
            heartbeat_interval_ms=min(1000, session_timeout_ms // 3),
        )
        self.consumer.subscribe(list(self.kinds), listener=self)
        await self.consumer.start()
        log.info("archive_started namespace=%s root=%s", self.settings.namespace, self.files.root)
        try:
            while not stop.is_set():
                fetched = await self.consumer.getmany(timeout_ms=200, max_records=10_000)
                for tp, records in fetched.items():
                    self._add(tp, records)
                if self._due():
                    await self._flush()
            await self._flush()
        finally:
            self.files.close()
            await self.consumer.stop()
        log.info("archive_stopped records_archived=%d", self.metrics.records_archived)

    def _add(self, tp: TopicPartition, records: list[Record]) -> None:
        kind = self.kinds[tp.topic]
        tz = self.settings.tz
        for r in records:
            value = r.value or b""
            ts = (event_ms(value) if kind != "deadletter" else None) or r.timestamp
            line = encode_line(ArchivedRecord.of(r.partition, r.offset, r.timestamp, r.key, value))
            self.files.append((local_day(ts, tz), kind, r.partition), line)
        self._offsets[tp] = records[-1].offset + 1
        self._buffered += len(records)

    def _due(self) -> bool:
        if not self._buffered:
            self._since = time.monotonic()
            return False
        age = time.monotonic() - self._since
        return self._buffered >= self.config.flush_records or age >= self.config.flush_s

    async def _flush(self) -> None:
        """Write and fsync the buffered records (in a thread), then commit their offsets."""
        if not self._offsets:
            return
        written = await asyncio.to_thread(self.files.sync)
        await self.consumer.commit(self._offsets)
        self.metrics.records_archived += written
        self.metrics.flushes += 1
        log.info(
            "archive_flushed records=%d open_files=%d total=%d",
            written,
            self.files.open_files,
            self.metrics.records_archived,
        )
        self._offsets, self._buffered, self._since = {}, 0, time.monotonic()

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        """Write and commit what was read before the partitions go to another member."""
        try:
            await self._flush()
        except Exception as exc:  # the commit can fail mid-rebalance: the records come again
            log.warning("archive_flush_on_revoke_failed error=%r records_will_repeat=true", exc)
            self.files.drop_pending()
            self._offsets, self._buffered = {}, 0

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        self.metrics.assigned = len(assigned)
        log.info("partitions_assigned count=%d", len(assigned))
