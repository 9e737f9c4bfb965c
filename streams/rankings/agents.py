"""The rankings agents: AQI and water-quality results -> ranking snapshots on ``{ns}.rankings``.

A board needs every subject in one place, while the results are keyed by subject (spread over
partitions). So the inputs go, keyed by the city key, to the internal topic
``{ns}.rankings.inputs`` (one partition), as lists of ``periods.RankInput``:

- the air aggregates agent sends the district days (``periods.rank_input``) it produced;
- ``rankings-forward`` (stateless) reads ``{ns}.air.periods`` (the air agent's batches of station
  hours, already keyed by the city key) and ``{ns}.water.quality`` (section readings) and sends
  what the boards need (``periods.station_hour``, ``periods.rank_input``), one list per batch;
- ``rankings`` reads that topic; all its table writes are made in the event of the one partition
  that holds the city key. State: ``rankings-state`` (one ``RankingsState``, key: the city key),
  ``rankings-air-days`` and ``rankings-section-months`` (one value per natural month, key
  ``"2026-11"``, so a day writes one small value; months no longer needed are deleted).
"""

from __future__ import annotations

import msgspec

from pipeline.messages import Reject, WaterQualityMessage
from pipeline.messages.reasons import RejectReason
from streams.air.hours import ClosedHour, PeriodBatch
from streams.context import AgentContext
from streams.rankings.boards import Boards, RankingsState
from streams.rankings.periods import (
    AirMonth,
    MonthStore,
    PartitionClocks,
    RankInput,
    SectionMonth,
    rank_input,
    station_hour,
)
from streams.runtime import BATCH_MAX, BATCH_WITHIN_S, SKEW_HOURS, in_event
from streams.state import StructTable

_DECODE_ERRORS = (msgspec.DecodeError, msgspec.ValidationError)
INPUTS_PER_MESSAGE = 5000  # ~400 kB of JSON: below Kafka's default message limit (1 MB)


def register(ctx: AgentContext) -> None:
    settings, topics = ctx.settings, ctx.topics
    city = ctx.registry.city.key
    boards = Boards(ctx.registry, settings.tz, lag_hours=SKEW_HOURS, partitions=settings.partitions)
    states = StructTable(ctx.table("rankings-state"), RankingsState, lambda _: RankingsState())
    air_days = StructTable(ctx.table("rankings-air-days"), AirMonth, lambda _: AirMonth())
    section_months = StructTable(
        ctx.table("rankings-section-months"), SectionMonth, lambda _: SectionMonth()
    )
    decode_water = msgspec.json.Decoder(WaterQualityMessage).decode
    decode_batch = msgspec.json.Decoder(PeriodBatch).decode
    decode_inputs = msgspec.json.Decoder(list[RankInput]).decode
    encode = msgspec.json.Encoder().encode
    raw = {
        "key_type": bytes,
        "value_type": bytes,
        "key_serializer": "raw",
        "value_serializer": "raw",
    }
    results = ctx.app.topic(topics.water_quality, topics.air_periods, **raw)
    inputs_name = topics.rankings_inputs
    inputs = ctx.app.topic(inputs_name, partitions=settings.partitions, **raw)

    @ctx.app.agent(results, name="rankings-forward")
    async def rankings_forward(stream):  # type: ignore[no-untyped-def]
        async for events in stream.take_events(BATCH_MAX, BATCH_WITHIN_S):
            outbox = ctx.outbox()
            items: list[RankInput] = []
            for event in events:
                value, topic = event.message.value, event.message.topic
                try:
                    if topic == topics.air_periods:
                        batch = decode_batch(value)
                        items += (
                            station_hour(closed, settings.standard, settings.tz)
                            for closed in batch.closed
                            if isinstance(closed, ClosedHour)
                        )
                        if batch.clocks:
                            items.append(PartitionClocks(batch.clocks))
                    elif (item := rank_input(decode_water(value))) is not None:
                        items.append(item)
                except _DECODE_ERRORS as exc:
                    outbox.reject(Reject(RejectReason.WRONG_TYPE, None, str(exc)), event)
            for start in range(0, len(items), INPUTS_PER_MESSAGE):
                outbox.add(inputs_name, city, encode(items[start : start + INPUTS_PER_MESSAGE]))
            await outbox.flush()

    @ctx.app.agent(inputs, name="rankings")
    async def rankings(stream):  # type: ignore[no-untyped-def]
        async for events in stream.take_events(BATCH_MAX, BATCH_WITHIN_S):
            outbox = ctx.outbox()
            state = states.get(city)
            air = MonthStore(air_days.get)
            water = MonthStore(section_months.get)
            for event in events:
                try:
                    items = decode_inputs(event.message.value)
                except _DECODE_ERRORS as exc:
                    outbox.reject(Reject(RejectReason.WRONG_TYPE, None, str(exc)), event)
                    continue
                for item in items:
                    for snapshot in boards.take(state, item, air, water):
                        outbox.add(topics.rankings, snapshot.board, snapshot)
            for snapshot in boards.flush(state):
                outbox.add(topics.rankings, snapshot.board, snapshot)
            with in_event(stream, events[-1]):  # every event has the city key: one partition
                states.put(city, state)
                for store, table in ((air, air_days), (water, section_months)):
                    for key in sorted(store.changed):
                        table.put(key, store.loaded[key])  # type: ignore[arg-type]
                    for key in sorted(store.dropped):
                        table.table.pop(key.encode(), None)
            await outbox.flush()
