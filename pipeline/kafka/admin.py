"""Create, list and delete the topics of a namespace (kafka-python's ``KafkaAdminClient``).

Each topic gets ``settings.partitions`` partitions, ``settings.replication_factor`` replicas and
configs by role: RAW topics keep ``raw_retention_days``, RESULT topics are kept forever, STATE
topics are compacted. Creating is idempotent: topics that exist are reported, not an error.

Tansu 0.6 stores topic configs without validating or enforcing them: it accepts unknown keys, its
memory engine deletes and compacts nothing, and it describes every config as a default. So
:func:`list_topics` asks for all configs, not only the "modified" ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient
from kafka.errors import KafkaError, TopicAlreadyExistsError, for_code

from pipeline.kafka.config import kafka_python_config
from pipeline.settings import Settings
from pipeline.topics import TopicRole, Topics

DAY_MS = 86_400_000
SHOWN_CONFIGS = ("cleanup.policy", "retention.ms")


class AdminError(RuntimeError):
    """A topic operation failed; the message says which topics and why."""


class BrokerUnavailable(AdminError):
    """No broker answered at the bootstrap servers."""


@dataclass(frozen=True)
class TopicReport:
    """Outcome of :func:`ensure_topics`, topic names in catalogue order."""

    created: list[str]
    existing: list[str]


@dataclass(frozen=True)
class TopicInfo:
    """A topic of the namespace as the broker describes it; ``partitions`` is 0 when missing."""

    name: str
    role: TopicRole
    partitions: int
    configs: dict[str, str]

    @property
    def exists(self) -> bool:
        return self.partitions > 0


def topic_configs(role: TopicRole, settings: Settings) -> dict[str, str]:
    """Topic configs for a role."""
    if role is TopicRole.RAW:
        return {"retention.ms": str(round(settings.raw_retention_days * DAY_MS))}
    if role is TopicRole.RESULT:
        return {"retention.ms": "-1"}
    return {"cleanup.policy": "compact"}


@contextmanager
def admin_client(settings: Settings, timeout: float = 10.0) -> Iterator[KafkaAdminClient]:
    """A connected admin client; Kafka errors inside the block become :class:`AdminError`.

    :class:`BrokerUnavailable` if no broker answers within ``timeout`` seconds.
    """
    timeout_ms = round(timeout * 1000)
    try:
        client = KafkaAdminClient(
            **kafka_python_config(settings),
            client_id="envmon-admin",
            bootstrap_timeout_ms=timeout_ms,
            request_timeout_ms=timeout_ms,
        )
    except KafkaError as exc:
        raise BrokerUnavailable(
            f"no Kafka broker answered at {settings.kafka_bootstrap} within {timeout:g} s ({exc})"
        ) from None
    try:
        yield client
    except KafkaError as exc:
        raise AdminError(f"Kafka at {settings.kafka_bootstrap}: {exc}") from None
    finally:
        client.close()


def ensure_topics(settings: Settings, namespace: str, timeout: float = 10.0) -> TopicReport:
    """Create every topic of ``namespace`` that does not exist yet."""
    specs = Topics(namespace).specs()
    wanted = {
        spec.name: {
            "num_partitions": settings.partitions,
            "replication_factor": settings.replication_factor,
            "configs": topic_configs(spec.role, settings),
        }
        for spec in specs
    }
    with admin_client(settings, timeout) as admin:
        response = admin.create_topics(wanted, raise_errors=False)
    errors = {
        t["name"]: (for_code(t["error_code"]), t["error_message"]) for t in response["topics"]
    }
    created, existing, failed = [], [], []
    for spec in specs:
        error, message = errors[spec.name]
        if error.errno == 0:
            created.append(spec.name)
        elif error is TopicAlreadyExistsError:
            existing.append(spec.name)
        else:
            failed.append(f"{spec.name}: {error.__name__} {message or ''}".strip())
    if failed:
        raise AdminError(
            f"could not create {len(failed)} topic(s) at {settings.kafka_bootstrap} "
            f"(created: {', '.join(created) or 'none'}):\n  " + "\n  ".join(failed)
        )
    return TopicReport(created, existing)


def list_topics(settings: Settings, namespace: str, timeout: float = 10.0) -> list[TopicInfo]:
    """Every topic of ``namespace`` with its partition count and retention configs."""
    specs = Topics(namespace).specs()
    with admin_client(settings, timeout) as admin:
        present = set(admin.list_topics())
        names = [spec.name for spec in specs if spec.name in present]
        if not names:
            return [TopicInfo(spec.name, spec.role, 0, {}) for spec in specs]
        described = {t["name"]: t for t in admin.describe_topics(names)}
        resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
        configs = admin.describe_configs(resources, config_filter="all")["topic"]
    return [
        TopicInfo(
            spec.name,
            spec.role,
            len(described[spec.name]["partitions"]) if spec.name in described else 0,
            {
                key: str(entry["value"])
                for key, entry in configs.get(spec.name, {}).items()
                if key in SHOWN_CONFIGS
            },
        )
        for spec in specs
    ]


def delete_topics(settings: Settings, namespace: str, timeout: float = 10.0) -> list[str]:
    """Delete the topics of ``namespace`` that exist; returns their names."""
    with admin_client(settings, timeout) as admin:
        present = set(admin.list_topics())
        names = [name for name in Topics(namespace).names() if name in present]
        if names:
            admin.delete_topics(names)
    return names
