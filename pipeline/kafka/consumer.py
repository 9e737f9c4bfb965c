"""The aiokafka consumer every envmon service reads its topics with (sink, archive, notifier).

Each service is one consumer group that commits offsets by hand, only after its work is safe
(written to InfluxDB, fsynced, recorded in the outbox), and a new group starts from the earliest
offset so nothing produced before its first start is skipped.
"""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer

from pipeline.kafka.config import aiokafka_config
from pipeline.settings import Settings


def group_id(service: str, namespace: str) -> str:
    """The consumer group of an envmon service in a namespace, e.g. ``envmon-sink-env``."""
    return f"envmon-{service}-{namespace}"


def group_consumer(
    settings: Settings, group: str, session_timeout_ms: int, heartbeat_interval_ms: int
) -> AIOKafkaConsumer:
    """A consumer in ``group`` (also its client id): auto-commit off, earliest offset for a new
    group. aiokafka wants it made inside the running event loop."""
    return AIOKafkaConsumer(
        **aiokafka_config(settings),
        group_id=group,
        client_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=session_timeout_ms,
        heartbeat_interval_ms=heartbeat_interval_ms,
    )
