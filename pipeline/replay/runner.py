"""The replay loop: source streams -> slices -> a fresh namespace, checkpointed after each slice.

No duplicate and no missing message after a kill -9, exactly:

- the output is deterministic: the checkpoint fixes the source bounds, and a slice's messages
  depend only on the source records from the saved positions on (slices.py);
- each message goes to an explicit target partition (the source partition modulo the target's
  partition count) and the producer is idempotent, so every target partition holds a prefix of
  what was sent to it, in order, without duplicates, even when the process dies mid-send;
- after a slice is acknowledged the checkpoint records the source positions and the number of
  messages in every target partition. A resumed replay rebuilds the next slice, reads each
  target partition from its saved count to its end, checks that those records are the first of
  that partition's messages in the slice (byte for byte) and sends only the rest.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from pipeline.kafka.admin import ensure_topics, list_topics
from pipeline.kafka.producer import ReadingProducer
from pipeline.registry import Registry
from pipeline.replay.checkpoint import Checkpoint, ReplayArgs, checkpoint_path
from pipeline.replay.kafka_range import RangeReader, Record
from pipeline.replay.slices import Outgoing, Selection, Stream, build_slice, decoders
from pipeline.replay.source import ReplaySource, kind_of, start_positions
from pipeline.settings import Settings
from pipeline.timeutil import HOUR_MS, label
from pipeline.topics import Topics

REPLAY_PREFIX = "replay-"
MAX_SLICE_MS = HOUR_MS  # not paced: one envelope per station and hour, like a backfill
PACED_SLICE_MS = 60_000


class ReplayError(RuntimeError):
    """The replay cannot run as asked; the message says why and what to do."""


def replay_id(namespace: str) -> str:
    """The id of a replay namespace ``replay-<id>``; ReplayError for another name."""
    if not namespace.startswith(REPLAY_PREFIX) or len(namespace) == len(REPLAY_PREFIX):
        raise ReplayError(f"--namespace {namespace!r}: a replay namespace is replay-<id>")
    return namespace[len(REPLAY_PREFIX) :]


def namespace_exists(settings: Settings, namespace: str) -> bool:
    return any(info.exists for info in list_topics(settings, namespace))


@dataclass
class Progress:
    """What the command shows: called after each slice with (event minutes, readings)."""

    advance: Callable[[float, int], None]


def _may_hold_records(bounds: dict[str, object]) -> bool:
    """Archive files may; a Kafka range does unless it is empty."""
    return "files" in bounds or bounds["end"] > bounds["start"]  # type: ignore[operator]


class Replay:
    """One replay into ``namespace``: :meth:`prepare` (new or resumed), then :meth:`run`."""

    def __init__(
        self, settings: Settings, namespace: str, args: ReplayArgs, registry: Registry
    ) -> None:
        replay_id(namespace)
        self.settings = settings.model_copy(update={"partitions": args.partitions})
        self.namespace, self.args, self.registry = namespace, args, registry
        self.path = checkpoint_path(settings.state_dir, namespace)
        self.topics = Topics(namespace)
        self.targets = {"air": self.topics.air_readings, "water": self.topics.water_readings}
        self.checkpoint: Checkpoint | None = None
        self.resumed = False

    def prepare(self, source: ReplaySource) -> Checkpoint:
        """Load the checkpoint of an unfinished replay with the same arguments, or plan a new
        one; refuses a namespace that exists otherwise."""
        if self.path.exists():
            checkpoint = Checkpoint.load(self.path)
            if checkpoint.done:
                raise ReplayError(
                    f"namespace {self.namespace} exists (its replay is complete): choose another "
                    f"id, or remove it with `envmon replay drop {replay_id(self.namespace)}`"
                )
            if checkpoint.args != self.args:
                raise ReplayError(
                    f"{self.namespace} has an unfinished replay with other arguments "
                    f"({checkpoint.args}); repeat them to resume it, or drop it first"
                )
            self.checkpoint, self.resumed = checkpoint, True
            return checkpoint
        if namespace_exists(self.settings, self.namespace):
            raise ReplayError(
                f"namespace {self.namespace} already exists: a replay needs a fresh one (choose "
                f"another id, or remove it with `envmon replay drop {replay_id(self.namespace)}`)"
            )
        plan = source.plan()
        if not any(_may_hold_records(bounds) for bounds in plan.values()):
            raise self._no_data()
        self.checkpoint = Checkpoint(
            self.namespace, self.args, plan, positions=start_positions(plan)
        )
        self.checkpoint.save(self.path)
        return self.checkpoint

    def _no_data(self) -> ReplayError:
        tz = self.settings.tz
        return ReplayError(
            f"no readings of {self.args.source_namespace} between "
            f"{label(self.args.from_ms, tz)} and {label(self.args.to_ms, tz)} "
            f"(source: {self.args.source}): nothing to replay"
        )

    def slices(self) -> list[tuple[int, int]]:
        """(start, end) of every slice, aligned to the slice length."""
        args = self.args
        bounds, start = [], args.from_ms
        while start < args.to_ms:
            end = min((start // args.slice_ms + 1) * args.slice_ms, args.to_ms)
            bounds.append((start, end))
            start = end
        return bounds

    def run(
        self, source: ReplaySource, producer: ReadingProducer, progress: Progress
    ) -> Checkpoint:
        checkpoint = self.checkpoint
        assert checkpoint is not None
        args = self.args
        selection = Selection(
            args.from_ms, args.to_ms, frozenset(args.stations) if args.stations else None
        )
        codecs = decoders(self.registry)
        iterators = source.open(checkpoint.plan, checkpoint.positions)
        streams = {
            key: Stream(kind_of(key), records, checkpoint.positions[key], codecs[kind_of(key)])
            for key, records in iterators.items()
        }
        present = self._present(checkpoint) if self.resumed else {}
        slices = self.slices()
        done_before = (
            slices[checkpoint.slice_index - 1][1] if checkpoint.slice_index else args.from_ms
        )
        progress.advance((done_before - args.from_ms) / 60_000, 0)
        factor = None if args.speed == "max" else float(args.speed)
        wall0, event0 = time.monotonic(), None
        topics_ready = self.resumed and namespace_exists(self.settings, self.namespace)
        for index in range(checkpoint.slice_index, len(slices)):
            start, end = slices[index]
            messages = build_slice(streams, selection, end, envelopes=factor is None)
            if factor is not None:
                event0 = start if event0 is None else event0
                time.sleep(max(0.0, wall0 + (start - event0) / 1000 / factor - time.monotonic()))
            if messages and not topics_ready:
                ensure_topics(self.settings, self.namespace)
                topics_ready = True
            readings = self._send(messages, producer, checkpoint.sent, present)
            producer.flush()
            checkpoint.slice_index = index + 1
            checkpoint.positions = {key: stream.position for key, stream in streams.items()}
            checkpoint.readings += readings
            checkpoint.messages += len(messages)
            checkpoint.done = index + 1 == len(slices)
            if checkpoint.done and not checkpoint.messages:
                self.path.unlink()
                raise self._no_data()
            checkpoint.save(self.path)
            present = {}
            progress.advance((end - start) / 60_000, readings)
        return checkpoint

    def _send(
        self,
        messages: list[Outgoing],
        producer: ReadingProducer,
        sent: dict[str, int],
        present: dict[str, deque[Record]],
    ) -> int:
        readings = 0
        for m in messages:
            topic, partition = self.targets[m.kind], m.partition % self.args.partitions
            where = f"{topic}/{partition}"
            there = present.get(where)
            if there:
                record = there.popleft()
                if (record.key, record.value) != (m.key, m.value):
                    raise ReplayError(
                        f"{topic} partition {partition} offset {record.offset} holds a record this "
                        "replay did not write: the target namespace was changed by someone else"
                    )
            else:
                producer.send(topic, m.key, m.value, partition)
            sent[where] = sent.get(where, 0) + 1
            readings += m.readings
        extra = {where: len(records) for where, records in present.items() if records}
        if extra:
            raise ReplayError(f"the target holds records this replay did not write: {extra}")
        return readings

    def _present(self, checkpoint: Checkpoint) -> dict[str, deque[Record]]:
        """What a killed run sent of the next slice: every target partition past its count."""
        with RangeReader(self.settings) as reader:
            tps = [tp for topic in self.targets.values() for tp in reader.partitions(topic)]
            if not tps:
                return {}
            reader.open({tp: checkpoint.sent.get(f"{tp.topic}/{tp.partition}", 0) for tp in tps})
            ends = reader.ends()
            return {f"{tp.topic}/{tp.partition}": deque(reader.records(tp, ends[tp])) for tp in tps}
