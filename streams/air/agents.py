"""Air agents: readings -> QC and station hours -> station AQI; station periods -> district and
city AQI and the hourly district ranking."""

from __future__ import annotations

import msgspec

from pipeline.messages import AqiMessage, Decoder, RankingMessage, Reject
from pipeline.registry import StationKind
from streams.air.aggregate import ScopeAggregator
from streams.air.hours import ClosedDay, ClosedHour, StationHours, station_aqi
from streams.air.liveness import HOUR_MS, PartitionClock
from streams.air.state import ScopeState, StationState
from streams.alerts import AlertEngine, AlertState, LastSeen, QcObservation
from streams.alerts.rules import OfflineRule, QcAnomalyRule
from streams.context import AgentContext
from streams.rankings.rank import Scored, rank
from streams.runtime import (
    BATCH_MAX,
    BATCH_WITHIN_S,
    Outbox,
    in_event,
    last_event_per_key,
    last_event_per_partition,
)
from streams.state import StructTable

Closed = ClosedHour | ClosedDay
AlertStates = dict[str, AlertState]


def register(ctx: AgentContext, engine: AlertEngine) -> None:
    settings, registry, topics = ctx.settings, ctx.registry, ctx.topics
    decoder = Decoder(StationKind.AIR, registry)
    hours = StationHours(settings.tz, grace_ms=int(settings.grace_minutes * 60_000))
    stations = StructTable(ctx.table("air-stations"), StationState, StationState)
    qc_alerts = StructTable(ctx.table("air-qc-alerts"), AlertStates, lambda _: {})
    scopes = StructTable(ctx.table("air-scopes"), ScopeState, lambda _: ScopeState())
    previous_ranks = StructTable(ctx.table("air-ranks"), dict[str, int], lambda _: {})
    aggregator = ScopeAggregator(registry, settings.standard, settings.tz)
    city = registry.city.key
    encode_closed = msgspec.json.Encoder().encode
    decode_closed = msgspec.json.Decoder(Closed).decode

    def emit_closed(outbox: Outbox, closed: Closed) -> None:
        station = registry.stations[closed.station]
        message = station_aqi(
            closed, station, registry.districts[station.district], settings.standard, settings.tz
        )
        if message is not None:
            outbox.add(topics.air_aqi, station.id, message)
        outbox.add(topics.air_periods, city, encode_closed(closed))

    clock = PartitionClock(hours.grace_ms)
    intervals: dict[str, int] = {}  # station -> its latest reading's interval, ms
    offline_rules = {r.name for r in engine.rules if isinstance(r, OfflineRule)}
    qc_rules = [r.name for r in engine.rules if isinstance(r, QcAnomalyRule)]

    def qc_settled(station: str, alert_states: AlertStates) -> bool:
        """No QC-anomaly alert pending or firing and no flag in its memory: an unflagged
        reading cannot change anything, so the rule need not run (it did for 30 % of the time)."""
        for name in qc_rules:
            state = alert_states.get(f"{name}|station:{station}")
            if state is not None and (state.status != "ok" or any(state.memory)):
                return False
        return True

    def offline_check(
        station: str, now_ms: int, last: LastSeen, alert_states: AlertStates, outbox: Outbox
    ) -> None:
        for alert in engine.on_tick(now_ms, {station: last}, alert_states):
            outbox.add(topics.alerts, station, alert)

    def alerting_offline(alert_states: AlertStates) -> bool:
        return any(
            key.split("|", 1)[0] in offline_rules and state.status != "ok"
            for key, state in alert_states.items()
        )

    def close_silent(stream, partition: int, event, outbox: Outbox) -> None:  # type: ignore[no-untyped-def]
        """Close the open hours of the partition's silent stations; check who is offline."""
        now = clock.now(partition)
        with in_event(stream, event):
            for station in clock.idle(partition):
                state = stations.get(station)
                for closed in hours.close_idle(state, now):
                    emit_closed(outbox, closed)
                stations.put(station, state)
                clock.saw(
                    partition,
                    station,
                    state.watermark_ms,
                    state.closed_until_ms,
                    intervals.get(station, HOUR_MS),
                )
            tick = clock.tick_due(partition)
            if tick is None:
                return
            for station, (last, interval) in clock.quiet(partition, tick).items():
                alert_states = qc_alerts.get(station)
                offline_check(station, tick, LastSeen(last, interval), alert_states, outbox)
                qc_alerts.put(station, alert_states)

    @ctx.app.agent(ctx.topic(topics.air_readings), name="air-hours")
    async def air_hours(stream):  # type: ignore[no-untyped-def]
        async for events in stream.take_events(BATCH_MAX, BATCH_WITHIN_S):
            outbox = ctx.outbox()
            touched: dict[str, tuple[StationState, AlertStates]] = {}
            for event, decoded in outbox.decoded(events, decoder):
                station = decoded[0].station
                if station not in touched:
                    with in_event(stream, event):
                        touched[station] = (stations.get(station), qc_alerts.get(station))
                state, alert_states = touched[station]
                intervals[station] = decoded[-1].interval_s * 1000
                for i, reading in enumerate(decoded):
                    taken = hours.ingest(state, reading)
                    if isinstance(taken, Reject):
                        where = f"readings[{i}].{taken.field}" if len(decoded) > 1 else taken.field
                        outbox.reject(Reject(taken.reason, where, taken.detail), event)
                        continue
                    ctx.metrics.readings += 1
                    for closed in taken.closed:
                        emit_closed(outbox, closed)
                    if not taken.flags and qc_settled(station, alert_states):
                        continue
                    flags = sorted({f.value for fs in taken.flags.values() for f in fs})
                    observation = QcObservation(station, reading.ts_ms, bool(flags), flags)
                    for alert in engine.on_qc(observation, alert_states):
                        outbox.add(topics.alerts, station, alert)
            owners = last_event_per_key(events)
            for station, (state, alert_states) in touched.items():
                owner = owners[station.encode()]
                if alerting_offline(alert_states):  # data is back: the offline alert resolves
                    last = LastSeen(state.watermark_ms, intervals[station])
                    offline_check(station, state.watermark_ms, last, alert_states, outbox)
                with in_event(stream, owner):
                    stations.put(station, state)
                    qc_alerts.put(station, alert_states)
                clock.saw(
                    owner.message.partition,
                    station,
                    state.watermark_ms,
                    state.closed_until_ms,
                    intervals[station],
                )
            for partition, event in last_event_per_partition(events).items():
                close_silent(stream, partition, event, outbox)
            ctx.metrics.table_sizes["air-stations"] = len(stations)
            await outbox.flush()

    @ctx.app.agent(ctx.topic(topics.air_periods), name="air-scopes")
    async def air_scopes(stream):  # type: ignore[no-untyped-def]
        async for events in stream.take_events(BATCH_MAX, BATCH_WITHIN_S):
            outbox = ctx.outbox()
            state = scopes.get(city)
            ranks = previous_ranks.get(DISTRICT_BOARD)
            for event in events:
                produced = aggregator.add(state, decode_closed(event.message.value))
                if isinstance(produced, Reject):
                    outbox.reject(produced, event)
                    continue
                for message in produced:
                    outbox.add(topics.air_aqi, message.subject, message)
                ranks = _rank_districts(outbox, produced, ranks, topics.rankings)
            with in_event(stream, events[-1]):
                scopes.put(city, state)
                previous_ranks.put(DISTRICT_BOARD, ranks)
            await outbox.flush()


DISTRICT_BOARD = "district_aqi_hour"


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
