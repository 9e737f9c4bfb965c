"""The water agent: readings -> water-quality results, QC-flagged values and offline alerts
(rejects to the dead letters).

A section that stops reporting is found by ticks of its partition's event time
(``air.liveness.PartitionClock``, as for air stations): no data for the offline rule's number of
expected intervals fires ``station_offline``; its next reading resolves it.
"""

from __future__ import annotations

from pipeline.messages import Decoder
from pipeline.registry import StationKind
from streams.air.liveness import PartitionClock
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


def register(ctx: AgentContext, engine: AlertEngine) -> None:
    topics = ctx.topics
    decoder = Decoder(StationKind.WATER, ctx.registry)
    quality = WaterQuality(ctx.registry)
    qc_messages = QcMessages("water", ctx.registry)
    station_alerts = StructTable(ctx.table("water-station-alerts"), AlertStates, lambda _: {})
    offline = Offline(engine, topics.alerts)
    clock = PartitionClock(grace_ms=0)  # only its ticks: water has no hours to close
    last_seen: dict[str, LastSeen] = {}  # station -> latest reading time and interval

    @ctx.app.agent(ctx.topic(topics.water_readings), name="water-quality")
    async def water_quality(stream):  # type: ignore[no-untyped-def]
        async for events in stream.take_events(BATCH_MAX, BATCH_WITHIN_S):
            outbox = ctx.outbox()
            touched: set[str] = set()
            for _event, decoded in outbox.decoded(events, decoder):
                ctx.metrics.readings += len(decoded)
                for reading in decoded:
                    result = quality.assess(reading)
                    if result is not None:
                        outbox.add(topics.water_quality, reading.station, result)
                    if flags := device_flags(reading):
                        for message in qc_messages.of(reading, flags):
                            outbox.add(topics.qc, reading.station, message)
                    previous = last_seen.get(reading.station)
                    if previous is None or reading.ts_ms >= previous.ts_ms:
                        last_seen[reading.station] = LastSeen(
                            reading.ts_ms, reading.interval_s * 1000
                        )
                    touched.add(reading.station)
            owners = last_event_per_key(events)
            for station in sorted(touched):
                owner, last = owners[station.encode()], last_seen[station]
                partition = owner.message.partition  # no hours: "closed until" is unused
                clock.saw(partition, station, last.ts_ms, last.ts_ms, last.interval_ms)
                with in_event(stream, owner):
                    states = station_alerts.get(station)
                    if offline.alerting(states):  # data is back: the offline alert resolves
                        offline.check(station, last.ts_ms, last, states, outbox)
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
                for station in clock.quiet(partition, tick):
                    states = station_alerts.get(station)
                    offline.check(station, tick, last_seen[station], states, outbox)
                    station_alerts.put(station, states)
        await outbox.flush()

    async def on_idle(stream, last_events: dict) -> None:  # type: ignore[no-untyped-def]
        await check_offline(stream, last_events, ctx.outbox())

    idle = IdlePartitions(ctx, topics.water_readings, clock, on_idle)
