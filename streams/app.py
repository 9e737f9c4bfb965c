"""The Faust app: ``create_app(settings)`` builds it with every agent of every domain package."""

from __future__ import annotations

import faust

from pipeline.registry import Registry
from pipeline.settings import Settings
from pipeline.topics import Topics
from streams.air import agents as air_agents
from streams.alerts import AlertEngine, load_rules
from streams.alerts import agents as alert_agents
from streams.context import AgentContext
from streams.metrics import Metrics
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
        web_host="127.0.0.1",
        broker_session_timeout=settings.consumer_session_timeout_s,
        broker_heartbeat_interval=min(3.0, settings.consumer_session_timeout_s / 5),
        key_serializer="raw",
        value_serializer="raw",
        autodiscover=False,
    )
    registry = registry or Registry.load(settings.registry_file)
    ctx = AgentContext(app, settings, registry, topics, Metrics())
    engine = AlertEngine(load_rules(settings.alert_rules_file), registry)
    air_agents.register(ctx, engine)
    water_agents.register(ctx)
    alert_agents.register(ctx, engine)
    ranking_agents.register(ctx)
    _register_views(ctx)
    return app


def _register_views(ctx: AgentContext) -> None:
    @ctx.app.page("/health")
    async def health(web, request):  # type: ignore[no-untyped-def]
        return web.json(ctx.metrics.health())

    @ctx.app.page("/metrics")
    async def metrics(web, request):  # type: ignore[no-untyped-def]
        return web.text(ctx.metrics.prometheus(), content_type="text/plain; version=0.0.4")
