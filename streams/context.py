"""What the agents of one app share: settings, registry, topics, metrics."""

from __future__ import annotations

from dataclasses import dataclass

import faust

from pipeline.registry import Registry
from pipeline.settings import Settings
from pipeline.topics import Topics
from streams.metrics import Metrics
from streams.runtime import Outbox


@dataclass
class AgentContext:
    app: faust.App
    settings: Settings
    registry: Registry
    topics: Topics
    metrics: Metrics

    def topic(self, name: str) -> faust.TopicT:
        """A raw-bytes Faust topic (we decode with msgspec ourselves)."""
        return self.app.topic(
            name, key_type=bytes, value_type=bytes, value_serializer="raw", key_serializer="raw"
        )

    def table(self, name: str) -> faust.Table:
        """A changelogged table of raw bytes (values are msgspec-encoded by the agents)."""
        return self.app.Table(
            name,
            key_type=bytes,
            value_type=bytes,
            partitions=self.settings.partitions,
        )  # the app's key and value serializers are "raw"

    def outbox(self) -> Outbox:
        return Outbox(self.app, self.topics.deadletter, self.metrics)
