"""The water agent: readings -> water-quality results, QC-flagged values and offline alerts
(rejects to the dead letters).

A section that stops reporting is found by ticks of its partition's event time
(``air.liveness.PartitionClock``, as for air stations): no data for the offline rule's number of
expected intervals fires ``station_offline``; its next reading resolves it. Its latest reading
(``WaterSeen``) is kept in a table, so that a worker that restarts, or is handed the partition,
still finds it silent.
"""

from __future__ import annotations

import msgspec

from pipeline.messages import Decoder
from pipeline.registry import StationKind
from streams.air.liveness import PartitionClock, Seen
from streams.alerts import AlertEngine, AlertState, LastSeen
from streams.context import AgentContext
from streams.idle import IdlePartitions
from streams.offline import Offline
from streams.qc import QcMessages
from streams.runtime import (
    BATCH_MAX,
    BATCH_WITHIN_S,
    Outbox,
    in_event,
    last_event_per_key,
    last_event_per_partition,
)
from streams.state import StructTable
from streams.water.quality import WaterQuality, device_flags

AlertStates = dict[str, AlertState]


class WaterSeen(msgspec.Struct, array_like=True, gc=False):
    """A section's latest reading time and interval, and the partition of its message."""

    station: str
    ts_ms: int = 0
    interval_ms: int = 0
    partition: int = -1

    def seen(self) -> Seen:
        """As the partition clock keeps it (no hours: "closed until" is unused)."""
        return Seen(self.partition, self.ts_ms, self.ts_ms, self.interval_ms)


def register(ctx: AgentContext, engine: AlertEngine) -> None:
    topics = ctx.topics
    decoder = Decoder(StationKind.WATER, ctx.registry)
    quality = WaterQuality(ctx.registry)
    qc_messages = QcMessages("water", ctx.registry)
    station_alerts = StructTable(ctx.table("water-station-alerts"), AlertStates, lambda _: {})
    last_seen = StructTable(ctx.table("water-stations"), WaterSeen, WaterSeen)
    offline = Offline(engine, topics.alerts)
    clock = PartitionClock(grace_ms=0)  # only its ticks: water has no hours to close

    @ctx.app.agent(ctx.topic(topics.water_readings), name="water-quality")
    async def water_quality(stream):  # type: ignore[no-untyped-def]
        async for events in stream.take_events(BATCH_MAX, BATCH_WITHIN_S):
            partitions = clock.unseeded({event.message.partition for event in events})
            if partitions:  # new to this worker: its sections from the table
                clock.seed(partitions, ((s.station, s.seen()) for s in last_seen.values()))
            outbox = ctx.outbox()
            touched: dict[str, WaterSeen] = {}
            for event, decoded in outbox.decoded(events, decoder):
                ctx.metrics.readings += len(decoded)
                for reading in decoded:
                    result = quality.assess(reading)
                    if result is not None:
                        outbox.add(topics.water_quality, reading.station, result)
                    if flags := device_flags(reading):
                        for message in qc_messages.of(reading, flags):
                            outbox.add(topics.qc, reading.station, message)
                    if (last := touched.get(reading.station)) is None:
                        with in_event(stream, event):
                            last = touched[reading.station] = last_seen.get(reading.station)
                    if reading.ts_ms >= last.ts_ms:
                        last.ts_ms, last.interval_ms = reading.ts_ms, reading.interval_s * 1000
                    last.partition = event.message.partition
            owners = last_event_per_key(events)
            for station, last in sorted(touched.items()):
                owner = owners[station.encode()]
                clock.learn(station, last.seen())
                with in_event(stream, owner):
                    last_seen.put(station, last)
                    states = station_alerts.get(station)
                    if offline.alerting(states):  # data is back: the offline alert resolves
                        seen = LastSeen(last.ts_ms, last.interval_ms)
                        offline.check(station, last.ts_ms, seen, states, outbox)
                        station_alerts.put(station, states)
            last_events = last_event_per_partition(events)
            idle.heard(stream, last_events)
            await check_offline(stream, last_events, outbox)

    async def check_offline(stream, last_events: dict, outbox: Outbox) -> None:  # type: ignore[no-untyped-def]
        """Judge the offline rules of these partitions' quiet stations when a tick is due;
        flush."""
        for partition, event in last_events.items():
            tick = clock.tick_due(partition)
            if tick is None:
                continue
            with in_event(stream, event):
                for station, (ts_ms, interval_ms) in clock.quiet(partition, tick).items():
                    states = station_alerts.get(station)
                    offline.check(station, tick, LastSeen(ts_ms, interval_ms), states, outbox)
                    station_alerts.put(station, states)
        await outbox.flush()

    async def on_idle(stream, last_events: dict) -> None:  # type: ignore[no-untyped-def]
        await check_offline(stream, last_events, ctx.outbox())

    idle = IdlePartitions(ctx, topics.water_readings, clock, on_idle)
