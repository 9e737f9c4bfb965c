"""The water alerts agent: water-quality results -> alert transitions, state in a table.

Air alerts are judged where their inputs are made (``streams/air/agents.py``): station AQI with
the station's QC and offline alerts, district and city AQI by the aggregates agent.
"""

from __future__ import annotations

import msgspec

from pipeline.messages import WaterQualityMessage
from streams.alerts.evaluate import AlertEngine
from streams.alerts.lifecycle import AlertState
from streams.context import AgentContext
from streams.runtime import BATCH_MAX, BATCH_WITHIN_S, in_event, last_event_per_key
from streams.state import StructTable

AlertStates = dict[str, AlertState]


def register(ctx: AgentContext, engine: AlertEngine) -> None:
    topics = ctx.topics
    states = StructTable(ctx.table("alerts"), AlertStates, lambda _: {})
    decode_water = msgspec.json.Decoder(WaterQualityMessage).decode

    @ctx.app.agent(ctx.topic(topics.water_quality), name="alerts")
    async def alerts(stream):  # type: ignore[no-untyped-def]
        async for events in stream.take_events(BATCH_MAX, BATCH_WITHIN_S):
            outbox = ctx.outbox()
            touched: dict[str, AlertStates] = {}
            for event in events:
                key = event.message.key.decode()
                subject_states = touched.get(key)
                if subject_states is None:
                    with in_event(stream, event):
                        subject_states = touched[key] = states.get(key)
                produced = engine.on_water(decode_water(event.message.value), subject_states)
                for alert in produced:
                    outbox.add(topics.alerts, alert.subject.id, alert)
            owners = last_event_per_key(events)
            for key, subject_states in touched.items():
                with in_event(stream, owners[key.encode()]):
                    states.put(key, subject_states)
            await outbox.flush()
