"""The sink's consumer loop: Kafka records -> InfluxDB points, offsets committed after the write.

One aiokafka consumer in group ``envmon-sink-{ns}`` (auto-commit off) reads the raw reading
topics, the result topics and the dead-letter topic of a namespace. Records become entries
(``points.routes``) in a batch that is written when it holds ``batch_points`` points or is
``linger_s`` old. One batch is written (in a thread, synchronously) while the next one fills;
then the records InfluxDB rejected and those that yield no points go to ``{ns}.deadletter`` and
only then are the batch's offsets committed. A crash replays at most the uncommitted batches,
which overwrite the same points.

When the next batch is full before the write is done, the loop waits for the write; aiokafka
keeps at most one fetch per partition buffered meanwhile. If the write takes longer than a
second (InfluxDB slow, or away: the write keeps the batch and retries with backoff), every
assigned partition is paused (bounded memory; aiokafka drops the buffered fetches of paused
partitions, which is why short waits do not pause) and ``getmany`` keeps the group membership
alive until the write goes through. The outage is logged once when it starts and once when it
ends, with the number of failed attempts.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import random
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field

import msgspec
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import KafkaError

from pipeline.kafka.admin import AdminError
from pipeline.kafka.config import aiokafka_config
from pipeline.kafka.consumer import group_consumer, group_id
from pipeline.messages import Reject, RejectReason, dead_letter_from
from pipeline.registry import Registry
from pipeline.settings import Settings
from pipeline.sinks.config import SinkConfig
from pipeline.sinks.health import serve_health
from pipeline.sinks.influx import (
    Backpressure,
    BatchWriter,
    Entry,
    InfluxUnavailable,
    InfluxWriter,
    PointsRejected,
    open_writer,
)
from pipeline.sinks.lag import consumer_lag
from pipeline.sinks.metrics import SinkMetrics
from pipeline.sinks.points import Route, Target, Unconvertible, routes
from pipeline.sinks.runs import influx_target, tagged
from pipeline.topics import Topics

log = logging.getLogger(__name__)


Record = ConsumerRecord[bytes, bytes]


@dataclass
class Batch:
    """Records read since the last write: their points, the records to dead-letter, the offsets
    to commit."""

    entries: list[Entry[Record]] = field(default_factory=list)
    rejects: list[tuple[Record, Reject]] = field(default_factory=list)
    offsets: dict[TopicPartition, int] = field(default_factory=dict)
    points: int = 0
    started: float = field(default_factory=time.monotonic)

    def __bool__(self) -> bool:
        return bool(self.offsets)


class Sink(ConsumerRebalanceListener):
    """``await Sink(settings, config).run(stop)`` consumes until ``stop`` is set."""

    def __init__(
        self,
        settings: Settings,
        config: SinkConfig,
        writer: InfluxWriter | None = None,
        group: str | None = None,  # default: envmon-sink-{namespace}
    ) -> None:
        self.settings = settings
        self.config = config
        self.topics = Topics(settings.namespace)
        self.group = group or group_id("sink", settings.namespace)
        self.metrics = SinkMetrics(settings.namespace, self.group)
        registry = Registry.load(settings.registry_file)
        # a replay namespace: points tagged run=<id>, into the replay database/bucket
        self.routes = tagged(
            routes(self.topics, registry, self.metrics.dead_letters), settings.namespace
        )
        self.influx = writer or open_writer(
            influx_target(settings), config.write_timeout_s, config.gzip
        )
        self.writer: BatchWriter[Record] = BatchWriter(self.influx, self.metrics, config.retry)
        self._batch = Batch()
        self._inflight: asyncio.Task[None] | None = None
        self.consumer: AIOKafkaConsumer
        self.producer: AIOKafkaProducer

    async def run(self, stop: asyncio.Event) -> None:
        self._open_clients()
        health = None
        if self.config.health_port is not None:
            health = serve_health(self.metrics, self.config.health_host, self.config.health_port)
            log.info("health_endpoint url=http://%s:%d/health", *health.server_address[:2])
        reporter = None
        try:
            await self.producer.start()
            self.consumer.subscribe(list(self.routes), listener=self)
            await self.consumer.start()
            _quiet_gc()
            reporter = asyncio.create_task(self._report_every())
            log.info("sink_started namespace=%s group=%s", self.settings.namespace, self.group)
            await self._consume(stop)
            await self._drain()
        finally:
            if reporter is not None:
                reporter.cancel()
            await self.consumer.stop()
            await self.producer.stop()
            self.influx.close()
            if health is not None:
                health.shutdown()
        log.info("sink_stopped points_written=%d", self.metrics.points_written)

    def _open_clients(self) -> None:
        """The Kafka clients; aiokafka wants them made inside the running event loop."""
        config = self.config
        self.consumer = group_consumer(
            self.settings, self.group, config.session_timeout_ms, config.heartbeat_interval_ms
        )
        self.producer = AIOKafkaProducer(
            **aiokafka_config(self.settings), client_id=self.group, acks="all"
        )

    async def _consume(self, stop: asyncio.Event) -> None:
        config = self.config
        while not stop.is_set():
            if self._inflight is not None and self._inflight.done():
                self._inflight.result()
                self._inflight = None
            batch = self._batch
            age = time.monotonic() - batch.started
            due = batch.points >= config.batch_points or (batch and age >= config.linger_s)
            if due and self._inflight is None:
                self._inflight = asyncio.create_task(self._deliver(batch))
                self._batch = batch = Batch()
                # getmany returns buffered records without yielding: start the write now
                await asyncio.sleep(0)
            if batch.points >= config.batch_points:  # full: wait for the write
                done, _ = await asyncio.wait({self._inflight}, timeout=1)  # type: ignore[arg-type]
                if not done:  # InfluxDB slow or away: pause, getmany keeps the membership
                    self._pause(True)
                    await self.consumer.getmany(timeout_ms=0)
                continue
            self._pause(False)
            wait = config.linger_s - age if batch else config.linger_s
            fetched = await self.consumer.getmany(
                timeout_ms=max(10, int(wait * 1000)), max_records=config.batch_points - batch.points
            )
            if fetched and not batch:
                batch.started = time.monotonic()  # linger counts from the first record
            for tp, records in fetched.items():
                self._add(batch, self.routes[tp.topic], records)
                batch.offsets[tp] = records[-1].offset + 1
                self.metrics.records_read += len(records)

    def _add(self, batch: Batch, route: Route, records: list[Record]) -> None:
        """The records (of one partition) as entries of the batch, or as its rejects."""
        convert, target, entries = route.convert, route.target, batch.entries
        points = 0
        for record in records:
            try:
                lines = convert(record.value or b"")
            except Unconvertible as exc:
                if exc.dead_letter:
                    batch.rejects.append((record, exc.reject))
                else:
                    self.metrics.records_skipped += 1
                continue
            entries.append(Entry(target, lines, record))
            points += len(lines)
        batch.points += points

    def _pause(self, pause: bool) -> None:
        if pause:
            self.consumer.pause(*self.consumer.assignment())
        elif paused := self.consumer.paused():
            self.consumer.resume(*paused)

    async def _deliver(self, batch: Batch) -> None:
        """Write, dead-letter, commit; retries through an outage of InfluxDB."""
        failures = 0
        while True:
            try:
                rejected = await asyncio.to_thread(self.writer.write, batch.entries)
                break
            except Backpressure as exc:
                failures += 1
                self._outage(exc, failures)
                delay = self.config.retry.delay(failures, exc.retry_after, random.random)
                await asyncio.sleep(delay)
        if failures:
            self._recovered(failures)
        rejects = batch.rejects + [
            (entry.source, Reject(RejectReason.INFLUX_REJECTED, None, message))
            for entry, message in rejected
        ]
        await self._dead_letter(rejects)
        try:
            await self.consumer.commit(batch.offsets)
        except KafkaError as exc:  # partitions revoked meanwhile: their records come again
            log.warning("commit_failed error=%r records_will_repeat=true", exc)
            return
        self.metrics.batches_written += 1

    def _outage(self, exc: Backpressure, failures: int) -> None:
        self.metrics.last_error = exc.reason
        if failures == 1:
            self.metrics.outages += 1
            self.metrics.outage_since = time.monotonic()
            log.warning(
                "influx_unavailable reason=%r action=pause_consumption outages=%d",
                exc.reason,
                self.metrics.outages,
            )

    def _recovered(self, failures: int) -> None:
        since = self.metrics.outage_since or time.monotonic()
        self.metrics.outage_since = None
        log.warning(
            "influx_recovered after_s=%.1f failed_attempts=%d action=resume_consumption",
            time.monotonic() - since,
            failures,
        )

    async def _dead_letter(self, rejects: list[tuple[Record, Reject]]) -> None:
        now_ms = int(time.time() * 1000)
        sent = []
        for record, reject in rejects:
            if record.topic == self.topics.deadletter:  # never dead-letter a dead letter
                log.error(
                    "dead_letter_not_stored partition=%d offset=%d reason=%r",
                    record.partition,
                    record.offset,
                    reject.detail,
                )
                continue
            letter = dead_letter_from(
                reject,
                record.value or b"",
                record.topic,
                record.partition,
                record.offset,
                record.key,
                now_ms,
            )
            value = msgspec.json.encode(letter)
            sent.append(await self.producer.send(self.topics.deadletter, value, key=record.key))
        await asyncio.gather(*sent)
        self.metrics.records_dead_lettered += len(sent)

    async def _drain(self) -> None:
        """At exit: finish the pending write and write the last batch, if InfluxDB takes them
        within ``stop_timeout_s``; what it does not take is read again at the next start."""

        async def finish() -> None:
            if self._inflight is not None:
                await self._inflight
            if self._batch:
                await self._deliver(self._batch)

        await _bounded(finish(), self.config.stop_timeout_s, "drain")

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        """Let the pending write commit, then drop the unwritten batch: a new owner (or this
        sink, when the partitions come back) reads it again from the committed offsets."""
        if self._inflight is not None:
            await _bounded(self._inflight, self.config.stop_timeout_s, "revocation")
            self._inflight = None
        self._batch = Batch()

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        self.metrics.assigned = len(assigned)
        log.info("partitions_assigned count=%d", len(assigned))

    async def _report_every(self) -> None:
        while True:
            await asyncio.sleep(self.config.report_interval_s)
            try:
                await self._report()
            except Exception as exc:  # best effort: the next report tries again
                log.warning("report_failed error=%r", exc)

    async def _report(self) -> None:
        """Refresh the lag of every group and write the ``pipeline`` measurement (best effort:
        a report InfluxDB does not take is skipped; the health endpoint still has it)."""
        high_water = {tp: self.consumer.highwater(tp) or 0 for tp in self.consumer.assignment()}
        try:
            self.metrics.lag = await asyncio.to_thread(consumer_lag, self.settings, high_water)
        except AdminError as exc:
            log.warning("lag_unavailable error=%r", str(exc))
        body = "\n".join(self.metrics.pipeline_points(time.time_ns()))
        try:
            await asyncio.to_thread(self.influx.write, Target.RESULTS, body)
        except (InfluxUnavailable, PointsRejected) as exc:
            log.debug("pipeline_report_skipped error=%r", str(exc))


def _quiet_gc() -> None:
    """The records of a batch live until it is written, so with the default thresholds every
    batch sets off dozens of collections that walk them again (~15% of the sink's CPU,
    ``bench/bench_sink.py``). What exists after startup (modules, registry, clients) lives as
    long as the process: frozen out of every pass; the youngest generation is collected every
    20,000 net allocations instead of 700 (cyclic garbage is rare here: records are freed by
    reference counting)."""
    gc.freeze()
    gc.set_threshold(20_000)


async def _bounded(work: Awaitable[None], timeout: float, what: str) -> None:
    try:
        await asyncio.wait_for(work, timeout)
    except TimeoutError:
        log.warning("%s_timeout after_s=%g uncommitted_records_will_repeat=true", what, timeout)
