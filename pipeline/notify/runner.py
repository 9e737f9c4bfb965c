"""``envmon notify``: the notifier service around :class:`~pipeline.notify.engine.Engine`.

- One aiokafka consumer in group ``envmon-notify-{ns}`` (auto-commit off) reads ``{ns}.alerts``
  and ``{ns}.alert-acks``. Each fetched batch is recorded in the outbox (one SQLite transaction)
  and only then are its offsets committed: a crash in between reads the batch again, and the
  delivery keys make that harmless. Undecodable records are logged and skipped (the sink
  dead-letters them).
- A second consumer, without a group, reads the compacted ``{ns}.silences`` from its beginning
  (every instance sees every silence); the first dispatch waits until it has caught up.
- A dispatcher plans and sends every ``tick_s`` and whenever new events arrived.
- Every ``report_interval_s`` the ``notifier`` measurement goes to InfluxDB when
  ``ENVMON_INFLUX_URL`` is set (best effort).
- The web endpoint (health, metrics, acknowledge links) on ``ENVMON_NOTIFIER_WEB_PORT``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable

import aiohttp
import msgspec
from aiohttp import web
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from pipeline.kafka.config import aiokafka_config
from pipeline.kafka.consumer import group_consumer, group_id
from pipeline.messages.notify import AlertAck
from pipeline.messages.results import AlertEvent
from pipeline.notify.channels import open_channel
from pipeline.notify.config import NotifierConfig, outbox_path
from pipeline.notify.engine import Engine
from pipeline.notify.metrics import NotifierMetrics
from pipeline.notify.outbox import Outbox
from pipeline.notify.render import LinkSettings, Renderer
from pipeline.notify.silences import SilenceBook, decode_silence
from pipeline.notify.subscriptions import Subscriptions
from pipeline.notify.web import AckService, make_app
from pipeline.registry import Registry
from pipeline.settings import Settings
from pipeline.sinks.influx import InfluxUnavailable, PointsRejected, open_writer
from pipeline.sinks.points import Target
from pipeline.timeutil import Clock, system_clock
from pipeline.topics import Topics

log = logging.getLogger(__name__)

decode_event = msgspec.json.Decoder(AlertEvent).decode
decode_ack = msgspec.json.Decoder(AlertAck).decode


def link_settings(settings: Settings) -> LinkSettings:
    secret = settings.ack_secret.get_secret_value() if settings.ack_secret else None
    return LinkSettings(
        settings.grafana_url,
        settings.notifier_public_url,
        secret,
        settings.notifier_ack_ttl_h * 3600,
    )


class Notifier:
    """``await Notifier(settings, subscriptions, config).run(stop)`` until ``stop`` is set."""

    def __init__(
        self,
        settings: Settings,
        subscriptions: Subscriptions,
        config: NotifierConfig,
        clock: Clock = system_clock,
    ) -> None:
        self.settings = settings
        self.subscriptions = subscriptions
        self.config = config
        self.clock = clock
        self.topics = Topics(settings.namespace)
        self.group = group_id("notify", settings.namespace)
        self.metrics = NotifierMetrics(
            settings.namespace,
            self.group,
            configured={s.channel_type for s in subscriptions.subscribers},
        )
        self.outbox = Outbox(outbox_path(settings))
        self.silences = SilenceBook()
        self.renderer = Renderer(
            Registry.load(settings.registry_file), link_settings(settings), settings.timezone
        )
        self._wake = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        kafka = aiokafka_config(self.settings)
        config = self.config
        consumer = group_consumer(
            self.settings, self.group, config.session_timeout_ms, config.heartbeat_interval_ms
        )
        silences = AIOKafkaConsumer(**kafka, client_id=f"{self.group}-silences")
        producer = AIOKafkaProducer(**kafka, client_id=self.group, acks="all")
        session = aiohttp.ClientSession()
        channels = {s.name: open_channel(s, session) for s in self.subscriptions.subscribers}
        engine = Engine(
            self.subscriptions,
            self.outbox,
            self.renderer,
            channels,
            self.silences,
            self.metrics,
            self.clock,
            retention_s=config.retention_days * 86_400,
        )
        tasks: list[asyncio.Task[None]] = []
        web_runner = None
        try:
            await producer.start()
            await silences.start()
            await consumer.start()
            await self._catch_up_silences(silences)
            consumer.subscribe([self.topics.alerts, self.topics.alert_acks])
            web_runner = await self._serve(producer)
            tasks = [
                asyncio.create_task(self._follow_silences(silences)),
                asyncio.create_task(self._dispatch(engine, stop)),
                asyncio.create_task(self._report()),
            ]
            log.info(
                "notifier_started namespace=%s group=%s subscribers=%d outbox=%s",
                self.settings.namespace,
                self.group,
                len(self.subscriptions.subscribers),
                outbox_path(self.settings),
            )
            await self._consume(consumer, engine, stop)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await _bounded(engine.settle(), self.config.stop_timeout_s)
            if web_runner is not None:
                await web_runner.cleanup()
            await consumer.stop()
            await silences.stop()
            await producer.stop()
            await session.close()
            self.outbox.close()
        log.info("notifier_stopped delivered=%d", self.metrics.get("delivered"))

    async def _consume(
        self, consumer: AIOKafkaConsumer, engine: Engine, stop: asyncio.Event
    ) -> None:
        while not stop.is_set():
            fetched = await consumer.getmany(timeout_ms=200, max_records=self.config.max_records)
            self.metrics.assigned = len(consumer.assignment())
            if not fetched:
                continue
            events: list[AlertEvent] = []
            acks: list[AlertAck] = []
            for tp, records in fetched.items():
                for record in records:
                    try:
                        if tp.topic == self.topics.alerts:
                            events.append(decode_event(record.value or b""))
                        else:
                            acks.append(decode_ack(record.value or b""))
                    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
                        log.warning(
                            "record_skipped topic=%s partition=%d offset=%d error=%r",
                            tp.topic,
                            tp.partition,
                            record.offset,
                            str(exc),
                        )
            engine.record(events)
            for ack in acks:
                engine.acknowledge(ack)
            offsets = {tp: records[-1].offset + 1 for tp, records in fetched.items()}
            try:
                await consumer.commit(offsets)
            except KafkaError as exc:  # revoked meanwhile: read again, and the keys drop them
                log.warning("commit_failed error=%r records_will_repeat=true", str(exc))
            self._wake.set()

    async def _catch_up_silences(self, consumer: AIOKafkaConsumer) -> None:
        """Assign every partition of the silences topic and read it up to its end offsets."""
        topic = self.topics.silences
        await consumer.topics()  # loads the metadata of every topic
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not partitions:
            log.warning("silences_topic_missing topic=%s hint='envmon topics create'", topic)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        deadline = time.monotonic() + 15

        async def behind() -> bool:
            return any([await consumer.position(tp) < end[tp] for tp in partitions])

        while time.monotonic() < deadline and await behind():
            self._apply_silences(await consumer.getmany(timeout_ms=200))

    async def _follow_silences(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            fetched = await consumer.getmany(timeout_ms=500)
            if fetched:
                self._apply_silences(fetched)
                self._wake.set()

    def _apply_silences(self, fetched: dict) -> None:  # type: ignore[type-arg]
        for records in fetched.values():
            for record in records:
                try:
                    value = decode_silence(record.value) if record.value else None
                except msgspec.DecodeError as exc:
                    log.warning("silence_skipped offset=%d error=%r", record.offset, str(exc))
                    continue
                self.silences.apply(record.key.decode() if record.key else "", value)
        self.metrics.silences_active = len(self.silences.active(int(self.clock() * 1000)))

    async def _dispatch(self, engine: Engine, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await engine.dispatch()
            except Exception:  # keep notifying; the next tick tries again
                log.exception("dispatch_error")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.config.tick_s)
            self._wake.clear()

    async def _report(self) -> None:
        if "influx_url" not in self.settings.model_fields_set:
            return
        writer = open_writer(self.settings, timeout=5.0)
        try:
            while True:  # the first report at once: rates need a point before the first burst
                body = "\n".join(self.metrics.points(time.time_ns()))
                if body:
                    try:
                        await asyncio.to_thread(writer.write, Target.RESULTS, body)
                    except (InfluxUnavailable, PointsRejected) as exc:
                        log.debug("notifier_report_skipped error=%r", str(exc))
                await asyncio.sleep(self.config.report_interval_s)
        finally:
            writer.close()

    async def _serve(self, producer: AIOKafkaProducer) -> web.AppRunner | None:
        if self.config.web_port is None:
            return None
        acks = None
        if self.settings.notifier_public_url and self.settings.ack_secret:
            topic = self.topics.alert_acks

            async def publish(ack: AlertAck) -> None:
                value = msgspec.json.encode(ack)
                await producer.send_and_wait(topic, value, key=ack.alert_id.encode())

            secret = self.settings.ack_secret.get_secret_value()
            acks = AckService(secret, publish, self.outbox, self.clock)
        runner = web.AppRunner(make_app(self.metrics, acks), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.config.web_host, self.config.web_port)
        await site.start()
        for sock in site._server.sockets if site._server else ():  # type: ignore[union-attr]
            log.info("web_endpoint url=http://%s:%d/health", *sock.getsockname()[:2])
        return runner


async def _bounded(work: Awaitable[None], timeout: float) -> None:
    try:
        await asyncio.wait_for(work, timeout)
    except TimeoutError:
        log.warning("stop_timeout after_s=%g unsent_notifications_resume_at_start=true", timeout)
