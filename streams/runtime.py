"""What every agent shares: batches of events, the outbox of results, dead letters, state writes.

Agents read batches with ``stream.take_events`` (Faust's per-message cost is paid per batch) and
hand the decoded values to pure logic; the results go into an :class:`Outbox` that is sent before
the batch's offsets can be committed (Faust flushes its producer before every commit).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import faust
import msgspec
from faust.streams import current_event
from faust.types import EventT, StreamT

from pipeline.messages import Decoder, Reject, dead_letter_from
from streams.metrics import Metrics

BATCH_MAX = 2000
BATCH_WITHIN_S = 1.0
# A batch writes each key's state once: the more readings of a station it holds, the fewer
# changelog writes per reading (single-reading messages from 1,000 stations: ~0.5 write per
# reading at 2,000 messages, ~1 at 1,000, where they reach ~4,500 readings/s instead of ~6,300).
# Its messages stay in memory until it is done: 2,000 envelopes of 100 readings are ~20 MB raw,
# which keeps a worker with 10,000 stations under 300 MB (bench/bench_worker.py). Results come
# up to BATCH_WITHIN_S later, which hourly values can afford.

SKEW_HOURS = 24
"""How far the readings partitions may drift apart before the periods they all feed (district
and city aggregates, the station board) close without the slowest: the bound on the memory of
those periods when a partition stalls or a worker lags in a backfill."""

_encode = msgspec.json.Encoder().encode


class Outbox:
    """Results of one batch: (topic, key, value) triples sent together by :meth:`flush`."""

    def __init__(self, app: faust.App, deadletter_topic: str, metrics: Metrics) -> None:
        self.app = app
        self.deadletter_topic = deadletter_topic
        self.metrics = metrics
        self._pending: list[tuple[str, bytes | None, bytes]] = []

    def add(self, topic: str, key: str | bytes | None, value: msgspec.Struct | bytes) -> None:
        raw_key = key.encode() if isinstance(key, str) else key
        raw_value = value if isinstance(value, bytes) else _encode(value)
        self._pending.append((topic, raw_key, raw_value))

    def reject(self, reject: Reject, event: EventT) -> None:
        """A dead letter for ``event``'s message, with its coordinates and raw bytes."""
        message = event.message
        letter = dead_letter_from(
            reject,
            message.value or b"",
            message.topic,
            message.partition,
            message.offset,
            message.key,
            int(time.time() * 1000),
        )
        self.add(self.deadletter_topic, message.key, letter)
        self.metrics.rejected(reject.reason.value)

    def decoded(self, events: list[EventT], decoder: Decoder) -> Iterator[tuple[EventT, list]]:
        """Each event with its readings; a message that does not decode becomes a dead letter."""
        for event in events:
            self.metrics.messages += 1
            readings = decoder.decode(event.message.value)
            if isinstance(readings, Reject):
                self.reject(readings, event)
            else:
                yield event, readings

    async def flush(self) -> None:
        producer = self.app.producer
        for topic, key, value in self._pending:
            await producer.send(topic, key, value, partition=None, timestamp=None, headers=None)
        self.metrics.results += len(self._pending)
        self._pending.clear()


@contextmanager
def in_event(stream: StreamT, event: EventT) -> Iterator[None]:
    """Make ``event`` the current event while reading or writing a table.

    Faust routes a table write to the changelog partition of the current event, which
    ``take_events`` does not set (faust-streaming issue #497); we set it to the event whose
    partition owns the key. Reads need it too: the RocksDB store looks a key up only in the
    current event's partition, and while a batch is handled that is the last event *fetched*.
    """
    previous = current_event()  # the task's, not the stream's last fetched event
    stream._set_current_event(event)
    try:
        yield
    finally:
        stream._set_current_event(previous)


def last_event_per_key(events: list[EventT]) -> dict[Any, EventT]:
    """The last event of each message key in a batch (its partition owns the key's state)."""
    return {event.message.key: event for event in events}


def last_event_per_partition(events: list[EventT]) -> dict[int, EventT]:
    """The last event of each partition in a batch."""
    return {event.message.partition: event for event in events}
