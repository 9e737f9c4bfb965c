"""The Faust app: ``create_app(settings)`` builds it with every agent of every domain package."""

from __future__ import annotations

import faust
from faust.exceptions import ConsumerNotStarted

from pipeline.registry import Registry
from pipeline.settings import Settings
from pipeline.topics import Topics
from streams.air import agents as air_agents
from streams.alerts import AlertEngine, load_rules
from streams.alerts import agents as alert_agents
from streams.context import AgentContext
from streams.metrics import Lag, Metrics
from streams.rankings import agents as ranking_agents
from streams.water import agents as water_agents


def create_app(settings: Settings, registry: Registry | None = None) -> faust.App:
    """A Faust app for ``settings.namespace``; nothing connects until a worker starts it."""
    topics = Topics(settings.namespace)
    store = "memory://" if settings.table_store == "memory" else "rocksdb://"
    app = faust.App(
        f"envmon-{settings.namespace}",
        broker=[f"kafka://{server}" for server in settings.kafka_bootstrap.split(",")],
        store=store,
        datadir=str(settings.state_dir / "faust" / settings.namespace),
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        web_port=settings.worker_web_port,
        web_host=settings.worker_web_host,
        broker_session_timeout=settings.consumer_session_timeout_s,
        broker_heartbeat_interval=min(3.0, settings.consumer_session_timeout_s / 5),
        producer_linger=0.005,  # results and changelogs go out in fewer, larger requests
        producer_max_batch_size=256 * 1024,
        consumer_max_fetch_size=256 * 1024,  # per partition and fetch (default 1 MB): with 10 kB
        # envelopes the fetched data is most of a worker's memory (10,000 stations: ~30 MB less)
        key_serializer="raw",
        value_serializer="raw",
        autodiscover=False,
    )
    registry = registry or Registry.load(settings.registry_file)
    ctx = AgentContext(app, settings, registry, topics, Metrics())
    engine = AlertEngine(load_rules(settings.alert_rules_file), registry)
    air_agents.register(ctx, engine)
    water_agents.register(ctx, engine)
    alert_agents.register(ctx, engine)
    ranking_agents.register(ctx)
    _register_views(ctx)
    return app


def _register_views(ctx: AgentContext) -> None:
    @ctx.app.page("/health")
    async def health(web, request):  # type: ignore[no-untyped-def]
        return web.json(ctx.metrics.health(lags(ctx.app), table_sizes(ctx.app)))

    @ctx.app.page("/metrics")
    async def metrics(web, request):  # type: ignore[no-untyped-def]
        text = ctx.metrics.prometheus(lags(ctx.app), table_sizes(ctx.app))
        return web.text(text, content_type="text/plain; version=0.0.4")


def lags(app: faust.App) -> dict[str, Lag]:
    """Per assigned topic-partition (``topic:partition``): the end offset the consumer last saw
    in a fetch response, the committed offset, and the messages between them.

    On Tansu the end offset can be too low (bench/tansu_end_offsets.py); lag is then floored
    at 0."""
    consumer, monitor = app.consumer, app.monitor
    result: dict[str, Lag] = {}
    try:
        assigned = sorted(consumer.assignment())
    except ConsumerNotStarted:
        return result
    for tp in assigned:
        end = consumer.highwater(tp)
        committed = monitor.tp_committed_offsets.get(tp)
        if end is None or end < 0:
            continue
        behind = end - (committed or 0)
        result[f"{tp.topic}:{tp.partition}"] = Lag(end, committed, max(behind, 0))
    return result


def table_sizes(app: faust.App) -> dict[str, int]:
    """Keys per table, in the partitions this worker holds (standby copies included)."""
    return {name: len(table) for name, table in sorted(app.tables.items())}
