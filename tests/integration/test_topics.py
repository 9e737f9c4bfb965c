"""Topic administration against a real Tansu broker: create, list, delete, and the CLI."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.kafka.admin import (
    BrokerUnavailable,
    delete_topics,
    ensure_topics,
    list_topics,
    topic_configs,
)
from pipeline.settings import Settings, load_settings
from pipeline.topics import Topics
from tests.fixtures.servers import free_port

pytestmark = pytest.mark.integration


def test_create_makes_every_topic_with_its_partitions_and_configs(settings: Settings) -> None:
    report = ensure_topics(settings, settings.namespace)

    assert report.created == list(Topics(settings.namespace).names())
    assert report.existing == []
    listed = list_topics(settings, settings.namespace)
    assert [t.name for t in listed] == report.created
    for topic in listed:
        assert topic.partitions == settings.partitions
        assert topic.configs == topic_configs(topic.role, settings)


def test_create_again_reports_existing_topics(settings: Settings) -> None:
    first = ensure_topics(settings, settings.namespace)
    again = ensure_topics(settings.model_copy(update={"partitions": 5}), settings.namespace)

    assert again.created == []
    assert again.existing == first.created
    assert {t.partitions for t in list_topics(settings, settings.namespace)} == {3}


def test_delete_removes_the_namespace_topics_only(settings: Settings, topics: Topics) -> None:
    other = settings.model_copy(update={"namespace": f"{settings.namespace}x"})
    ensure_topics(other, other.namespace)

    assert delete_topics(settings, settings.namespace) == list(topics.names())
    assert not any(t.exists for t in list_topics(settings, settings.namespace))
    assert all(t.exists for t in list_topics(other, other.namespace))
    assert delete_topics(settings, settings.namespace) == []


def test_unreachable_broker_is_named() -> None:
    bootstrap = f"127.0.0.1:{free_port()}"
    settings = load_settings(env={}, kafka_bootstrap=bootstrap)

    with pytest.raises(BrokerUnavailable, match=bootstrap):
        ensure_topics(settings, "env", timeout=1)


def test_cli_creates_lists_and_deletes(settings: Settings) -> None:
    runner = CliRunner()
    env = {"ENVMON_KAFKA_BOOTSTRAP": settings.kafka_bootstrap}
    ns = settings.namespace

    created = runner.invoke(app, ["topics", "create", "-n", ns, "--partitions", "2"], env=env)
    assert created.exit_code == 0, created.output
    assert f"{ns}.air.readings" in created.output and "created" in created.output

    listed = runner.invoke(app, ["topics", "list", "--namespace", ns], env=env)
    assert listed.exit_code == 0, listed.output
    assert f"{ns}.silences" in listed.output and "compact" in listed.output

    deleted = runner.invoke(app, ["topics", "delete", "-n", ns, "--yes"], env=env)
    assert deleted.exit_code == 0, deleted.output
    assert not any(t.exists for t in list_topics(settings, ns))


def test_cli_unreachable_broker_exits_2_without_traceback() -> None:
    bootstrap = f"127.0.0.1:{free_port()}"
    result = CliRunner().invoke(
        app, ["topics", "list", "--timeout", "1"], env={"ENVMON_KAFKA_BOOTSTRAP": bootstrap}
    )

    assert result.exit_code == 2
    assert result.output.startswith("error: ") and bootstrap in result.output
    assert "Traceback" not in result.output
