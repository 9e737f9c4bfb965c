"""The water agent: readings -> water-quality results (rejects to the dead letters)."""

from __future__ import annotations

from pipeline.messages import Decoder
from pipeline.registry import StationKind
from streams.context import AgentContext
from streams.runtime import BATCH_MAX, BATCH_WITHIN_S
from streams.water.quality import WaterQuality


def register(ctx: AgentContext) -> None:
    decoder = Decoder(StationKind.WATER, ctx.registry)
    quality = WaterQuality(ctx.registry)
    out_topic = ctx.topics.water_quality

    @ctx.app.agent(ctx.topic(ctx.topics.water_readings), name="water-quality")
    async def water_quality(stream):  # type: ignore[no-untyped-def]
        async for events in stream.take_events(BATCH_MAX, BATCH_WITHIN_S):
            outbox = ctx.outbox()
            for _event, decoded in outbox.decoded(events, decoder):
                ctx.metrics.readings += len(decoded)
                for reading in decoded:
                    result = quality.assess(reading)
                    if result is not None:
                        outbox.add(out_topic, reading.station, result)
            await outbox.flush()
