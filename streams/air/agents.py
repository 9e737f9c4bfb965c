"""Air agents: readings -> QC and station hours -> station AQI and its alerts; station periods ->
district and city AQI, their alerts and the hourly district ranking.

Per batch the readings agent sends one :class:`PeriodBatch` to ``{ns}.air.periods`` (not one
message per station hour): each message another agent reads costs Faust a whole event, so the
station AQI alerts are judged here, with the station's other alert states, and the district and
city alerts by the aggregates agent, which also hands the district days to the rankings.
"""

from __future__ import annotations

from contextlib import nullcontext

import msgspec

from pipeline.messages import AqiMessage, Decoder, RankingMessage, Reject
from pipeline.messages.reasons import RejectReason
from pipeline.registry import StationKind
from streams.air.aggregate import ScopeAggregator
from streams.air.hours import Closed, PeriodBatch, StationHours, station_aqi
from streams.air.liveness import HOUR_MS, PartitionClock, Seen
from streams.air.scopestore import ScopeStore
from streams.air.state import StationState
from streams.alerts import AlertEngine, AlertState, LastSeen, QcObservation
from streams.alerts.rules import QcAnomalyRule
from streams.context import AgentContext
from streams.idle import IdlePartitions
from streams.offline import Offline
from streams.qc import QcMessages
from streams.rankings.periods import RankInput, rank_input
from streams.rankings.rank import Scored, rank
from streams.runtime import (
    BATCH_MAX,
    BATCH_WITHIN_S,
    SKEW_HOURS,
    Outbox,
    in_event,
    last_event_per_key,
    last_event_per_partition,
)
from streams.state import StructTable

AlertStates = dict[str, AlertState]
PERIODS_PER_MESSAGE = 1000  # ~300 kB of JSON: below Kafka's default message limit (1 MB)


def register(ctx: AgentContext, engine: AlertEngine) -> None:
    settings, registry, topics = ctx.settings, ctx.registry, ctx.topics
    decoder = Decoder(StationKind.AIR, registry)
    hours = StationHours(settings.tz, grace_ms=int(settings.grace_minutes * 60_000))
    qc_messages = QcMessages("air", registry)
    stations = StructTable(ctx.table("air-stations"), StationState, StationState)
    station_alerts = StructTable(ctx.table("air-station-alerts"), AlertStates, lambda _: {})
    n_air = len(registry.of_kind(StationKind.AIR))
    scopes = ScopeStore(ctx.table("air-scopes"), ctx.table("air-scope-periods"), n_air)
    scope_alerts = StructTable(ctx.table("air-scope-alerts"), AlertStates, lambda _: {})
    previous_ranks = StructTable(ctx.table("air-ranks"), dict[str, int], lambda _: {})
    aggregator = ScopeAggregator(
        registry, settings.standard, settings.tz, SKEW_HOURS, partitions=settings.partitions
    )
    city = registry.city.key
    encode = msgspec.json.Encoder().encode
    decode_batch = msgspec.json.Decoder(PeriodBatch).decode

    def emit_closed(
        outbox: Outbox, closed: Closed, alert_states: AlertStates, periods: list[Closed]
    ) -> None:
        station = registry.stations[closed.station]
        message = station_aqi(
            closed, station, registry.districts[station.district], settings.standard, settings.tz
        )
        if message is not None:
            outbox.add(topics.air_aqi, station.id, message)
            for alert in engine.on_aqi(message, alert_states):
                outbox.add(topics.alerts, station.id, alert)
        periods.append(closed)

    clock = PartitionClock(hours.grace_ms)
    offline = Offline(engine, topics.alerts)
    qc_rules = [r.name for r in engine.rules if isinstance(r, QcAnomalyRule)]

    def qc_settled(station: str, alert_states: AlertStates) -> bool:
        """No QC-anomaly alert pending or firing and no flag in its memory: an unflagged
        reading cannot change anything, so the rule need not run (it did for 30 % of the time)."""
        for name in qc_rules:
            state = alert_states.get(f"{name}|station:{station}")
            if state is not None and (state.status != "ok" or any(state.memory)):
                return False
        return True

    def close_silent(stream, partition: int, event, outbox: Outbox, periods: list[Closed]) -> int:  # type: ignore[no-untyped-def]
        """Close the open hours of the partition's silent stations; check who is offline.
        Returns the partition's clock for the aggregates (``PeriodBatch.clocks``)."""
        now = clock.settled(partition)
        with in_event(stream, event) if event is not None else nullcontext():  # None: empty
            for station in clock.idle(partition):
                state = stations.get(station)
                alert_states = station_alerts.get(station)
                for closed in hours.close_idle(state, now):
                    emit_closed(outbox, closed, alert_states, periods)
                stations.put(station, state)
                station_alerts.put(station, alert_states)
                clock.learn(station, _seen(partition, state))
            tick = clock.tick_due(partition)
            if tick is not None:
                for station, (last, interval) in clock.quiet(partition, tick).items():
                    alert_states = station_alerts.get(station)
                    offline.check(station, tick, LastSeen(last, interval), alert_states, outbox)
                    station_alerts.put(station, alert_states)
        return hours.boundary(now) if clock.now(partition) else 0  # 0: nothing of its own

    def seed(partitions: set[int]) -> None:
        """Read the stations of partitions new to this worker from the table (after recovery:
        this runs on their first batch)."""
        if new := clock.unseeded(partitions):
            clock.seed(new, ((s.station, _seen(s.source[0], s)) for s in stations.values()))

    @ctx.app.agent(ctx.topic(topics.air_readings), name="air-hours")
    async def air_hours(stream):  # type: ignore[no-untyped-def]
        async for events in stream.take_events(BATCH_MAX, BATCH_WITHIN_S):
            seed({event.message.partition for event in events})
            outbox = ctx.outbox()
            periods: list[Closed] = []
            touched: dict[str, tuple[StationState, AlertStates]] = {}
            for event, decoded in outbox.decoded(events, decoder):
                station = decoded[0].station
                if station not in touched:
                    with in_event(stream, event):
                        touched[station] = (stations.get(station), station_alerts.get(station))
                state, alert_states = touched[station]
                source = (event.message.partition, event.message.offset)
                if source[0] == state.source[0] and source[1] <= state.source[1]:
                    ctx.metrics.redelivered += 1  # read again after a crash: already taken
                    continue
                state.interval_ms = decoded[-1].interval_s * 1000
                for i, reading in enumerate(decoded):
                    taken = hours.ingest(state, reading)
                    if isinstance(taken, Reject):
                        where = f"readings[{i}].{taken.field}" if len(decoded) > 1 else taken.field
                        outbox.reject(Reject(taken.reason, where, taken.detail), event)
                        continue
                    ctx.metrics.readings += 1
                    state.accepted += 1
                    state.source = source
                    for closed in taken.closed:
                        emit_closed(outbox, closed, alert_states, periods)
                    if taken.flags:
                        for message in qc_messages.of(reading, taken.flags):
                            outbox.add(topics.qc, station, message)
                    elif qc_settled(station, alert_states):
                        continue
                    flags = sorted({f.value for fs in taken.flags.values() for f in fs})
                    observation = QcObservation(station, reading.ts_ms, bool(flags), flags)
                    for alert in engine.on_qc(observation, alert_states):
                        outbox.add(topics.alerts, station, alert)
            owners = last_event_per_key(events)
            for station, (state, alert_states) in touched.items():
                owner = owners[station.encode()]
                if offline.alerting(alert_states):  # data is back: the offline alert resolves
                    last = LastSeen(state.watermark_ms, state.interval_ms)
                    offline.check(station, state.watermark_ms, last, alert_states, outbox)
                with in_event(stream, owner):
                    stations.put(station, state)
                    station_alerts.put(station, alert_states)
                clock.learn(station, _seen(owner.message.partition, state))
            last_events = last_event_per_partition(events)
            idle.heard(stream, last_events)
            await send_periods(stream, last_events, outbox, periods)

    async def send_periods(  # type: ignore[no-untyped-def]
        stream, last_events: dict, outbox: Outbox, periods: list[Closed]
    ) -> None:
        """Close silent stations' hours of these partitions, send the batch's station periods
        with the partitions' clocks to the aggregates, and flush."""
        clocks = {
            partition: close_silent(stream, partition, event, outbox, periods)
            for partition, event in last_events.items()
        }
        for start in range(0, max(len(periods), 1), PERIODS_PER_MESSAGE):
            part = periods[start : start + PERIODS_PER_MESSAGE]
            last = start + PERIODS_PER_MESSAGE >= len(periods)  # the clocks come last
            outbox.add(topics.air_periods, city, encode(PeriodBatch(part, clocks if last else {})))
        await outbox.flush()

    async def on_idle(stream, last_events: dict) -> None:  # type: ignore[no-untyped-def]
        await send_periods(stream, last_events, ctx.outbox(), [])

    idle = IdlePartitions(ctx, topics.air_readings, clock, on_idle)

    @ctx.app.agent(ctx.topic(topics.air_periods), name="air-scopes")
    async def air_scopes(stream):  # type: ignore[no-untyped-def]
        async for events in stream.take_events(BATCH_MAX, BATCH_WITHIN_S):
            outbox = ctx.outbox()
            with in_event(stream, events[-1]):  # every event has the city key: one partition
                state = scopes.load(city)
                alert_states = scope_alerts.get(city)
                ranks = previous_ranks.get(DISTRICT_BOARD)
            days: list[RankInput] = []
            for event in events:
                try:
                    batch = decode_batch(event.message.value)
                except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                    outbox.reject(Reject(RejectReason.WRONG_TYPE, None, str(exc)), event)
                    continue
                produced: list[AqiMessage] = []
                for i, closed in enumerate(batch.closed):
                    added = aggregator.add(state, closed)
                    if isinstance(added, Reject):
                        where = f"closed[{i}].{added.field}"
                        outbox.reject(Reject(added.reason, where, added.detail), event)
                    else:
                        produced += added
                produced += aggregator.advance(state, batch.clocks)
                for message in produced:
                    outbox.add(topics.air_aqi, message.subject, message)
                    for alert in engine.on_aqi(message, alert_states):
                        outbox.add(topics.alerts, message.subject, alert)
                    if (item := rank_input(message)) is not None:
                        days.append(item)
                ranks = _rank_districts(outbox, produced, ranks, topics.rankings)
            if days:
                outbox.add(topics.rankings_inputs, city, encode(days))
            with in_event(stream, events[-1]):
                scopes.save(city, state)
                scope_alerts.put(city, alert_states)
                previous_ranks.put(DISTRICT_BOARD, ranks)
            await outbox.flush()


DISTRICT_BOARD = "district_aqi_hour"


def _seen(partition: int, state: StationState) -> Seen:
    """What the partition clock keeps of a station's state (no interval yet: an hour)."""
    interval = state.interval_ms or HOUR_MS
    return Seen(partition, state.watermark_ms, state.closed_until_ms, interval)


def _rank_districts(
    outbox: Outbox, produced: list[AqiMessage], ranks: dict[str, int], topic: str
) -> dict[str, int]:
    """A district ranking by hourly AQI for each hour whose district values were produced;
    returns the latest ranks (the base of the next rank change)."""
    by_hour: dict[int, list[AqiMessage]] = {}
    for m in produced:
        if m.scope == "district" and m.report == "hour":
            by_hour.setdefault(m.period_start_ms, []).append(m)
    for start, messages in sorted(by_hour.items()):
        scored = [
            Scored(m.subject, m.name_zh, m.name_en, float(m.aqi), m.valid_stations)
            for m in messages
        ]
        entries = rank(scored, ranks)
        snapshot = RankingMessage(
            board=DISTRICT_BOARD, period=messages[0].period_label, ts_ms=start, entries=entries
        )
        outbox.add(topic, DISTRICT_BOARD, snapshot)
        ranks = {e.subject: e.rank for e in entries}
    return ranks
