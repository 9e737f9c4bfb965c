"""The producer layer: one small interface for every command that writes readings to Kafka.

Use it as a context manager, so what was accepted is flushed on exit, also on Ctrl-C::

    with open_producer(settings) as producer:
        for station_id, payload in readings:
            producer.send(topics.air_readings, station_id.encode(), payload)

A ``KeyboardInterrupt`` inside the block still flushes the records ``send`` accepted (a second
Ctrl-C stops the flush). Delivery failures are never silent: they are counted and the next
``flush`` raises :class:`ProducerUnavailable` (the broker did not acknowledge within
``delivery_timeout``) or :class:`DeliveryFailed` (the broker refused records).

Both backends key records by station id and keep each station's order. By default the producer
is idempotent (Tansu 0.6 and Kafka >= 0.11 grant producer ids and check sequences), so retries
after a broken connection neither duplicate nor reorder records. Setting
``ENVMON_PRODUCER_IDEMPOTENT=false`` trades that for throughput where the broker makes
idempotence slow (Tansu: 2.4× slower with librdkafka): one request in flight per connection
still keeps the order, and a retried record that arrives twice is dead-lettered as
``duplicate`` by the stream agents. While the broker is unreachable the
producer retries with backoff for up to ``delivery_timeout`` seconds; ``send`` blocks when
``max_pending`` records await acknowledgement, and gives up with :class:`ProducerUnavailable`
after ``delivery_timeout`` seconds.

Compression defaults to gzip: Tansu passes every codec through, but lz4, snappy and zstd need
extra libraries in every Python client that reads the topics (kafka-python, and aiokafka under
Faust), which envmon does not install; gzip is in the standard library and shrinks JSON readings
several-fold.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Protocol, Self

from confluent_kafka import KafkaError as ConfluentError
from confluent_kafka import KafkaException
from confluent_kafka import Producer as ConfluentProducer
from kafka import KafkaProducer, codec
from kafka import errors as kafka_errors

from pipeline.kafka.config import confluent_config, kafka_python_config
from pipeline.settings import Settings

log = logging.getLogger(__name__)

Compression = Literal["none", "gzip", "snappy", "lz4", "zstd"]
DEFAULT_COMPRESSION: Compression = "gzip"
_KAFKA_PYTHON_UNAVAILABLE = (
    kafka_errors.KafkaTimeoutError,
    kafka_errors.KafkaConnectionError,
    kafka_errors.NetworkExceptionError,
    kafka_errors.RequestTimedOutError,
)
_KAFKA_PYTHON_CODECS = {
    "none": lambda: True,
    "gzip": codec.has_gzip,
    "snappy": codec.has_snappy,
    "lz4": codec.has_lz4,
    "zstd": codec.has_zstd,
}
_CONFLUENT_UNAVAILABLE = frozenset(
    {
        ConfluentError._MSG_TIMED_OUT,
        ConfluentError._TIMED_OUT,
        ConfluentError._TRANSPORT,
        ConfluentError._ALL_BROKERS_DOWN,
        ConfluentError.REQUEST_TIMED_OUT,
    }
)


class ProducerError(RuntimeError):
    """Records could not be handed to Kafka."""


class ProducerUnavailable(ProducerError):
    """The broker stayed unreachable past ``delivery_timeout``; the message names it."""


class DeliveryFailed(ProducerError):
    """The broker refused records."""


class ReadingProducer(Protocol):
    """What commands that produce readings use; see the module docstring."""

    sent: int
    delivered: int
    failed: int

    def send(self, topic: str, key: bytes, value: bytes, partition: int | None = None) -> None:
        """Queue one record (to ``partition``, else the key's); may block while the buffer is
        full."""

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every queued record is acknowledged; raise if any failed."""

    def close(self) -> None:
        """Release the client; records not flushed yet may fail."""

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def open_producer(
    settings: Settings,
    backend: str | None = None,
    *,
    compression: Compression = DEFAULT_COMPRESSION,
    linger_ms: int = 20,
    batch_size: int = 64 * 1024,
    delivery_timeout: float = 120.0,
    max_pending: int = 100_000,
) -> ReadingProducer:
    """A producer of ``backend`` (default ``settings.producer_backend``): kafka-python or confluent.

    ``delivery_timeout`` (seconds) bounds how long a record may wait for the broker, how long
    ``send`` may block and, for kafka-python, how long opening waits for the first broker.
    """
    backend = backend or settings.producer_backend
    options = _Options(compression, linger_ms, batch_size, delivery_timeout, max_pending)
    if backend == "kafka-python":
        return _KafkaPythonProducer(settings, options)
    if backend == "confluent":
        return _ConfluentProducer(settings, options)
    raise ValueError(f"unknown producer backend {backend!r}; use 'kafka-python' or 'confluent'")


@dataclass(frozen=True)
class _Options:
    """What :func:`open_producer` passes to either backend."""

    compression: Compression
    linger_ms: int
    batch_size: int
    delivery_timeout: float
    max_pending: int


class _Producer:
    """Counters, failure bookkeeping and the context manager shared by both backends."""

    def __init__(self, settings: Settings, delivery_timeout: float) -> None:
        self.bootstrap = settings.kafka_bootstrap
        self.delivery_timeout = delivery_timeout
        self.sent = self.delivered = self.failed = 0
        self._errors: list[tuple[BaseException, bool]] = []
        self._lock = threading.Lock()

    def _on_delivered(self) -> None:
        with self._lock:
            self.delivered += 1

    def _on_failed(self, error: BaseException, unavailable: bool) -> None:
        with self._lock:
            self.failed += 1
            self._errors.append((error, unavailable))

    def _unavailable(self, what: str, cause: object = None) -> ProducerUnavailable:
        because = f" (last error: {cause})" if cause else ""
        return ProducerUnavailable(
            f"Kafka broker unavailable at {self.bootstrap}: {what} "
            f"within {self.delivery_timeout:g} s{because}"
        )

    def _raise_failures(self) -> None:
        """Raise for the failures recorded since the last call, if any."""
        with self._lock:
            errors, self._errors = self._errors, []
        if not errors:
            return
        first = errors[0][0]
        if any(unavailable for _, unavailable in errors):
            raise self._unavailable(f"{len(errors)} record(s) not acknowledged", first)
        raise DeliveryFailed(f"Kafka at {self.bootstrap} refused {len(errors)} record(s): {first}")

    def flush(self, timeout: float | None = None) -> None:
        if not self._flush(timeout):
            raise ProducerError(
                f"records still unacknowledged by Kafka at {self.bootstrap} after {timeout:g} s"
            )
        self._raise_failures()

    def _flush(self, timeout: float | None) -> bool:
        """Wait for outstanding records; False if some are still pending after ``timeout``."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.flush()
        finally:
            self.close()


class _KafkaPythonProducer(_Producer):
    """kafka-python backend. Its buffer is unbounded in 3.x, so ``max_pending`` is counted here."""

    def __init__(self, settings: Settings, options: _Options) -> None:
        super().__init__(settings, options.delivery_timeout)
        if not _KAFKA_PYTHON_CODECS[options.compression]():
            raise ProducerError(
                f"kafka-python finds no library for {options.compression} compression"
            )
        timeout_ms = round(options.delivery_timeout * 1000)
        self.max_pending = options.max_pending
        self._room = threading.Condition(self._lock)
        self._pending = 0
        try:
            self._producer = KafkaProducer(
                **kafka_python_config(settings),
                client_id="envmon-producer",
                acks="all",
                enable_idempotence=settings.producer_idempotent,
                max_in_flight_requests_per_connection=5 if settings.producer_idempotent else 1,
                compression_type=None if options.compression == "none" else options.compression,
                linger_ms=options.linger_ms,
                batch_size=options.batch_size,
                delivery_timeout_ms=timeout_ms,
                request_timeout_ms=max(1000, min(30_000, timeout_ms - options.linger_ms)),
                max_block_ms=timeout_ms,
                bootstrap_timeout_ms=timeout_ms,
                reconnect_backoff_max_ms=1000,
            )
        except _KAFKA_PYTHON_UNAVAILABLE:
            raise self._unavailable("no broker answered") from None
        except kafka_errors.KafkaError as exc:
            raise ProducerError(f"Kafka at {self.bootstrap}: {exc}") from None

    def send(self, topic: str, key: bytes, value: bytes, partition: int | None = None) -> None:
        deadline = time.monotonic() + self.delivery_timeout
        with self._room:
            while self._pending >= self.max_pending:
                if not self._room.wait(deadline - time.monotonic()):
                    raise self._unavailable(f"{self._pending} record(s) pending, none acknowledged")
            self._pending += 1
        try:
            future = self._producer.send(topic, key=key, value=value, partition=partition)
        except BaseException as exc:
            self._settle()
            if isinstance(exc, kafka_errors.KafkaTimeoutError):
                raise self._unavailable(f"no metadata for topic {topic!r}") from None
            raise
        with self._lock:
            self.sent += 1
        future.add_callback(self._ok).add_errback(self._error)

    def _settle(self) -> None:
        with self._room:
            self._pending -= 1
            self._room.notify()

    def _ok(self, _metadata: Any) -> None:
        self._settle()
        self._on_delivered()

    def _error(self, error: BaseException) -> None:
        self._settle()
        self._on_failed(error, isinstance(error, _KAFKA_PYTHON_UNAVAILABLE))

    def _flush(self, timeout: float | None) -> bool:
        try:
            self._producer.flush(timeout)
        except kafka_errors.KafkaTimeoutError:
            return False
        return True

    def close(self) -> None:
        self._producer.close(timeout=self.delivery_timeout)


class _ConfluentProducer(_Producer):
    """confluent-kafka backend; librdkafka bounds its queue at ``max_pending`` messages."""

    def __init__(self, settings: Settings, options: _Options) -> None:
        super().__init__(settings, options.delivery_timeout)
        config = {
            **confluent_config(settings),
            "client.id": "envmon-producer",
            "acks": "all",
            "enable.idempotence": settings.producer_idempotent,
            "max.in.flight.requests.per.connection": 5 if settings.producer_idempotent else 1,
            "compression.type": options.compression,
            # fastest gzip: 3.5x librdkafka's default level on readings here, a little larger
            "compression.level": 1 if options.compression == "gzip" else -1,
            "linger.ms": options.linger_ms,
            "batch.size": options.batch_size,
            "message.timeout.ms": round(options.delivery_timeout * 1000),
            "queue.buffering.max.messages": options.max_pending,
            "reconnect.backoff.max.ms": 1000,
            "logger": log,
        }
        try:
            self._producer = ConfluentProducer(config)
        except KafkaException as exc:
            raise ProducerError(f"Kafka at {self.bootstrap}: {exc}") from None

    def send(self, topic: str, key: bytes, value: bytes, partition: int | None = None) -> None:
        deadline = time.monotonic() + self.delivery_timeout
        where = {} if partition is None else {"partition": partition}
        while True:
            try:
                self._producer.produce(topic, value, key, on_delivery=self._on_delivery, **where)
                break
            except BufferError:
                if time.monotonic() > deadline:
                    raise self._unavailable(f"{len(self._producer)} record(s) queued") from None
                self._producer.poll(0.1)
        with self._lock:
            self.sent += 1
        self._producer.poll(0)

    def _on_delivery(self, error: ConfluentError | None, _message: Any) -> None:
        if error is None:
            self._on_delivered()
        else:
            self._on_failed(KafkaException(error), error.code() in _CONFLUENT_UNAVAILABLE)

    def _flush(self, timeout: float | None) -> bool:
        return self._producer.flush(-1 if timeout is None else timeout) == 0

    def close(self) -> None:
        self._producer.close()
