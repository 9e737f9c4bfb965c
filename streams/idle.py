"""Idle readings partitions follow the others' event time, driven by a Faust timer.

The agent reports each batch's partitions (:meth:`IdlePartitions.heard`); every quarter of
``ENVMON_WORKER_IDLE_PARTITION_S`` the timer moves the partitions of this worker that had no
message for that long up to the slowest active one's event time
(``air.liveness.PartitionClock.follow_idle``) and hands them, each with its last event (whose
partition the table writes go to), to the agent's callback: it closes silent stations' hours and
judges their offline rules as if a batch of that partition had come. An assigned partition that
is empty (end offset 0) and has sent nothing is handed over once, without an event, so that the
periods waiting for every partition's clock (district and city aggregates, the station board)
get its clock 0 ("nothing of its own") instead of waiting for their bound. The timer runs every
second at most: the empty partitions' report is what a fresh group's first hours wait for.
A revoked partition's stations are read from the table again when it comes back
(``PartitionClock.revoked``).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import faust
from faust.exceptions import ConsumerNotStarted
from faust.types import TP, EventT, StreamT

from streams.air.liveness import PartitionClock
from streams.context import AgentContext

OnIdle = Callable[[StreamT | None, dict[int, EventT | None]], Awaitable[None]]


class IdlePartitions:
    def __init__(self, ctx: AgentContext, topic: str, clock: PartitionClock, on_idle: OnIdle):
        self.clock, self.topic, self.on_idle = clock, topic, on_idle
        self.idle_s = ctx.settings.worker_idle_partition_s
        self._stream: StreamT | None = None
        self._last: dict[int, EventT] = {}
        self._empty_sent: set[int] = set()
        app = ctx.app

        @app.timer(interval=min(1.0, self.idle_s / 4), name=f"idle-partitions-{topic}")
        async def follow_idle() -> None:
            try:
                assigned = [tp for tp in app.consumer.assignment() if tp.topic == topic]
                empty = {tp.partition for tp in assigned if app.consumer.highwater(tp) == 0}
            except (ConsumerNotStarted, AssertionError):  # not started, or rebalancing
                return
            await self.follow({tp.partition for tp in assigned}, empty, time.monotonic())

        @app.on_partitions_revoked.connect
        async def forget(_app: faust.App, revoked: set[TP], **_: object) -> None:
            clock.revoked({tp.partition for tp in revoked if tp.topic == topic})

    def heard(self, stream: StreamT, last: dict[int, EventT]) -> None:
        """A batch came with these partitions' last events."""
        self._stream = stream
        now = time.monotonic()
        for partition, event in last.items():
            self.clock.heard(partition, now)
            self._last[partition] = event

    async def follow(self, assigned: set[int], empty: set[int], at_s: float) -> None:
        """Move the idle partitions among ``assigned`` and hand them, and the ``empty`` ones not
        handed yet, to the agent."""
        self.clock.keep(assigned)
        self._last = {p: e for p, e in self._last.items() if p in assigned}
        due: dict[int, EventT | None] = {
            p: self._last[p] for p in self.clock.follow_idle(at_s, self.idle_s)
        }
        for p in sorted(empty - self._empty_sent - self._last.keys()):
            due[p] = None
            self._empty_sent.add(p)
        if due:
            await self.on_idle(self._stream, due)
