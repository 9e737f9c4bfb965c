"""``envmon gateway hj212``: the asyncio TCP server in front of HJ 212 data loggers.

Per connection: read (at most ``read_size`` bytes at a time), deframe, let the
:class:`~pipeline.hj212.receiver.Receiver` decide, then

- a rejected piece goes to ``{ns}.deadletter`` (reason, raw bytes, stream offset; keyed by MN,
  else the peer address) and is not answered (../shared/reference/hj212_2017.md §1.5, §5.2);
- a record becomes a reading on ``{ns}.air.readings`` / ``{ns}.water.readings``, keyed by
  station, and its answer (9014/9013) is written once the broker acknowledged the reading: a
  logger whose answer is lost or withheld resends, and the resend is answered without a second
  reading (duplicates by MN, CN, DataTime, PNO, also while the first is still in flight);
- answers go out in the order the frames came.

Readings and dead letters reach the producer layer through one :class:`Forwarder`, which sends
what accumulated while the previous batch was being flushed, on a worker thread. Limits: frames
up to ``ENVMON_HJ212_MAX_SEGMENT`` (the deframer holds at most one frame plus one read), at most
``ENVMON_HJ212_MAX_CONNECTIONS_PER_IP`` connections per address, partial frames become
``truncated`` after 60 s of silence (an envmon rule), silent connections close after
``ENVMON_HJ212_IDLE_TIMEOUT_S``. Health and metrics: ``/health``, ``/metrics``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import msgspec

from pipeline.hj212.convert import to_reading
from pipeline.hj212.devices import DeviceMap
from pipeline.hj212.frame import Deframer
from pipeline.hj212.metrics import GatewayMetrics
from pipeline.hj212.packet import sniff_mn
from pipeline.hj212.receiver import DedupeKey, Outcome, Receiver
from pipeline.kafka.producer import ProducerError, ReadingProducer, open_producer
from pipeline.messages import dead_letter_from, encode_reading
from pipeline.registry import StationKind
from pipeline.settings import Settings
from pipeline.sinks.health import serve_health
from pipeline.topics import Topics

log = logging.getLogger(__name__)

PARTIAL_TIMEOUT_S = 60.0  # envmon rule (reference §1.5): partial bytes -> truncated
SOURCE = "hj212"  # dead letters' source_topic

Record = tuple[str, bytes, bytes]  # topic, key, value


@dataclass(frozen=True)
class GatewayConfig:
    host: str = "127.0.0.1"
    port: int = 9212
    health_host: str = "127.0.0.1"
    health_port: int | None = 8789  # None: no endpoint; 0: any free port
    max_segment: int = 1024
    max_connections_per_ip: int = 16
    idle_timeout_s: float = 600.0
    partial_timeout_s: float = PARTIAL_TIMEOUT_S
    read_size: int = 65_536
    split_timeout_s: float = 120.0
    lenient_terminator: bool = False
    max_queued: int = 10_000  # submissions waiting for the producer before reads pause

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        host: str | None = None,
        port: int | None = None,
        health_port: int | None = None,
        no_health: bool = False,
    ) -> GatewayConfig:
        return cls(
            host=host or settings.hj212_host,
            port=settings.hj212_port if port is None else port,
            health_port=None
            if no_health
            else (settings.hj212_health_port if health_port is None else health_port),
            max_segment=settings.hj212_max_segment,
            max_connections_per_ip=settings.hj212_max_connections_per_ip,
            idle_timeout_s=settings.hj212_idle_timeout_s,
            partial_timeout_s=min(PARTIAL_TIMEOUT_S, settings.hj212_idle_timeout_s),
            read_size=settings.hj212_read_buffer_bytes,
            split_timeout_s=settings.hj212_split_timeout_s,
            lenient_terminator=settings.hj212_lenient_terminator,
        )


class Forwarder:
    """Sends submitted records through the producer layer in batches on a worker thread; each
    submission's future is True once the broker acknowledged its batch, False if it failed."""

    def __init__(self, producer: ReadingProducer, metrics: GatewayMetrics, max_queued: int):
        self.producer = producer
        self.metrics = metrics
        self._queue: asyncio.Queue[tuple[list[Record], asyncio.Future[bool]]] = asyncio.Queue(
            max_queued
        )

    async def submit(self, records: list[Record]) -> asyncio.Future[bool]:
        """Queue ``records`` (waits while the queue is full: reads pause)."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        await self._queue.put((records, future))
        return future

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            records = [r for records, _ in batch for r in records]
            ok = await loop.run_in_executor(None, self._deliver, records)
            self.metrics.broker_ok = ok
            for _, future in batch:
                if not future.done():
                    future.set_result(ok)

    async def drain(self) -> None:
        """Until everything queued was handed over and acknowledged (or failed)."""
        while not self._queue.empty():
            await asyncio.sleep(0.01)

    def _deliver(self, records: list[Record]) -> bool:
        try:
            for topic, key, value in records:
                self.producer.send(topic, key, value)
            self.producer.flush()
        except ProducerError as exc:
            self.metrics.produce_failures += 1
            log.error("produce_failed records=%d error=%r answers_withheld=true", len(records), exc)
            return False
        return True


class Gateway:
    def __init__(
        self,
        settings: Settings,
        devices: DeviceMap,
        config: GatewayConfig,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.config = config
        self.topics = Topics(settings.namespace)
        self.metrics = GatewayMetrics(settings.namespace)
        self.receiver = Receiver(
            devices,
            max_segment=config.max_segment,
            split_timeout_s=config.split_timeout_s,
            clock=clock,
        )
        self.port: int | None = None  # bound port, once listening
        self.ready = asyncio.Event()
        self._per_ip: Counter[str] = Counter()
        self._inflight: dict[DedupeKey, asyncio.Future[bool]] = {}
        self._forwarder: Forwarder | None = None

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        producer = await loop.run_in_executor(None, lambda: open_producer(self.settings))
        self._forwarder = Forwarder(producer, self.metrics, self.config.max_queued)
        tasks = [
            asyncio.create_task(self._forwarder.run()),
            asyncio.create_task(self._expire_splits()),
        ]
        health = None
        server = await asyncio.start_server(self._connection, self.config.host, self.config.port)
        try:
            self.port = server.sockets[0].getsockname()[1]
            if self.config.health_port is not None:
                health = serve_health(
                    self.metrics, self.config.health_host, self.config.health_port, "hj212"
                )
                log.info("health_endpoint url=http://%s:%d/health", *health.server_address[:2])
            log.info(
                "gateway_started host=%s port=%d namespace=%s devices=%d",
                self.config.host,
                self.port,
                self.settings.namespace,
                len(self.receiver.devices.devices) if self.receiver.devices else 0,
            )
            self.ready.set()
            await stop.wait()
        finally:
            server.close()
            await self._forwarder.drain()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if health is not None:
                health.shutdown()
            await loop.run_in_executor(None, producer.__exit__, None, None, None)
            log.info(
                "gateway_stopped readings_produced=%d frames_rejected=%d",
                self.metrics.readings_produced,
                self.metrics.frames_rejected,
            )

    # --- one connection ------------------------------------------------------------------------
    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername") or ("?", 0)
        ip, where = str(peer[0]), f"{peer[0]}:{peer[1]}"
        if self._per_ip[ip] >= self.config.max_connections_per_ip:
            self.metrics.connections_refused += 1
            log.warning("connection_refused peer=%s open_from_address=%d", where, self._per_ip[ip])
            writer.close()
            return
        self._per_ip[ip] += 1
        self.metrics.connections_opened += 1
        self.metrics.connections_open += 1
        log.info("connection_opened peer=%s", where)
        answers: asyncio.Queue[tuple[asyncio.Future[bool] | None, bytes | None] | None] = (
            asyncio.Queue()
        )
        answering = asyncio.create_task(self._answer(answers, writer, where))
        deframer = Deframer(self.config.lenient_terminator)
        try:
            while True:
                partial = deframer.pending > 0
                timeout = self.config.partial_timeout_s if partial else self.config.idle_timeout_s
                try:
                    data = await asyncio.wait_for(reader.read(self.config.read_size), timeout)
                except TimeoutError:
                    if partial:
                        await self._pieces(deframer.close(), where, answers)
                        continue
                    self.metrics.connections_idle_closed += 1
                    log.info("connection_idle peer=%s after_s=%g", where, timeout)
                    break
                if not data:
                    await self._pieces(deframer.close(), where, answers)
                    break
                self.metrics.bytes_received += len(data)
                await self._pieces(deframer.feed(data), where, answers)
        except (ConnectionError, OSError) as exc:
            log.info("connection_error peer=%s error=%r", where, str(exc))
        finally:
            await answers.put(None)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(answering, 30)
            writer.close()
            self._per_ip[ip] -= 1
            if not self._per_ip[ip]:
                del self._per_ip[ip]
            self.metrics.connections_open -= 1
            log.info("connection_closed peer=%s", where)

    async def _answer(
        self,
        answers: asyncio.Queue[tuple[asyncio.Future[bool] | None, bytes | None] | None],
        writer: asyncio.StreamWriter,
        where: str,
    ) -> None:
        """Write the answers in frame order, each once its reading is acknowledged."""
        while (item := await answers.get()) is not None:
            delivered, frame = item
            if delivered is not None and not await asyncio.shield(delivered):
                self.metrics.responses_withheld += frame is not None
                continue
            if frame is None or writer.is_closing():
                continue
            try:
                writer.write(frame)
                await writer.drain()
                self.metrics.responses_sent += 1
            except (ConnectionError, OSError) as exc:
                log.info("answer_failed peer=%s error=%r", where, str(exc))

    async def _pieces(self, pieces: list, where: str, answers: asyncio.Queue) -> None:  # type: ignore[type-arg]
        for piece in pieces:
            await self._outcome(self.receiver.receive(piece), where, answers)

    async def _outcome(self, outcome: Outcome, where: str, answers: asyncio.Queue) -> None:  # type: ignore[type-arg]
        if not outcome.accepted:
            await self._dead_letter(outcome, where)
            return
        self.metrics.frames_accepted += 1
        header = outcome.header
        assert header is not None
        inflight = next((self._inflight[k] for k in outcome.keys if k in self._inflight), None)
        if outcome.duplicate or inflight is not None:
            self.metrics.duplicates += 1
            log.info(
                "duplicate peer=%s mn=%s cn=%s qn=%s pno=%s",
                where,
                header.mn,
                header.cn,
                header.qn,
                header.pno,
            )
            await answers.put((inflight, outcome.response))
            return
        records = self._readings(outcome)
        if not records:
            self.receiver.commit(outcome.keys)
            await answers.put((None, outcome.response))
            return
        assert self._forwarder is not None
        delivered = await self._forwarder.submit(records)
        for key in outcome.keys:
            self._inflight[key] = delivered
        delivered.add_done_callback(lambda f, keys=outcome.keys: self._settled(f, keys))
        await answers.put((delivered, outcome.response))

    def _settled(self, delivered: asyncio.Future[bool], keys: tuple[DedupeKey, ...]) -> None:
        for key in keys:
            self._inflight.pop(key, None)
        if delivered.result():
            self.receiver.commit(keys)
            self.metrics.readings_produced += 1

    def _readings(self, outcome: Outcome) -> list[Record]:
        if outcome.record is None or outcome.device is None:
            return []
        conversion = to_reading(outcome.record, outcome.device)
        if conversion is None:
            return []
        self.metrics.values_unmapped += len(conversion.unmapped)
        if conversion.implausible:
            self.metrics.values_implausible += len(conversion.implausible)
            log.warning(
                "implausible_values mn=%s keys=%s (unit configured for the device?)",
                outcome.device.mn,
                ",".join(conversion.implausible),
            )
        reading = conversion.reading
        if reading is None:
            return []
        topic = (
            self.topics.air_readings
            if outcome.device.kind is StationKind.AIR
            else self.topics.water_readings
        )
        return [(topic, reading.station.encode(), encode_reading(reading))]

    async def _dead_letter(self, outcome: Outcome, where: str) -> None:
        reject = outcome.reject
        assert reject is not None
        self.metrics.frames_rejected += 1
        self.metrics.rejected_by_reason[reject.reason.value] += 1
        mn = outcome.header.mn if outcome.header else sniff_mn(outcome.raw)
        log.warning(
            "frame_rejected peer=%s mn=%s reason=%s offset=%d bytes=%d detail=%r",
            where,
            mn,
            reject.reason.value,
            outcome.offset,
            len(outcome.raw),
            reject.detail,
        )
        key = mn or where
        letter = dead_letter_from(
            reject, outcome.raw, SOURCE, -1, outcome.offset, key, int(time.time() * 1000)
        )
        assert self._forwarder is not None
        await self._forwarder.submit(
            [(self.topics.deadletter, key.encode(), msgspec.json.encode(letter))]
        )
        self.metrics.dead_letters_produced += 1

    async def _expire_splits(self) -> None:
        """Every second: the parts of split records that waited too long are dead-lettered."""
        while True:
            await asyncio.sleep(1.0)
            for outcome in self.receiver.expire():
                await self._dead_letter(outcome, "split-reassembly")
            self.metrics.splits_waiting = self.receiver.splits.waiting
