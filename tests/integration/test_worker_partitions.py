"""``envmon worker`` refuses a partition count that is not its readings topics' own."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.settings import Settings
from pipeline.topics import Topics

pytestmark = pytest.mark.integration


def test_worker_names_the_setting_when_the_topics_have_another_partition_count(
    settings: Settings, topics: Topics
) -> None:
    env = {
        "ENVMON_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "ENVMON_NAMESPACE": settings.namespace,
        "ENVMON_PARTITIONS": "4",  # the topics have 3
    }
    done = CliRunner().invoke(app, ["worker"], env=env)
    assert done.exit_code == 2, done.output
    assert (
        f"ENVMON_PARTITIONS=4, but {topics.air_readings} has 3 partitions; "
        "set ENVMON_PARTITIONS=3" in done.output
    )
